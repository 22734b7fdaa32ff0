//! The in-process producer: batching per partition, Kafka's partitioner, idempotent sequences.
//!
//! `send` adds a record to the open batch of its partition and returns a [`DeliveryFuture`]. A batch
//! ships when it reaches `batch_size` bytes, when `linger` has passed since its first record, or on
//! [`Producer::flush`]. Shipping happens on a sender thread that appends batches in order; an acker
//! thread waits for durability (sharing fsyncs across batches and producers) and completes the batch.
//! A batch's records share one completion: a delivery future costs a reference count, and nothing
//! at all is done for futures that are dropped unawaited.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::{Notify, mpsc};
use tracing::warn;

use crate::broker::{BrokerCore, PartitionRef, TopicEntry, now_ms};
use crate::client::partitioner::{StickyPartitioner, partition_for_key};
use crate::client::{ProducerRecord, ProducerRecordRef, RecordMetadata};
use crate::error::{Error, Result};
use crate::format::BatchBuilder;
use crate::log::AppendInfo;

/// Producer settings.
#[derive(Debug, Clone)]
pub struct ProducerConfig {
    /// Name used in logs.
    pub client_id: String,
    /// A batch ships once it holds this many bytes. Default 16384 (Kafka's `batch.size`).
    pub batch_size: usize,
    /// How long a batch waits for more records before it ships. Default 5 ms (`linger.ms`).
    pub linger: Duration,
    /// Whether batches carry a producer id and sequence numbers, so that the broker drops duplicates
    /// and rejects gaps. Default true (Kafka's `enable.idempotence`).
    pub enable_idempotence: bool,
    /// Batches shipped but not yet appended, before `send` waits. Default 64.
    pub max_queued_batches: usize,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        Self {
            client_id: "producer".to_string(),
            batch_size: 16384,
            linger: Duration::from_millis(5),
            enable_idempotence: true,
            max_queued_batches: 64,
        }
    }
}

impl ProducerConfig {
    /// Sets `batch_size` in bytes.
    pub fn batch_size(mut self, bytes: usize) -> Self {
        self.batch_size = bytes;
        self
    }
    /// Sets `linger`.
    pub fn linger(mut self, linger: Duration) -> Self {
        self.linger = linger;
        self
    }
    /// Turns idempotence on or off.
    pub fn idempotence(mut self, yes: bool) -> Self {
        self.enable_idempotence = yes;
        self
    }
}

/// The outcome of one batch, shared by the delivery futures of its records.
#[derive(Debug)]
struct BatchOutcome {
    topic: Arc<str>,
    partition: i32,
    state: Mutex<OutcomeState>,
}

#[derive(Debug, Default)]
struct OutcomeState {
    /// `(base offset, log append time or -1)` once appended and durable, or the error.
    result: Option<std::result::Result<(i64, i64), Error>>,
    wakers: Vec<Waker>,
}

impl BatchOutcome {
    fn complete(&self, result: std::result::Result<(i64, i64), Error>) {
        let wakers = {
            let mut st = self.state.lock();
            if st.result.is_some() {
                return;
            }
            st.result = Some(result);
            std::mem::take(&mut st.wakers)
        };
        for w in wakers {
            w.wake();
        }
    }
}

/// Completes a batch with [`Error::Shutdown`] if it is dropped before being completed (the
/// producer's threads went away), so no delivery future waits forever.
#[derive(Debug)]
struct Completion(Arc<BatchOutcome>);

impl Drop for Completion {
    fn drop(&mut self) {
        self.0.complete(Err(Error::Shutdown));
    }
}

/// Completes when the record is acknowledged (durable, in sync-on-ack mode) or failed.
#[derive(Debug)]
pub struct DeliveryFuture {
    outcome: Arc<BatchOutcome>,
    index: u32,
    timestamp: i64,
}

impl Future for DeliveryFuture {
    type Output = Result<RecordMetadata>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut st = self.outcome.state.lock();
        match &st.result {
            Some(Ok((base, append_time))) => Poll::Ready(Ok(RecordMetadata {
                topic: self.outcome.topic.to_string(),
                partition: self.outcome.partition,
                offset: base + i64::from(self.index),
                timestamp: if *append_time >= 0 { *append_time } else { self.timestamp },
            })),
            Some(Err(e)) => Poll::Ready(Err(e.duplicate())),
            None => {
                if !st.wakers.iter().any(|w| w.will_wake(cx.waker())) {
                    st.wakers.push(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }
}

#[derive(Debug)]
struct OpenBatch {
    id: u64,
    /// Position of this batch among its partition's batches (0, 1, 2, ...): the sender appends a
    /// partition's batches in this order, whatever order they reach it in.
    number: u64,
    builder: BatchBuilder,
    completion: Completion,
    records: u32,
}

/// A topic as the producer sees it: its partitions and their open batches.
#[derive(Debug)]
struct TopicState {
    entry: Arc<TopicEntry>,
    topic: Arc<str>,
    partitions: Vec<PartitionRef>,
    open: Vec<Option<OpenBatch>>,
    /// The number the next batch of each partition gets.
    next_number: Vec<u64>,
    sticky: StickyPartitioner,
    /// The topic's `max.message.bytes`, refreshed with the partitions.
    max_message_bytes: usize,
    /// Sends since the metadata (partition count, limits) was last refreshed.
    sends_since_refresh: u32,
}

impl TopicState {
    fn new(entry: Arc<TopicEntry>) -> Self {
        let partitions = entry.partitions();
        let topic: Arc<str> = Arc::from(entry.name.as_str());
        let max_message_bytes = entry_max(&entry);
        Self {
            entry,
            topic,
            open: partitions.iter().map(|_| None).collect(),
            next_number: vec![0; partitions.len()],
            partitions,
            sticky: StickyPartitioner::default(),
            max_message_bytes,
            sends_since_refresh: 0,
        }
    }

    /// Picks up partitions added and configs changed since the last look. Like Kafka's client
    /// metadata refresh it runs periodically (every 1024 sends), not on every record.
    fn maybe_refresh(&mut self, force: bool) {
        self.sends_since_refresh += 1;
        if !force && self.sends_since_refresh < 1024 {
            return;
        }
        self.sends_since_refresh = 0;
        self.max_message_bytes = entry_max(&self.entry);
        if self.entry.partition_count() as usize != self.partitions.len() {
            self.partitions = self.entry.partitions();
            self.open.resize_with(self.partitions.len(), || None);
            self.next_number.resize(self.partitions.len(), 0);
        }
    }
}

fn entry_max(entry: &TopicEntry) -> usize {
    entry.max_message_bytes()
}

/// The producer's topics, with the last one used checked first (most producers write to one or a
/// few topics, so this skips hashing the name on most sends).
#[derive(Debug, Default)]
struct Topics {
    states: Vec<TopicState>,
    index: HashMap<String, usize>,
    last: usize,
}

impl Topics {
    fn find(&mut self, topic: &str) -> Option<usize> {
        if self.states.get(self.last).is_some_and(|s| &*s.topic == topic) {
            return Some(self.last);
        }
        let i = *self.index.get(topic)?;
        self.last = i;
        Some(i)
    }

    fn insert(&mut self, state: TopicState) -> usize {
        let i = self.states.len();
        self.index.insert(state.topic.to_string(), i);
        self.states.push(state);
        self.last = i;
        i
    }
}

#[derive(Debug)]
struct Shipment {
    partition: PartitionRef,
    batch: OpenBatch,
}

#[derive(Debug)]
struct Inner {
    core: Arc<BrokerCore>,
    config: ProducerConfig,
    producer_id: i64,
    topics: Mutex<Topics>,
    tx: mpsc::Sender<Shipment>,
    next_batch_id: AtomicU64,
    in_flight: AtomicU64,
    idle: Notify,
    /// The first failed delivery since [`Producer::take_send_error`] last looked.
    send_error: Mutex<Option<Error>>,
}

/// An in-process producer. Cheap to clone; all clones share batches and threads.
#[derive(Debug, Clone)]
pub struct Producer {
    inner: Arc<Inner>,
}

impl Producer {
    pub(crate) fn new(core: Arc<BrokerCore>, config: ProducerConfig) -> Result<Self> {
        core.check_open()?;
        let producer_id = if config.enable_idempotence { core.allocate_producer_id()? } else { -1 };
        let epoch = if config.enable_idempotence { 0 } else { -1 };
        let (tx, rx) = mpsc::channel(config.max_queued_batches.max(1));
        let inner = Arc::new(Inner {
            core,
            config,
            producer_id,
            topics: Mutex::new(Topics::default()),
            tx,
            next_batch_id: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            idle: Notify::new(),
            send_error: Mutex::new(None),
        });
        let (ack_tx, ack_rx) = std::sync::mpsc::channel();
        let weak = Arc::downgrade(&inner);
        std::thread::Builder::new()
            .name("producer-sender".into())
            .spawn(move || sender_loop(rx, ack_tx, producer_id, epoch))
            .map_err(|e| Error::storage("starting the producer's sender thread", e))?;
        std::thread::Builder::new()
            .name("producer-acker".into())
            .spawn(move || acker_loop(ack_rx, weak))
            .map_err(|e| Error::storage("starting the producer's acker thread", e))?;
        Ok(Self { inner })
    }

    /// The producer id the broker gave this producer (`-1` without idempotence).
    pub fn producer_id(&self) -> i64 {
        self.inner.producer_id
    }

    /// Adds a record to its partition's batch. The returned future completes when the record is
    /// acknowledged; dropping it does not cancel the send. Waits only when too many batches are
    /// queued.
    pub async fn send(&self, record: ProducerRecord) -> Result<DeliveryFuture> {
        match self.enqueue(record, true).await? {
            Some(future) => Ok(future),
            None => Err(Error::Shutdown),
        }
    }

    /// Adds a record to its partition's batch like [`send`](Producer::send), without a future for
    /// the record: [`flush`](Producer::flush) waits for it, and a failed delivery is reported by
    /// [`take_send_error`](Producer::take_send_error). For loops that would drop the future anyway,
    /// this saves sharing the batch's outcome with every record.
    pub async fn send_detached(&self, record: ProducerRecord) -> Result<()> {
        self.enqueue(record, false).await.map(|_| ())
    }

    /// Adds every record of `records` like [`send_detached`](Producer::send_detached), taking the
    /// producer's lock once for a run of records rather than once per record. Stops at the first
    /// record that cannot be added (an unknown partition, a closed producer) and returns its
    /// error; the records before it are sent.
    pub async fn send_all_detached(
        &self,
        records: impl IntoIterator<Item = ProducerRecord>,
    ) -> Result<()> {
        self.send_all(records).await
    }

    /// [`send_all_detached`](Producer::send_all_detached) for records that borrow their parts:
    /// the cheapest way to send many records, with no allocation or reference count per record.
    ///
    /// ```
    /// # use broker_embedded::{Broker, BrokerConfig, NewTopic, ProducerConfig, ProducerRecordRef};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> broker_embedded::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let broker = Broker::open(BrokerConfig::new(dir.path())).await?;
    /// # broker.admin().create_topic(NewTopic::new("events", 1)).await?;
    /// let producer = broker.producer(ProducerConfig::default())?;
    /// let values: Vec<Vec<u8>> = (0..100).map(|i: u32| i.to_be_bytes().to_vec()).collect();
    /// producer.send_all_borrowed(values.iter().map(|v| ProducerRecordRef::new("events", v))).await?;
    /// producer.flush().await?;
    /// assert!(producer.take_send_error().is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send_all_borrowed<'a>(
        &self,
        records: impl IntoIterator<Item = ProducerRecordRef<'a>>,
    ) -> Result<()> {
        self.send_all(records).await
    }

    async fn send_all<R: AsRecordRef>(&self, records: impl IntoIterator<Item = R>) -> Result<()> {
        const RUN: usize = 1024;
        let inner = &self.inner;
        inner.core.check_open()?;
        let mut records = records.into_iter();
        loop {
            let (mut ready, mut lingering, mut added) = (Vec::new(), Vec::new(), 0);
            let mut failed = None;
            {
                let mut topics = inner.topics.lock();
                // At most RUN records per hold of the lock, so linger timers and other callers
                // get their turn during a long iterator; and full batches ship at once, since the
                // next records may wait for queue space.
                for record in records.by_ref().take(RUN) {
                    added += 1;
                    match self.add(&mut topics, record.as_record_ref(), false, &mut ready) {
                        // Rarely a batch opened: a plain branch, not `extend` per record.
                        Ok((_, Some(l))) => lingering.push(l),
                        Ok((_, None)) => {}
                        Err(e) => failed = Some(e),
                    }
                    if failed.is_some() || !ready.is_empty() {
                        break;
                    }
                }
            }
            let exhausted = added < RUN && ready.is_empty();
            self.dispatch(ready, lingering).await?;
            match failed {
                Some(e) => return Err(e),
                None if exhausted => return Ok(()),
                None => {}
            }
        }
    }

    async fn enqueue(
        &self,
        record: ProducerRecord,
        future: bool,
    ) -> Result<Option<DeliveryFuture>> {
        self.inner.core.check_open()?;
        let mut ready = Vec::new();
        let added =
            self.add(&mut self.inner.topics.lock(), record.as_record_ref(), future, &mut ready);
        let (future, lingering) = match added {
            Ok(added) => added,
            Err(e) => {
                self.dispatch(ready, None).await?;
                return Err(e);
            }
        };
        if !ready.is_empty() || lingering.is_some() {
            self.dispatch(ready, lingering).await?;
        }
        Ok(future)
    }

    /// Adds `record` to its partition's open batch (under the producer's lock); batches that are
    /// full go to `ready`. Returns the record's delivery future (if `future`) and, when it opened
    /// a batch, what the linger timer needs to ship that batch.
    fn add(
        &self,
        topics: &mut Topics,
        record: ProducerRecordRef<'_>,
        future: bool,
        ready: &mut Vec<Shipment>,
    ) -> Result<(Option<DeliveryFuture>, Option<Lingering>)> {
        let inner = &self.inner;
        let timestamp = record.timestamp.unwrap_or_else(now_ms);
        let i = match topics.find(record.topic) {
            Some(i) => i,
            None => {
                let entry = inner.core.topic_or_create(record.topic)?;
                topics.insert(TopicState::new(entry))
            }
        };
        let state = &mut topics.states[i];
        let unknown = record.partition.is_some_and(|p| p >= state.partitions.len() as i32);
        state.maybe_refresh(unknown);
        let count = state.partitions.len() as i32;
        let partition = match record.partition {
            Some(p) if (0..count).contains(&p) => p,
            Some(p) => {
                return Err(Error::UnknownPartition {
                    topic: record.topic.to_string(),
                    partition: p,
                });
            }
            None => match &record.key {
                Some(k) => partition_for_key(k, count),
                None => state.sticky.partition(count),
            },
        };
        let idx = partition as usize;
        // A batch never grows past the topic's max.message.bytes: ship what is open first.
        let max_bytes = state.max_message_bytes;
        if let Some(open) = &state.open[idx] {
            if open.builder.size_in_bytes() + encoded_size_bound(&record) > max_bytes {
                if let Some(batch) = state.open[idx].take() {
                    ready.push(Shipment { partition: state.partitions[idx].clone(), batch });
                }
            }
        }
        let mut lingering = None;
        if state.open[idx].is_none() {
            let id = inner.next_batch_id.fetch_add(1, Ordering::Relaxed);
            let number = state.next_number[idx];
            state.next_number[idx] += 1;
            lingering = Some(id);
            state.open[idx] = Some(OpenBatch {
                id,
                number,
                builder: BatchBuilder::with_capacity(inner.config.batch_size.min(1 << 20)),
                completion: Completion(Arc::new(BatchOutcome {
                    topic: state.topic.clone(),
                    partition,
                    state: Mutex::new(OutcomeState::default()),
                })),
                records: 0,
            });
        }
        let Some(batch) = state.open[idx].as_mut() else {
            return Err(Error::Shutdown);
        };
        batch.builder.push(timestamp, record.key, record.value, record.headers);
        let future = future.then(|| DeliveryFuture {
            outcome: batch.completion.0.clone(),
            index: batch.records,
            timestamp,
        });
        batch.records += 1;
        if batch.builder.size_in_bytes() >= inner.config.batch_size {
            if let Some(batch) = state.open[idx].take() {
                ready.push(Shipment { partition: state.partitions[idx].clone(), batch });
            }
            if record.key.is_none() && record.partition.is_none() {
                state.sticky.new_batch(partition, count);
            }
        }
        Ok((future, lingering.map(|id| (state.topic.clone(), partition, id))))
    }

    /// Ships the full batches, then starts the linger timers of the batches just opened.
    async fn dispatch(
        &self,
        ready: Vec<Shipment>,
        lingering: impl IntoIterator<Item = Lingering>,
    ) -> Result<()> {
        for shipment in ready {
            self.ship(shipment).await?;
        }
        for (topic, partition, id) in lingering {
            if self.inner.config.linger.is_zero() {
                self.ship_open(&topic, partition, Some(id)).await?;
            } else {
                let me = self.clone();
                let linger = self.inner.config.linger;
                tokio::spawn(async move {
                    tokio::time::sleep(linger).await;
                    if let Err(e) = me.ship_open(&topic, partition, Some(id)).await {
                        warn!(error = %e, "shipping a lingering batch failed");
                    }
                });
            }
        }
        Ok(())
    }

    /// Sends a record and waits for its acknowledgement.
    pub async fn send_and_wait(&self, record: ProducerRecord) -> Result<RecordMetadata> {
        self.send(record).await?.await
    }

    /// Ships the open batch of a partition (only batch `only_id`, when given).
    async fn ship_open(&self, topic: &str, partition: i32, only_id: Option<u64>) -> Result<()> {
        let shipment = {
            let mut topics = self.inner.topics.lock();
            let Some(i) = topics.find(topic) else { return Ok(()) };
            let state = &mut topics.states[i];
            let idx = partition as usize;
            match state.open.get(idx).and_then(|b| b.as_ref()) {
                Some(b) if only_id.is_none_or(|id| id == b.id) => state.open[idx]
                    .take()
                    .map(|batch| Shipment { partition: state.partitions[idx].clone(), batch }),
                _ => None,
            }
        };
        match shipment {
            Some(s) => self.ship(s).await,
            None => Ok(()),
        }
    }

    async fn ship(&self, shipment: Shipment) -> Result<()> {
        self.inner.in_flight.fetch_add(1, Ordering::SeqCst);
        if self.inner.tx.send(shipment).await.is_err() {
            self.inner.in_flight.fetch_sub(1, Ordering::SeqCst);
            return Err(Error::Shutdown);
        }
        Ok(())
    }

    /// The first delivery that failed since the last call, if any. With [`Producer::flush`] this
    /// tells a caller that does not keep every [`DeliveryFuture`] whether everything it sent
    /// before the flush was acknowledged.
    pub fn take_send_error(&self) -> Option<Error> {
        self.inner.send_error.lock().take()
    }

    /// Ships every open batch and waits until all shipped records are acknowledged or failed.
    pub async fn flush(&self) -> Result<()> {
        let open: Vec<(Arc<str>, i32)> = {
            let topics = self.inner.topics.lock();
            topics
                .states
                .iter()
                .flat_map(|s| {
                    s.open
                        .iter()
                        .enumerate()
                        .filter(|(_, b)| b.is_some())
                        .map(move |(p, _)| (s.topic.clone(), p as i32))
                })
                .collect()
        };
        for (topic, partition) in open {
            self.ship_open(&topic, partition, None).await?;
        }
        loop {
            let idle = self.inner.idle.notified();
            if self.inner.in_flight.load(Ordering::SeqCst) == 0 {
                return Ok(());
            }
            idle.await;
        }
    }
}

/// An upper bound of the bytes a record adds to a batch: every varint at its widest.
fn encoded_size_bound(record: &ProducerRecordRef<'_>) -> usize {
    let len = |b: Option<&[u8]>| b.map_or(0, <[u8]>::len);
    let headers: usize =
        record.headers.iter().map(|h| 10 + h.key.len() + len(h.value.as_deref())).sum();
    5 + 1 + 10 + 5 + 5 + len(record.key) + 5 + len(record.value) + 5 + headers
}

/// A batch just opened, for its linger timer: topic, partition and batch id.
type Lingering = (Arc<str>, i32, u64);

/// What [`Producer::send_all_detached`] and [`Producer::send_all_borrowed`] take records as.
trait AsRecordRef {
    fn as_record_ref(&self) -> ProducerRecordRef<'_>;
}

impl AsRecordRef for ProducerRecord {
    fn as_record_ref(&self) -> ProducerRecordRef<'_> {
        ProducerRecord::as_record_ref(self)
    }
}

impl AsRecordRef for ProducerRecordRef<'_> {
    fn as_record_ref(&self) -> ProducerRecordRef<'_> {
        *self
    }
}

type Ack = (PartitionRef, std::result::Result<AppendInfo, Error>, Completion);

/// Puts each partition's batches back in the order they were created before they are appended:
/// two tasks can take batches of one partition out of the open map and reach the channel in the
/// other order.
#[derive(Debug, Default)]
struct Reorder {
    expected: HashMap<(Arc<str>, i32), u64>,
    waiting: HashMap<(Arc<str>, i32), std::collections::BTreeMap<u64, Shipment>>,
}

impl Reorder {
    /// Takes a shipment; returns the shipments now ready, in order.
    fn accept(&mut self, s: Shipment) -> Vec<Shipment> {
        let key = (s.batch.completion.0.topic.clone(), s.batch.completion.0.partition);
        let expected = self.expected.entry(key.clone()).or_insert(0);
        if s.batch.number != *expected {
            self.waiting.entry(key).or_default().insert(s.batch.number, s);
            return Vec::new();
        }
        let mut ready = vec![s];
        *expected += 1;
        if let Some(waiting) = self.waiting.get_mut(&key) {
            while let Some(next) = waiting.remove(expected) {
                ready.push(next);
                *expected += 1;
            }
        }
        ready
    }
}

fn sender_loop(
    mut rx: mpsc::Receiver<Shipment>,
    ack_tx: std::sync::mpsc::Sender<Ack>,
    producer_id: i64,
    epoch: i16,
) {
    let mut sequences: HashMap<(Arc<str>, i32), i32> = HashMap::new();
    let mut reorder = Reorder::default();
    while let Some(arrived) = rx.blocking_recv() {
        for Shipment { partition, batch } in reorder.accept(arrived) {
            let OpenBatch { builder, completion, records, .. } = batch;
            let key = (completion.0.topic.clone(), completion.0.partition);
            let seq = if producer_id >= 0 { *sequences.get(&key).unwrap_or(&0) } else { -1 };
            let result = builder
                .producer(producer_id, epoch, seq)
                .finish(0)
                .map_err(Error::from)
                .and_then(|mut bytes| partition.append_nowait(&mut bytes, now_ms(), true));
            if result.is_ok() && producer_id >= 0 {
                // Kafka's sequences wrap at i32::MAX.
                let next =
                    ((i64::from(seq) + i64::from(records)) % (i64::from(i32::MAX) + 1)) as i32;
                sequences.insert(key, next);
            }
            if ack_tx.send((partition, result, completion)).is_err() {
                return;
            }
        }
    }
}

fn acker_loop(rx: std::sync::mpsc::Receiver<Ack>, inner: std::sync::Weak<Inner>) {
    while let Ok((partition, result, completion)) = rx.recv() {
        let result =
            result.and_then(|info| partition.wait_durable(info.last_offset + 1).map(|_| info));
        let failed = result.as_ref().err().map(Error::duplicate);
        completion.0.complete(result.map(|info| (info.base_offset, info.log_append_time)));
        drop(completion);
        if let Some(inner) = inner.upgrade() {
            if let Some(e) = failed {
                inner.send_error.lock().get_or_insert(e);
            }
            if inner.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
                inner.idle.notify_waiters();
            }
        }
    }
}
