//! What every node of a task shares: identity, time, the current record, schedules, the output.

use std::cell::{Cell, RefCell, RefMut};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::handlers::{ErrorContext, ErrorHandler, ErrorKind, ErrorResponse, dlq_headers};
use crate::processor::{ProcessError, PunctuationType, PunctuatorId};
use crate::record::{Header, RecordMetadata};
use crate::task::TaskId;
use crate::task::partition_group::PartitionGroup;
use crate::time::{Clock, RawRecord};

/// A record on its way out of the topology, serialized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OutgoingRecord {
    pub(crate) topic: Arc<str>,
    /// `None`: the producer's default partitioner (murmur2 of the key) chooses.
    pub(crate) partition: Option<i32>,
    pub(crate) key: Option<Bytes>,
    pub(crate) value: Option<Bytes>,
    pub(crate) timestamp: i64,
    pub(crate) headers: Vec<Header>,
}

/// A record on its way out, its topic named beside it (see [`RecordCollector::send_to`]).
#[derive(Debug)]
pub(crate) struct Outgoing {
    /// `None`: the producer's default partitioner (murmur2 of the key) chooses.
    pub(crate) partition: Option<i32>,
    pub(crate) key: Option<Bytes>,
    pub(crate) value: Option<Bytes>,
    pub(crate) timestamp: i64,
    pub(crate) headers: Vec<Header>,
}

impl Outgoing {
    pub(crate) fn into_record(self, topic: Arc<str>) -> OutgoingRecord {
        let Outgoing { partition, key, value, timestamp, headers } = self;
        OutgoingRecord { topic, partition, key, value, timestamp, headers }
    }
}

impl OutgoingRecord {
    /// The record's topic and the rest of it ([`Outgoing::into_record`] the other way).
    pub(crate) fn into_parts(self) -> (Arc<str>, Outgoing) {
        let OutgoingRecord { topic, partition, key, value, timestamp, headers } = self;
        (topic, Outgoing { partition, key, value, timestamp, headers })
    }
}

/// A stream thread's output until it is handed to the producer: records in the order sent,
/// held column by column (so that a sink appends a batch's keys and values as its serdes write
/// them), each run of records to one topic naming the topic by its place in a short list of the
/// topics seen, so that a record costs no reference count on its topic's name.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    topics: Vec<Arc<str>>,
    /// Consecutive records to one topic: the topic's place in `topics` and the run's end.
    runs: Vec<(u32, usize)>,
    /// Each record's partition; shorter than `keys` when the records after have none (the
    /// producer's partitioner chooses).
    partitions: Vec<Option<i32>>,
    keys: Vec<Option<Bytes>>,
    values: Vec<Option<Bytes>>,
    timestamps: Vec<i64>,
    /// Each record's headers; shorter than `keys` when the records after have none.
    headers: Vec<Vec<Header>>,
}

/// One record of an [`Outbox`], borrowed.
#[derive(Debug)]
pub(crate) struct OutboxRecord<'a> {
    pub(crate) topic: &'a str,
    pub(crate) partition: Option<i32>,
    pub(crate) key: Option<&'a Bytes>,
    pub(crate) value: Option<&'a Bytes>,
    pub(crate) timestamp: i64,
    pub(crate) headers: &'a [Header],
}

/// How many of the latest topics [`Outbox::slot`] compares a new record's topic with.
const RECENT_TOPICS: usize = 4;

impl Outbox {
    /// Where `topic` is in the list; the same `Arc` as one of the latest topics, or a new entry.
    pub(crate) fn slot(&mut self, topic: &Arc<str>) -> u32 {
        let start = self.topics.len().saturating_sub(RECENT_TOPICS);
        if let Some(i) = self.topics[start..].iter().rposition(|t| Arc::ptr_eq(t, topic)) {
            return (start + i) as u32;
        }
        self.topics.push(topic.clone());
        (self.topics.len() - 1) as u32
    }

    pub(crate) fn push_to(&mut self, topic: &Arc<str>, record: Outgoing) {
        let slot = self.slot(topic);
        self.push_at(slot, record);
    }

    /// Appends a record to the topic at `slot` (from [`slot`](Self::slot), since the last
    /// [`clear`](Self::clear)).
    pub(crate) fn push_at(&mut self, slot: u32, record: Outgoing) {
        debug_assert!((slot as usize) < self.topics.len());
        let Outgoing { partition, key, value, timestamp, headers } = record;
        let i = self.keys.len();
        if partition.is_some() {
            self.partitions.resize(i, None);
            self.partitions.push(partition);
        }
        if !headers.is_empty() {
            self.headers.resize_with(i, Vec::new);
            self.headers.push(headers);
        }
        self.keys.push(key);
        self.values.push(value);
        self.timestamps.push(timestamp);
        self.end_run(slot);
    }

    pub(crate) fn push(&mut self, record: OutgoingRecord) {
        let (topic, record) = record.into_parts();
        self.push_to(&topic, record);
    }

    /// How many records the outbox holds.
    pub(crate) fn len(&self) -> usize {
        self.timestamps.len()
    }

    /// The key and value columns, for a sink that serializes a batch straight into them
    /// (records with no partition chosen). Before anything else is done with the outbox, both
    /// columns must be cut back to [`len`](Self::len) or the records completed with
    /// [`complete`](Self::complete).
    pub(crate) fn key_value_columns(
        &mut self,
    ) -> (&mut Vec<Option<Bytes>>, &mut Vec<Option<Bytes>>) {
        (&mut self.keys, &mut self.values)
    }

    /// Completes the records whose keys and values were appended through
    /// [`key_value_columns`](Self::key_value_columns) (as many of each), for the topic at
    /// `slot`: their timestamps are the next ones of `timestamps` and their headers the next
    /// ones of `headers` (which yields nothing when no record has headers).
    pub(crate) fn complete(
        &mut self,
        slot: u32,
        timestamps: &mut std::slice::Iter<'_, i64>,
        headers: &mut std::vec::IntoIter<Vec<Header>>,
    ) {
        debug_assert_eq!(self.keys.len(), self.values.len());
        let (from, to) = (self.timestamps.len(), self.keys.len());
        if from == to {
            return;
        }
        self.timestamps.extend(timestamps.by_ref().take(to - from).copied());
        self.timestamps.resize(to, 0);
        for (i, h) in (from..to).zip(headers.by_ref()) {
            if !h.is_empty() {
                self.headers.resize_with(i, Vec::new);
                self.headers.push(h);
            }
        }
        self.end_run(slot);
    }

    /// The records up to the last make a run to the topic at `slot`.
    fn end_run(&mut self, slot: u32) {
        let len = self.keys.len();
        match self.runs.last_mut() {
            Some((s, end)) if *s == slot => *end = len,
            _ => self.runs.push((slot, len)),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.timestamps.is_empty()
    }

    /// The records in the order sent, with their topics.
    pub(crate) fn iter(&self) -> impl Iterator<Item = OutboxRecord<'_>> + '_ {
        let mut start = 0;
        self.runs.iter().flat_map(move |&(slot, end)| {
            let topic = &*self.topics[slot as usize];
            let run = start..end;
            start = end;
            run.map(move |i| OutboxRecord {
                topic,
                partition: self.partitions.get(i).copied().flatten(),
                key: self.keys[i].as_ref(),
                value: self.values[i].as_ref(),
                timestamp: self.timestamps[i],
                headers: self.headers.get(i).map_or(&[], Vec::as_slice),
            })
        })
    }

    /// Empties the outbox, keeping its memory.
    pub(crate) fn clear(&mut self) {
        self.topics.clear();
        self.runs.clear();
        self.partitions.clear();
        self.keys.clear();
        self.values.clear();
        self.timestamps.clear();
        self.headers.clear();
    }
}

/// Where a task's output goes: the producer of a stream thread, or the test driver's topics.
pub(crate) trait RecordCollector {
    /// Sends one record. An error here is a production error; the record comes back with it.
    fn send(&mut self, record: OutgoingRecord) -> Result<(), Box<(OutgoingRecord, String)>>;
    /// Sends one record to `topic`, a name the caller keeps (a sink's topic): a collector that
    /// can refer to it without taking a reference on it for every record overrides this.
    fn send_to(
        &mut self,
        topic: &Arc<str>,
        record: Outgoing,
    ) -> Result<(), Box<(OutgoingRecord, String)>> {
        self.send(record.into_record(topic.clone()))
    }
    /// How many partitions `topic` has, if it exists (for stream partitioners).
    fn partition_count(&self, topic: &str) -> Option<i32>;
    /// The outbox the records go to, for a sink that appends a batch of them straight into it
    /// (sending to an outbox never fails); `None`: send them one by one.
    fn outbox(&mut self) -> Option<RefMut<'_, Outbox>> {
        None
    }
}

/// A failure the error handler decided to fail on, kept until the task reports it.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A processor returned an error.
    Processing { node: Arc<str>, phase: Phase, error: ProcessError },
    /// A sink could not serialize or send, or a dead letter could not be written.
    Production { node: Arc<str>, topic: Arc<str>, error: String },
}

/// What the task is doing, for error messages and handler decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Processors are initializing: a failure here always stops the task.
    Initializing,
    /// A record is being processed.
    Processing,
    /// A punctuation runs.
    Punctuating,
}

/// The error handlers of a task.
pub(crate) struct Handlers {
    pub(crate) deserialization: Arc<dyn ErrorHandler>,
    pub(crate) processing: Arc<dyn ErrorHandler>,
    pub(crate) production: Arc<dyn ErrorHandler>,
}

impl Handlers {
    /// Whether any handler may read the bytes of the record being processed.
    pub(crate) fn read_record_bytes(&self) -> bool {
        [&self.deserialization, &self.processing, &self.production]
            .iter()
            .any(|h| h.reads_record_bytes())
    }
}

/// Why a failure could not be passed over.
#[derive(Debug)]
pub(crate) enum Refused {
    /// The handler said to fail.
    Fail,
    /// Writing the dead letter failed.
    DeadLetter { topic: String, error: String },
}

#[derive(Debug)]
struct Schedule {
    id: PunctuatorId,
    node: usize,
    interval: i64,
    kind: PunctuationType,
    next: i64,
}

pub(crate) struct TaskShared {
    pub(crate) id: TaskId,
    pub(crate) application_id: Arc<str>,
    pub(crate) clock: Arc<dyn Clock>,
    /// The task's input buffers. The record being processed stays at the head of its queue until
    /// it is done, so that error handlers and dead letters can see it without a copy.
    pub(crate) group: RefCell<PartitionGroup>,
    /// The queue whose head is being processed, if any.
    current: Cell<Option<(usize, usize)>>,
    stream_time: Cell<i64>,
    failure: RefCell<Option<Failure>>,
    /// Whether `failure` is set (checked on every forward).
    has_failed: Cell<bool>,
    schedules: RefCell<Vec<Schedule>>,
    next_schedule: Cell<u64>,
    /// The earliest `next` of the stream-time schedules (`i64::MAX` without any).
    next_stream_punctuation: Cell<i64>,
    pub(crate) collector: RefCell<Box<dyn RecordCollector>>,
    handlers: Handlers,
    phase: Cell<Phase>,
    /// The task's stores, once opened.
    pub(crate) stores: RefCell<Option<crate::state::task_stores::TaskStores>>,
    /// Default serdes, for typed store handles.
    pub(crate) serdes: crate::serde::SerdeRegistry,
    /// The instance's global stores, which every processor may read.
    pub(crate) globals:
        RefCell<Vec<(crate::state::StoreSpec, crate::state::registry::SharedStore)>>,
}

impl TaskShared {
    pub(crate) fn new(
        id: TaskId,
        application_id: Arc<str>,
        clock: Arc<dyn Clock>,
        collector: Box<dyn RecordCollector>,
        handlers: Handlers,
        serdes: crate::serde::SerdeRegistry,
    ) -> Self {
        Self {
            id,
            application_id,
            clock,
            group: RefCell::new(PartitionGroup::default()),
            current: Cell::new(None),
            stream_time: Cell::new(-1),
            failure: RefCell::new(None),
            has_failed: Cell::new(false),
            schedules: RefCell::new(Vec::new()),
            next_schedule: Cell::new(0),
            next_stream_punctuation: Cell::new(i64::MAX),
            collector: RefCell::new(collector),
            handlers,
            phase: Cell::new(Phase::Initializing),
            stores: RefCell::new(None),
            serdes,
            globals: RefCell::new(Vec::new()),
        }
    }

    pub(crate) fn set_phase(&self, phase: Phase) {
        self.phase.set(phase);
    }

    pub(crate) fn failed(&self) -> bool {
        self.has_failed.get()
    }

    /// A processor failed: its handler decides, right here, as Kafka's `ProcessorNode` does, so
    /// that with "continue" only this processor drops the record and its siblings still get it.
    /// Failures while initializing always stop the task.
    pub(crate) fn fail(&self, node: &Arc<str>, error: ProcessError) {
        let phase = self.phase.get();
        if phase != Phase::Initializing {
            match self.consult(ErrorKind::Processing, node, &*error) {
                Ok(()) => return,
                Err(Refused::DeadLetter { topic, error }) => {
                    return self.record_failure(Failure::Production {
                        node: node.clone(),
                        topic: Arc::from(topic),
                        error,
                    });
                }
                Err(Refused::Fail) => {}
            }
        }
        self.record_failure(Failure::Processing { node: node.clone(), phase, error });
    }

    /// A sink could not serialize or write a record: the production handler decides here.
    pub(crate) fn fail_production(&self, node: &Arc<str>, topic: &Arc<str>, error: String) {
        let err: ProcessError = error.clone().into();
        match self.consult(ErrorKind::Production, node, &*err) {
            Ok(()) => {}
            Err(Refused::DeadLetter { topic, error }) => {
                self.record_failure(Failure::Production {
                    node: node.clone(),
                    topic: Arc::from(topic),
                    error,
                });
            }
            Err(Refused::Fail) => {
                self.record_failure(Failure::Production {
                    node: node.clone(),
                    topic: topic.clone(),
                    error,
                });
            }
        }
    }

    /// Keeps the first failure of the current step; later ones are consequences.
    fn record_failure(&self, failure: Failure) {
        let mut f = self.failure.borrow_mut();
        if f.is_none() {
            *f = Some(failure);
            self.has_failed.set(true);
        }
    }

    /// Asks the handler for `kind` what to do about `error` at `node`; writes the dead letter
    /// when told to.
    pub(crate) fn consult(
        &self,
        kind: ErrorKind,
        node: &str,
        error: &(dyn std::error::Error + 'static),
    ) -> Result<(), Refused> {
        let raw = self.current_raw();
        let handler = match kind {
            ErrorKind::Deserialization => &self.handlers.deserialization,
            ErrorKind::Processing => &self.handlers.processing,
            _ => &self.handlers.production,
        };
        let ctx = ErrorContext { kind, task: self.id, node, record: raw.as_ref(), error };
        match handler.handle(&ctx) {
            ErrorResponse::Continue => Ok(()),
            ErrorResponse::Fail => Err(Refused::Fail),
            ErrorResponse::DeadLetter { topic } => {
                let Some(raw) = raw else { return Ok(()) };
                let dead = dead_letter(&topic, &raw, error);
                self.collector.borrow_mut().send(dead).map_err(|failed| Refused::DeadLetter {
                    topic,
                    error: format!("writing a dead letter: {}", failed.1),
                })
            }
        }
    }

    pub(crate) fn take_failure(&self) -> Option<Failure> {
        if !self.has_failed.replace(false) {
            return None;
        }
        self.failure.borrow_mut().take()
    }

    pub(crate) fn record_metadata(&self) -> Option<RecordMetadata> {
        let (q, pos) = self.current.get()?;
        let group = self.group.borrow();
        let queue = group.queues.get(q)?;
        let (offset, _) = queue.records.offset_and_timestamp(pos)?;
        Some(RecordMetadata { topic: queue.topic.clone(), partition: queue.partition, offset })
    }

    /// Moves the key, value and headers out of the record being processed, for a source whose
    /// error handlers do not read them ([`Handlers::read_record_bytes`]); the record stays at
    /// the head of its queue for its metadata.
    pub(crate) fn take_current_bytes(&self) -> Option<(Option<Bytes>, Option<Bytes>, Vec<Header>)> {
        let (q, pos) = self.current.get()?;
        self.group.borrow_mut().queues.get_mut(q)?.records.take_bytes(pos)
    }

    /// The record being processed, as read (cloned).
    pub(crate) fn current_raw(&self) -> Option<RawRecord> {
        let (q, pos) = self.current.get()?;
        self.group.borrow().queues.get(q)?.records.record(pos)
    }

    /// Marks the head of queue `q` as the record being processed (`None`: none is).
    pub(crate) fn set_current(&self, q: Option<usize>) {
        self.current.set(q.map(|q| (q, 0)));
    }

    /// Marks the record `pos` places after the head of the current queue as the one being
    /// processed (a run of records is processed where they lie in their queue).
    pub(crate) fn set_position(&self, pos: u32) {
        if let Some((q, _)) = self.current.get() {
            self.current.set(Some((q, pos as usize)));
        }
    }

    /// Whether a stream-time punctuation may be due at `now` (a cheap check made per record).
    pub(crate) fn stream_punctuation_due(&self, now: i64) -> bool {
        now >= self.next_stream_punctuation.get()
    }

    pub(crate) fn stream_time(&self) -> i64 {
        self.stream_time.get()
    }

    pub(crate) fn advance_stream_time(&self, ts: i64) {
        if ts > self.stream_time.get() {
            self.stream_time.set(ts);
        }
    }

    pub(crate) fn schedule(
        &self,
        node: usize,
        interval: Duration,
        kind: PunctuationType,
    ) -> PunctuatorId {
        let id = PunctuatorId(self.next_schedule.get());
        self.next_schedule.set(id.0 + 1);
        let interval = (interval.as_millis() as i64).max(1);
        // Kafka aligns stream-time punctuation to 0 (it fires as soon as there is data) and
        // wall-clock punctuation to now + interval.
        let next = match kind {
            PunctuationType::StreamTime => 0,
            PunctuationType::WallClockTime => self.clock.now_ms() + interval,
        };
        self.schedules.borrow_mut().push(Schedule { id, node, interval, kind, next });
        self.update_next_stream_punctuation();
        id
    }

    pub(crate) fn cancel(&self, id: PunctuatorId) {
        self.schedules.borrow_mut().retain(|s| s.id != id);
        self.update_next_stream_punctuation();
    }

    fn update_next_stream_punctuation(&self) {
        let next = self
            .schedules
            .borrow()
            .iter()
            .filter(|s| s.kind == PunctuationType::StreamTime)
            .map(|s| s.next)
            .min()
            .unwrap_or(i64::MAX);
        self.next_stream_punctuation.set(next);
    }

    /// The punctuations of `kind` due at `now`, earliest first.
    pub(crate) fn due(&self, kind: PunctuationType, now: i64) -> Vec<(PunctuatorId, usize)> {
        let mut due: Vec<(i64, PunctuatorId, usize)> = self
            .schedules
            .borrow()
            .iter()
            .filter(|s| s.kind == kind && s.next <= now)
            .map(|s| (s.next, s.id, s.node))
            .collect();
        due.sort_unstable();
        due.into_iter().map(|(_, id, node)| (id, node)).collect()
    }

    /// Whether `id` is still scheduled (a punctuator may cancel others).
    pub(crate) fn is_scheduled(&self, id: PunctuatorId) -> bool {
        self.schedules.borrow().iter().any(|s| s.id == id)
    }

    /// Moves a schedule past `now` after it fired; missed intervals are skipped, not replayed
    /// (Kafka's `PunctuationSchedule::next`).
    pub(crate) fn reschedule(&self, id: PunctuatorId, now: i64) {
        if let Some(s) = self.schedules.borrow_mut().iter_mut().find(|s| s.id == id) {
            let mut next = s.next + s.interval;
            if now >= next {
                let missed = (now - s.next) / s.interval;
                next = s.next + (missed + 1) * s.interval;
            }
            s.next = next;
        }
        self.update_next_stream_punctuation();
    }
}

/// The dead-letter record for `raw`: its original key, value and headers, plus KIP-1034's error
/// headers.
fn dead_letter(
    topic: &str,
    raw: &RawRecord,
    error: &(dyn std::error::Error + 'static),
) -> OutgoingRecord {
    let mut headers = raw.headers.clone();
    let h = |k: &str, v: String| Header { key: k.to_string(), value: Some(Bytes::from(v)) };
    let exception =
        if error.is::<crate::serde::SerdeError>() { "SerdeError" } else { "ProcessError" };
    headers.push(h(dlq_headers::EXCEPTION, exception.to_string()));
    headers.push(h(dlq_headers::MESSAGE, error.to_string()));
    headers.push(h(dlq_headers::TOPIC, raw.topic.to_string()));
    headers.push(h(dlq_headers::PARTITION, raw.partition.to_string()));
    headers.push(h(dlq_headers::OFFSET, raw.offset.to_string()));
    OutgoingRecord {
        topic: Arc::from(topic),
        partition: None,
        key: raw.key.clone(),
        value: raw.value.clone(),
        timestamp: raw.timestamp,
        headers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(v: &'static str) -> Outgoing {
        Outgoing {
            partition: None,
            key: None,
            value: Some(Bytes::from_static(v.as_bytes())),
            timestamp: 0,
            headers: Vec::new(),
        }
    }

    #[test]
    fn the_outbox_keeps_records_in_order_with_their_topics() {
        let (a, b) = (Arc::<str>::from("a"), Arc::<str>::from("b"));
        let mut outbox = Outbox::default();
        outbox.push_to(&a, out("1"));
        outbox.push_to(&b, out("2"));
        outbox.push_to(&a, out("3"));
        // The same name in another `Arc`, and owned records (dead letters, changelogs).
        outbox.push_to(&Arc::from("a"), out("4"));
        outbox.push(out("5").into_record(Arc::from("c")));
        // More topics than the recent ones compared: `a` is added again, still in order.
        for t in ["d", "e", "f", "g"] {
            outbox.push_to(&Arc::from(t), out("x"));
        }
        outbox.push_to(&a, out("6"));
        let seen: Vec<(String, String)> = outbox
            .iter()
            .map(|r| {
                let v = r.value.map(|v| String::from_utf8(v.to_vec()).unwrap());
                (r.topic.to_string(), v.unwrap())
            })
            .collect();
        let expected = [
            ("a", "1"),
            ("b", "2"),
            ("a", "3"),
            ("a", "4"),
            ("c", "5"),
            ("d", "x"),
            ("e", "x"),
            ("f", "x"),
            ("g", "x"),
            ("a", "6"),
        ];
        let expected: Vec<(String, String)> =
            expected.iter().map(|(t, v)| (t.to_string(), v.to_string())).collect();
        assert_eq!(seen, expected);
        assert!(outbox.topics.len() <= outbox.len());
        outbox.clear();
        assert!(outbox.is_empty());
        assert_eq!(outbox.iter().count(), 0);
    }

    /// Records appended a column at a time sit between records pushed one by one, each with its
    /// own partition, timestamp and headers.
    #[test]
    fn columns_appended_in_bulk_line_up_with_pushed_records() {
        let (a, b) = (Arc::<str>::from("a"), Arc::<str>::from("b"));
        let header = Header { key: "h".into(), value: None };
        let mut outbox = Outbox::default();
        outbox.push_to(&a, Outgoing { partition: Some(3), timestamp: 1, ..out("1") });
        let slot = outbox.slot(&b);
        let (keys, values) = outbox.key_value_columns();
        keys.extend([Some(Bytes::from_static(b"k2")), None, Some(Bytes::from_static(b"k4"))]);
        values.extend([Some(Bytes::from_static(b"2")), Some(Bytes::from_static(b"3"))]);
        // The third key had no value: it is cut back before completing.
        keys.truncate(values.len());
        let timestamps = [2, 3, 4];
        let mut headers = vec![Vec::new(), vec![header.clone()], Vec::new()].into_iter();
        outbox.complete(slot, &mut timestamps.iter(), &mut headers);
        outbox.push_to(&b, Outgoing { timestamp: 5, headers: vec![header.clone()], ..out("5") });
        outbox.push_to(&a, Outgoing { timestamp: 6, ..out("6") });
        assert_eq!(outbox.len(), 5);
        let seen: Vec<_> = outbox
            .iter()
            .map(|r| {
                let text = |b: Option<&Bytes>| b.map(|b| String::from_utf8(b.to_vec()).unwrap());
                (r.topic, r.partition, text(r.key), text(r.value), r.timestamp, r.headers.len())
            })
            .collect();
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            seen,
            [
                ("a", Some(3), None, some("1"), 1, 0),
                ("b", None, some("k2"), some("2"), 2, 0),
                ("b", None, None, some("3"), 3, 1),
                ("b", None, None, some("5"), 5, 1),
                ("a", None, None, some("6"), 6, 0),
            ]
        );
    }
}
