//! Time windows (Kafka's `TimeWindows`), windowed keys (`Windowed<K>`) and their serde.

use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use streams_core::{Serde, SerdeError, SharedSerde};

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Fixed-size windows by record time, tumbling (advance = size) or hopping (advance < size)
/// (Kafka's `TimeWindows`). Windows are aligned to the epoch: a window starts at a multiple of
/// the advance and covers `[start, start + size)`.
///
/// A window accepts records until stream time passes its end plus the grace period; later
/// records for it are dropped (and logged), as Kafka drops them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindows {
    pub(crate) size_ms: i64,
    pub(crate) advance_ms: i64,
    pub(crate) grace_ms: i64,
}

impl TimeWindows {
    /// Tumbling windows of `size` that accept no late records (Kafka's
    /// `ofSizeWithNoGrace`).
    pub fn of_size_with_no_grace(size: Duration) -> Self {
        let size_ms = ms(size).max(1);
        Self { size_ms, advance_ms: size_ms, grace_ms: 0 }
    }

    /// Tumbling windows of `size` that accept records up to `grace` after their end
    /// (Kafka's `ofSizeAndGrace`).
    pub fn of_size_and_grace(size: Duration, grace: Duration) -> Self {
        Self { grace_ms: ms(grace), ..Self::of_size_with_no_grace(size) }
    }

    /// Hopping windows: a new window every `advance` (at most the size; larger values are
    /// clamped to it).
    pub fn advance_by(mut self, advance: Duration) -> Self {
        self.advance_ms = ms(advance).clamp(1, self.size_ms);
        self
    }

    /// The window size in milliseconds.
    pub fn size_ms(&self) -> i64 {
        self.size_ms
    }

    /// The grace period in milliseconds.
    pub fn grace_ms(&self) -> i64 {
        self.grace_ms
    }

    /// The starts of the windows containing `timestamp`, ascending.
    pub fn window_starts_for(&self, timestamp: i64) -> Vec<i64> {
        let first = (timestamp - self.size_ms + self.advance_ms).max(0);
        let mut start = first - first.rem_euclid(self.advance_ms);
        if start + self.size_ms <= timestamp {
            start += self.advance_ms;
        }
        let mut out = Vec::new();
        while start <= timestamp {
            out.push(start);
            start += self.advance_ms;
        }
        out
    }
}

/// A time window `[start, end)` (Kafka's `TimeWindow`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimeWindow {
    /// Start, inclusive, in milliseconds.
    pub start: i64,
    /// End, exclusive, in milliseconds.
    pub end: i64,
}

/// A key with the window it was aggregated in: the key type of a windowed aggregation's table
/// (Kafka's `Windowed<K>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Windowed<K> {
    /// The record key.
    pub key: K,
    /// The window.
    pub window: TimeWindow,
}

/// Serializes a [`Windowed`] key as Kafka's `TimeWindowedSerializer` does: the inner key's
/// bytes followed by the window start (8 bytes, big-endian). The end is not written; the
/// deserializer adds the window size to the start.
pub struct WindowedSerde<K> {
    inner: SharedSerde<K>,
    size_ms: i64,
}

impl<K> WindowedSerde<K> {
    /// Windowed keys over `inner`, for windows of `size`.
    pub fn new(inner: impl Serde<K>, size: Duration) -> Self {
        Self { inner: Arc::new(inner), size_ms: ms(size) }
    }

    pub(crate) fn from_shared(inner: SharedSerde<K>, size_ms: i64) -> Self {
        Self { inner, size_ms }
    }
}

impl<K: Send + Sync + 'static> Serde<Windowed<K>> for WindowedSerde<K> {
    fn serialize(&self, topic: &str, value: &Windowed<K>) -> Result<Option<Bytes>, SerdeError> {
        let Some(key) = self.inner.serialize(topic, &value.key)? else { return Ok(None) };
        let mut b = BytesMut::with_capacity(key.len() + 8);
        b.put_slice(&key);
        b.put_i64(value.window.start);
        Ok(Some(b.freeze()))
    }

    fn deserialize(&self, topic: &str, data: Option<&Bytes>) -> Result<Windowed<K>, SerdeError> {
        let Some(data) = data else {
            return Err(SerdeError::new("a windowed key cannot be null"));
        };
        let Some(n) = data.len().checked_sub(8) else {
            return Err(SerdeError::new(format!(
                "a windowed key needs at least 8 bytes for its window start; got {}",
                data.len()
            )));
        };
        let mut raw = [0u8; 8];
        raw.copy_from_slice(&data[n..]);
        let start = i64::from_be_bytes(raw);
        let key = self.inner.deserialize(topic, Some(&data.slice(..n)))?;
        Ok(Windowed { key, window: TimeWindow { start, end: start.saturating_add(self.size_ms) } })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tumbling_windows_hold_each_time_once() {
        let w = TimeWindows::of_size_with_no_grace(Duration::from_millis(10));
        assert_eq!(w.window_starts_for(0), vec![0]);
        assert_eq!(w.window_starts_for(9), vec![0]);
        assert_eq!(w.window_starts_for(10), vec![10]);
        assert_eq!(w.window_starts_for(25), vec![20]);
    }

    #[test]
    fn hopping_windows_hold_each_time_size_over_advance_times() {
        let w = TimeWindows::of_size_with_no_grace(Duration::from_millis(10))
            .advance_by(Duration::from_millis(5));
        assert_eq!(w.window_starts_for(12), vec![5, 10]);
        assert_eq!(w.window_starts_for(10), vec![5, 10]);
        assert_eq!(w.window_starts_for(3), vec![0], "no window starts before the epoch");
        let w = TimeWindows::of_size_with_no_grace(Duration::from_millis(10))
            .advance_by(Duration::from_millis(3));
        assert_eq!(w.window_starts_for(20), vec![12, 15, 18]);
        for ts in 0..200 {
            for s in w.window_starts_for(ts) {
                assert!(s <= ts && ts < s + 10 && s % 3 == 0, "{ts} in [{s}, {})", s + 10);
            }
        }
    }

    #[test]
    fn windowed_keys_serialize_as_kafka_does() {
        let serde = WindowedSerde::new(streams_core::StringSerde, Duration::from_millis(100));
        let k = Windowed { key: "a".to_string(), window: TimeWindow { start: 200, end: 300 } };
        let bytes = serde.serialize("t", &k).unwrap().unwrap();
        assert_eq!(&bytes[..], &[b'a', 0, 0, 0, 0, 0, 0, 0, 200]);
        assert_eq!(serde.deserialize("t", Some(&bytes)).unwrap(), k);
        assert!(serde.deserialize("t", Some(&Bytes::from_static(b"abc"))).is_err());
    }
}
