//! What every node of a task shares: identity, time, the current record, schedules, the output.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::processor::{ProcessError, PunctuationType, PunctuatorId};
use crate::record::{Header, RecordMetadata};
use crate::task::TaskId;
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

/// Where a task's output goes: the producer of a stream thread, or the test driver's topics.
pub(crate) trait RecordCollector {
    /// Sends one record. An error here is a production error.
    fn send(&mut self, record: OutgoingRecord) -> Result<(), String>;
    /// How many partitions `topic` has, if it exists (for stream partitioners).
    fn partition_count(&self, topic: &str) -> Option<i32>;
}

/// A failure of the record being processed, kept until the task hands it to an error handler.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A processor returned an error.
    Processing { node: Arc<str>, error: ProcessError },
    /// A sink could not serialize or send.
    Production { node: Arc<str>, topic: Arc<str>, error: String },
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
    record: RefCell<Option<RecordMetadata>>,
    /// The raw input record being processed, for error handlers and dead-letter records.
    pub(crate) raw: RefCell<Option<RawRecord>>,
    stream_time: Cell<i64>,
    failure: RefCell<Option<Failure>>,
    schedules: RefCell<Vec<Schedule>>,
    next_schedule: Cell<u64>,
    pub(crate) collector: RefCell<Box<dyn RecordCollector>>,
}

impl TaskShared {
    pub(crate) fn new(
        id: TaskId,
        application_id: Arc<str>,
        clock: Arc<dyn Clock>,
        collector: Box<dyn RecordCollector>,
    ) -> Self {
        Self {
            id,
            application_id,
            clock,
            record: RefCell::new(None),
            raw: RefCell::new(None),
            stream_time: Cell::new(-1),
            failure: RefCell::new(None),
            schedules: RefCell::new(Vec::new()),
            next_schedule: Cell::new(0),
            collector: RefCell::new(collector),
        }
    }

    pub(crate) fn failed(&self) -> bool {
        self.failure.borrow().is_some()
    }

    /// Records the first failure of the current record; later ones are consequences.
    pub(crate) fn fail(&self, node: &Arc<str>, error: ProcessError) {
        let mut f = self.failure.borrow_mut();
        if f.is_none() {
            *f = Some(Failure::Processing { node: node.clone(), error });
        }
    }

    pub(crate) fn fail_production(&self, node: &Arc<str>, topic: &Arc<str>, error: String) {
        let mut f = self.failure.borrow_mut();
        if f.is_none() {
            *f = Some(Failure::Production { node: node.clone(), topic: topic.clone(), error });
        }
    }

    pub(crate) fn take_failure(&self) -> Option<Failure> {
        self.failure.borrow_mut().take()
    }

    pub(crate) fn record_metadata(&self) -> Option<RecordMetadata> {
        self.record.borrow().clone()
    }

    pub(crate) fn set_record(&self, raw: Option<RawRecord>) {
        *self.record.borrow_mut() = raw.as_ref().map(|r| RecordMetadata {
            topic: r.topic.clone(),
            partition: r.partition,
            offset: r.offset,
        });
        *self.raw.borrow_mut() = raw;
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
        id
    }

    pub(crate) fn cancel(&self, id: PunctuatorId) {
        self.schedules.borrow_mut().retain(|s| s.id != id);
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
    }
}
