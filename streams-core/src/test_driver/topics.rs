//! Typed input and output topics of the test driver.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use crate::error::StreamsError;
use crate::record::Header;
use crate::serde::{SerdeError, SharedSerde};
use crate::test_driver::Inner;

/// A record read from an output topic, or piped into an input topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRecord<K, V> {
    /// The key.
    pub key: K,
    /// The value.
    pub value: V,
    /// The timestamp.
    pub timestamp: i64,
    /// The headers.
    pub headers: Vec<Header>,
}

/// Pipes typed records into a topic of the driven topology (Kafka's `TestInputTopic`).
///
/// Records piped without a timestamp get the topic's current time, which then advances by the
/// auto-advance step (zero unless set): Kafka's `startTimestamp` / `autoAdvance`.
pub struct TestInputTopic<K, V> {
    inner: Rc<RefCell<Inner>>,
    topic: String,
    key_serde: SharedSerde<K>,
    value_serde: SharedSerde<V>,
    time: i64,
    auto_advance: i64,
}

impl<K, V> std::fmt::Debug for TestInputTopic<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestInputTopic")
            .field("topic", &self.topic)
            .field("time", &self.time)
            .finish()
    }
}

impl<K: 'static, V: 'static> TestInputTopic<K, V> {
    pub(crate) fn new(
        inner: Rc<RefCell<Inner>>,
        topic: &str,
        key_serde: SharedSerde<K>,
        value_serde: SharedSerde<V>,
    ) -> Self {
        let time = inner.borrow().now_ms();
        Self { inner, topic: topic.to_string(), key_serde, value_serde, time, auto_advance: 0 }
    }

    /// Sets the time of the next record piped without a timestamp.
    pub fn with_start_time(mut self, ms: i64) -> Self {
        self.time = ms;
        self
    }

    /// Advances the time by `step` after each record piped without a timestamp.
    pub fn with_auto_advance(mut self, step: Duration) -> Self {
        self.auto_advance = step.as_millis() as i64;
        self
    }

    /// Moves this topic's time forward.
    pub fn advance_time(&mut self, by: Duration) {
        self.time += by.as_millis() as i64;
    }

    /// Pipes a record with key, value, timestamp and headers.
    pub fn pipe_record(&self, record: TestRecord<K, V>) -> Result<(), StreamsError> {
        let ser =
            |e: SerdeError| StreamsError::IllegalState(format!("serializing test input: {e}"));
        let key = self.key_serde.serialize(&self.topic, &record.key).map_err(ser)?;
        let value = self.value_serde.serialize(&self.topic, &record.value).map_err(ser)?;
        self.inner.borrow_mut().pipe(&self.topic, key, value, record.timestamp, record.headers)
    }

    /// Pipes a record with this timestamp.
    pub fn pipe_input_at(&self, key: K, value: V, timestamp: i64) -> Result<(), StreamsError> {
        self.pipe_record(TestRecord { key, value, timestamp, headers: Vec::new() })
    }

    /// Pipes a record at the topic's current time, then auto-advances the time.
    pub fn pipe_input(&mut self, key: K, value: V) -> Result<(), StreamsError> {
        let ts = self.time;
        self.time += self.auto_advance;
        self.pipe_input_at(key, value, ts)
    }

    /// Pipes records in order, each at the topic's current time, auto-advancing.
    pub fn pipe_key_values(
        &mut self,
        records: impl IntoIterator<Item = (K, V)>,
    ) -> Result<(), StreamsError> {
        for (k, v) in records {
            self.pipe_input(k, v)?;
        }
        Ok(())
    }
}

impl<K: Default + 'static, V: 'static> TestInputTopic<K, V> {
    /// Pipes a value with the default key (`None` for `Option` keys) at the current time.
    pub fn pipe_value(&mut self, value: V) -> Result<(), StreamsError> {
        self.pipe_input(K::default(), value)
    }
}

/// Reads typed records the driven topology wrote to a topic (Kafka's `TestOutputTopic`).
pub struct TestOutputTopic<K, V> {
    inner: Rc<RefCell<Inner>>,
    topic: String,
    key_serde: SharedSerde<K>,
    value_serde: SharedSerde<V>,
}

impl<K, V> std::fmt::Debug for TestOutputTopic<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestOutputTopic").field("topic", &self.topic).finish()
    }
}

impl<K: 'static, V: 'static> TestOutputTopic<K, V> {
    pub(crate) fn new(
        inner: Rc<RefCell<Inner>>,
        topic: &str,
        key_serde: SharedSerde<K>,
        value_serde: SharedSerde<V>,
    ) -> Self {
        Self { inner, topic: topic.to_string(), key_serde, value_serde }
    }

    /// Reads the next record, or `None` when the topic has no unread record. A record that does not
    /// deserialize with this topic's serdes is an error.
    pub fn read_record(&self) -> Option<TestRecord<K, V>> {
        self.try_read_record().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Self::read_record`], with deserialization errors returned.
    pub fn try_read_record(&self) -> Result<Option<TestRecord<K, V>>, SerdeError> {
        let Some(r) = self.inner.borrow_mut().take_output(&self.topic) else { return Ok(None) };
        let key = self.key_serde.deserialize(&self.topic, r.key.as_ref())?;
        let value = self.value_serde.deserialize(&self.topic, r.value.as_ref())?;
        Ok(Some(TestRecord { key, value, timestamp: r.timestamp, headers: r.headers }))
    }

    /// Reads the next key and value.
    pub fn read_key_value(&self) -> Option<(K, V)> {
        self.read_record().map(|r| (r.key, r.value))
    }

    /// Reads the next value.
    pub fn read_value(&self) -> Option<V> {
        self.read_record().map(|r| r.value)
    }

    /// Reads every unread record.
    pub fn read_records_to_list(&self) -> Vec<TestRecord<K, V>> {
        std::iter::from_fn(|| self.read_record()).collect()
    }

    /// Reads every unread key and value.
    pub fn read_key_values_to_list(&self) -> Vec<(K, V)> {
        std::iter::from_fn(|| self.read_key_value()).collect()
    }

    /// Reads every unread value.
    pub fn read_values_to_list(&self) -> Vec<V> {
        std::iter::from_fn(|| self.read_value()).collect()
    }

    /// How many records are unread.
    pub fn queue_size(&self) -> usize {
        self.inner.borrow().output_len(&self.topic)
    }

    /// Whether every record has been read.
    pub fn is_empty(&self) -> bool {
        self.queue_size() == 0
    }
}
