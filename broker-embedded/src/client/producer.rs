//! The in-process producer: batching per partition, Kafka's partitioner, idempotent sequences.
//!
//! `send` adds a record to the open batch of its partition and returns a [`DeliveryFuture`]. A batch
//! ships when it reaches `batch_size` bytes, when `linger` has passed since its first record, or on
//! [`Producer::flush`]. Shipping happens on a sender thread that appends batches in order; an acker
//! thread waits for durability (sharing fsyncs across batches and producers) and completes the futures.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::{Notify, mpsc, oneshot};
use tracing::warn;

use crate::broker::{BrokerCore, PartitionRef, now_ms};
use crate::client::partitioner::{StickyPartitioner, partition_for_key};
use crate::client::{ProducerRecord, RecordMetadata, TopicPartition};
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

type Waiter = (oneshot::Sender<Result<RecordMetadata>>, i64);

#[derive(Debug)]
struct OpenBatch {
    id: u64,
    partition: PartitionRef,
    builder: BatchBuilder,
    waiters: Vec<Waiter>,
}

#[derive(Debug)]
struct Shipment {
    tp: TopicPartition,
    batch: OpenBatch,
}

#[derive(Debug)]
struct Inner {
    core: Arc<BrokerCore>,
    config: ProducerConfig,
    producer_id: i64,
    open: Mutex<HashMap<TopicPartition, OpenBatch>>,
    sticky: Mutex<HashMap<String, StickyPartitioner>>,
    tx: mpsc::Sender<Shipment>,
    next_batch_id: AtomicU64,
    in_flight: AtomicU64,
    idle: Notify,
}

/// An in-process producer. Cheap to clone; all clones share batches and threads.
#[derive(Debug, Clone)]
pub struct Producer {
    inner: Arc<Inner>,
}

/// Completes when the record is acknowledged (durable, in sync-on-ack mode) or failed.
#[derive(Debug)]
pub struct DeliveryFuture {
    rx: oneshot::Receiver<Result<RecordMetadata>>,
}

impl Future for DeliveryFuture {
    type Output = Result<RecordMetadata>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx).poll(cx).map(|r| r.unwrap_or(Err(Error::Shutdown)))
    }
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
            open: Mutex::new(HashMap::new()),
            sticky: Mutex::new(HashMap::new()),
            tx,
            next_batch_id: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            idle: Notify::new(),
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
    /// acknowledged. Waits only when too many batches are queued.
    pub async fn send(&self, record: ProducerRecord) -> Result<DeliveryFuture> {
        let inner = &self.inner;
        inner.core.check_open()?;
        let topic = inner.core.topic_or_create(&record.topic)?;
        let count = topic.partition_count();
        let partition = match record.partition {
            Some(p) if (0..count).contains(&p) => p,
            Some(p) => {
                return Err(Error::UnknownPartition { topic: record.topic.clone(), partition: p });
            }
            None => match &record.key {
                Some(k) => partition_for_key(k, count),
                None => {
                    inner.sticky.lock().entry(record.topic.clone()).or_default().partition(count)
                }
            },
        };
        let timestamp = record.timestamp.unwrap_or_else(now_ms);
        let tp = TopicPartition::new(record.topic.clone(), partition);
        let (tx, rx) = oneshot::channel();
        let (full, new_batch_id) = {
            let mut open = inner.open.lock();
            let mut new_batch_id = None;
            let batch = match open.get_mut(&tp) {
                Some(b) => b,
                None => {
                    let id = inner.next_batch_id.fetch_add(1, Ordering::Relaxed);
                    new_batch_id = Some(id);
                    let part = topic.partition(partition)?;
                    open.entry(tp.clone()).or_insert(OpenBatch {
                        id,
                        partition: part,
                        builder: BatchBuilder::new(),
                        waiters: Vec::new(),
                    })
                }
            };
            batch.builder.push(
                timestamp,
                record.key.as_deref(),
                record.value.as_deref(),
                &record.headers,
            );
            batch.waiters.push((tx, timestamp));
            (batch.builder.size_in_bytes() >= inner.config.batch_size, new_batch_id)
        };
        if full {
            self.ship(&tp, None).await?;
            if record.key.is_none() && record.partition.is_none() {
                if let Some(s) = inner.sticky.lock().get_mut(&record.topic) {
                    s.new_batch(partition, count);
                }
            }
        } else if let Some(id) = new_batch_id {
            if inner.config.linger.is_zero() {
                self.ship(&tp, Some(id)).await?;
            } else {
                let me = self.clone();
                let linger = inner.config.linger;
                tokio::spawn(async move {
                    tokio::time::sleep(linger).await;
                    if let Err(e) = me.ship(&tp, Some(id)).await {
                        warn!(error = %e, "shipping a lingering batch failed");
                    }
                });
            }
        }
        Ok(DeliveryFuture { rx })
    }

    /// Sends a record and waits for its acknowledgement.
    pub async fn send_and_wait(&self, record: ProducerRecord) -> Result<RecordMetadata> {
        self.send(record).await?.await
    }

    async fn ship(&self, tp: &TopicPartition, only_id: Option<u64>) -> Result<()> {
        let batch = {
            let mut open = self.inner.open.lock();
            match open.get(tp) {
                Some(b) if only_id.is_none_or(|id| id == b.id) => open.remove(tp),
                _ => None,
            }
        };
        if let Some(batch) = batch {
            self.inner.in_flight.fetch_add(1, Ordering::SeqCst);
            if self.inner.tx.send(Shipment { tp: tp.clone(), batch }).await.is_err() {
                self.inner.in_flight.fetch_sub(1, Ordering::SeqCst);
                return Err(Error::Shutdown);
            }
        }
        Ok(())
    }

    /// Ships every open batch and waits until all shipped records are acknowledged or failed.
    pub async fn flush(&self) -> Result<()> {
        let tps: Vec<TopicPartition> = self.inner.open.lock().keys().cloned().collect();
        for tp in tps {
            self.ship(&tp, None).await?;
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

type Ack = (PartitionRef, std::result::Result<AppendInfo, Error>, Vec<Waiter>, String);

fn sender_loop(
    mut rx: mpsc::Receiver<Shipment>,
    ack_tx: std::sync::mpsc::Sender<Ack>,
    producer_id: i64,
    epoch: i16,
) {
    let mut sequences: HashMap<TopicPartition, i32> = HashMap::new();
    while let Some(Shipment { tp, batch }) = rx.blocking_recv() {
        let n = batch.waiters.len() as i32;
        let seq = if producer_id >= 0 { *sequences.get(&tp).unwrap_or(&0) } else { -1 };
        let builder = batch.builder.producer(producer_id, epoch, seq);
        let result = builder
            .build(0)
            .map_err(Error::from)
            .and_then(|mut bytes| batch.partition.append_nowait(&mut bytes, now_ms()));
        if result.is_ok() && producer_id >= 0 {
            // Kafka's sequences wrap at i32::MAX.
            let next = ((i64::from(seq) + i64::from(n)) % (i64::from(i32::MAX) + 1)) as i32;
            sequences.insert(tp.clone(), next);
        }
        if ack_tx.send((batch.partition, result, batch.waiters, tp.topic)).is_err() {
            return;
        }
    }
}

fn acker_loop(rx: std::sync::mpsc::Receiver<Ack>, inner: std::sync::Weak<Inner>) {
    while let Ok((partition, result, waiters, topic)) = rx.recv() {
        let result =
            result.and_then(|info| partition.wait_durable(info.last_offset + 1).map(|_| info));
        match result {
            Ok(info) => {
                for (i, (tx, ts)) in waiters.into_iter().enumerate() {
                    let timestamp =
                        if info.log_append_time >= 0 { info.log_append_time } else { ts };
                    let _ = tx.send(Ok(RecordMetadata {
                        topic: topic.clone(),
                        partition: partition.index,
                        offset: info.base_offset + i as i64,
                        timestamp,
                    }));
                }
            }
            Err(e) => {
                for (tx, _) in waiters {
                    let _ = tx.send(Err(e.duplicate()));
                }
            }
        }
        if let Some(inner) = inner.upgrade() {
            if inner.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
                inner.idle.notify_waiters();
            }
        }
    }
}
