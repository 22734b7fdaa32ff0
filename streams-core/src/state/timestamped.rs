//! Timestamped stores: each value kept with the timestamp of the record that made it (Kafka's
//! `TimestampedKeyValueStore` and `ValueAndTimestamp`).
//!
//! In the store a timestamped value is Kafka's byte format: the timestamp as 8 big-endian bytes,
//! then the value's own bytes. The changelog keeps Kafka's format too: the record value is the
//! plain value and the record timestamp is the value's timestamp; restoration puts the two back
//! together.

use bytes::{BufMut, Bytes, BytesMut};

use crate::client::ChangelogEntry;
use crate::serde::{Serde, SerdeError, SharedSerde};

/// The timestamp a value written through a plain (not timestamped) view of a timestamped store
/// gets: Kafka's `ConsumerRecord.NO_TIMESTAMP`.
pub const NO_TIMESTAMP: i64 = -1;

/// A value and the timestamp of the record it comes from (Kafka's `ValueAndTimestamp`): what a
/// [`TimestampedKeyValueStore`] holds per key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ValueAndTimestamp<V> {
    /// The value.
    pub value: V,
    /// Its timestamp, milliseconds since the epoch.
    pub timestamp: i64,
}

impl<V> ValueAndTimestamp<V> {
    /// `value` stamped `timestamp`.
    pub fn new(value: V, timestamp: i64) -> Self {
        Self { value, timestamp }
    }
}

/// A key-value store whose values carry their timestamps. Get one with
/// [`ProcessorContext::timestamped_key_value_store`](crate::ProcessorContext::timestamped_key_value_store)
/// from a store declared with [`StoreBuilder::with_timestamps`](crate::StoreBuilder::with_timestamps).
pub type TimestampedKeyValueStore<K, V> = crate::state::KeyValueStore<K, ValueAndTimestamp<V>>;

/// A window store whose values carry their timestamps (Kafka's `TimestampedWindowStore`). Get
/// one with
/// [`ProcessorContext::timestamped_window_store`](crate::ProcessorContext::timestamped_window_store).
pub type TimestampedWindowStore<K, V> = crate::state::WindowStore<K, ValueAndTimestamp<V>>;

/// Splits stored bytes into timestamp and plain value bytes; `None` if shorter than 8 bytes.
pub(crate) fn split(stored: &Bytes) -> Option<(i64, Bytes)> {
    let ts: [u8; 8] = stored.get(..8)?.try_into().ok()?;
    Some((i64::from_be_bytes(ts), stored.slice(8..)))
}

/// The stored bytes of `plain` stamped `timestamp`.
pub(crate) fn join(timestamp: i64, plain: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(8 + plain.len());
    out.put_i64(timestamp);
    out.put_slice(plain);
    out.freeze()
}

/// The store entries of a batch of changelog records of a timestamped store: each value joined
/// with its record's timestamp, all values in one buffer (one allocation per batch); records
/// without a key are skipped, tombstones stay deletes.
pub(crate) fn join_batch(batch: Vec<ChangelogEntry>) -> Vec<(Bytes, Option<Bytes>)> {
    let size: usize = batch.iter().map(|e| e.value.as_ref().map_or(0, |v| 8 + v.len())).sum();
    let mut buf = BytesMut::with_capacity(size);
    let mut spans = Vec::with_capacity(batch.len());
    for e in &batch {
        spans.push(e.value.as_ref().map(|v| {
            let start = buf.len();
            buf.put_i64(e.timestamp);
            buf.put_slice(v);
            start..buf.len()
        }));
    }
    let values = buf.freeze();
    batch
        .into_iter()
        .zip(spans)
        .filter_map(|(e, span)| e.key.map(|k| (k, span.map(|r| values.slice(r)))))
        .collect()
}

fn too_short(topic: &str, stored: &Bytes) -> SerdeError {
    SerdeError::new(format!(
        "store `{topic}`: a timestamped value needs at least 8 bytes, found {}",
        stored.len()
    ))
}

/// The timestamp at the front of stored bytes.
fn timestamp_of(topic: &str, stored: &Bytes) -> Result<i64, SerdeError> {
    let ts: [u8; 8] =
        stored.get(..8).and_then(|b| b.try_into().ok()).ok_or_else(|| too_short(topic, stored))?;
    Ok(i64::from_be_bytes(ts))
}

/// The value stored after the timestamp, read from a borrowed slice when `serde` can.
fn plain_value<V: 'static>(
    serde: &SharedSerde<V>,
    topic: &str,
    stored: &Bytes,
) -> Result<V, SerdeError> {
    let plain = stored.get(8..).ok_or_else(|| too_short(topic, stored))?;
    match serde.deserialize_borrowed(topic, plain) {
        Some(v) => v,
        None => serde.deserialize(topic, Some(&stored.slice(8..))),
    }
}

/// The serde of a timestamped store's values: Kafka's `ValueAndTimestampSerde` over the plain
/// value's serde. A value that serializes to null is stored as null (a delete).
pub(crate) struct TimestampedSerde<V>(pub(crate) SharedSerde<V>);

impl<V: 'static> Serde<ValueAndTimestamp<V>> for TimestampedSerde<V> {
    fn serialize(
        &self,
        topic: &str,
        v: &ValueAndTimestamp<V>,
    ) -> Result<Option<Bytes>, SerdeError> {
        // One buffer: the timestamp, then the value's bytes written straight after it.
        let mut out = BytesMut::with_capacity(32);
        out.put_i64(v.timestamp);
        Ok(self.0.serialize_into(topic, &v.value, &mut out)?.then(|| out.freeze()))
    }

    fn deserialize(
        &self,
        topic: &str,
        bytes: Option<&Bytes>,
    ) -> Result<ValueAndTimestamp<V>, SerdeError> {
        let Some(stored) = bytes else {
            return Err(SerdeError::new(format!("store `{topic}`: null timestamped value")));
        };
        let timestamp = timestamp_of(topic, stored)?;
        Ok(ValueAndTimestamp { value: plain_value(&self.0, topic, stored)?, timestamp })
    }
}

/// A plain view of a timestamped store's values (Kafka's `KeyValueStoreFacade`): reads drop the
/// timestamp, writes stamp [`NO_TIMESTAMP`].
pub(crate) struct PlainViewSerde<V>(pub(crate) SharedSerde<V>);

impl<V: 'static> Serde<V> for PlainViewSerde<V> {
    fn serialize(&self, topic: &str, v: &V) -> Result<Option<Bytes>, SerdeError> {
        let mut out = BytesMut::with_capacity(32);
        out.put_i64(NO_TIMESTAMP);
        Ok(self.0.serialize_into(topic, v, &mut out)?.then(|| out.freeze()))
    }

    fn serialize_owned(&self, topic: &str, v: V) -> Result<Option<Bytes>, SerdeError> {
        Ok(self.0.serialize_owned(topic, v)?.map(|plain| join(NO_TIMESTAMP, &plain)))
    }

    fn deserialize(&self, topic: &str, bytes: Option<&Bytes>) -> Result<V, SerdeError> {
        match bytes {
            Some(stored) => plain_value(&self.0, topic, stored),
            None => self.0.deserialize(topic, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;
    use crate::serde::StringSerde;

    #[test]
    fn stored_bytes_are_kafkas_format() {
        let serde = TimestampedSerde::<String>(Arc::new(StringSerde));
        let bytes = serde.serialize("s", &ValueAndTimestamp::new("ab".into(), 258)).unwrap();
        assert_eq!(bytes.as_deref(), Some(&[0, 0, 0, 0, 0, 0, 1, 2, b'a', b'b'][..]));
    }

    #[test]
    fn short_bytes_are_an_error_not_a_panic() {
        let serde = TimestampedSerde::<String>(Arc::new(StringSerde));
        let err = serde.deserialize("s", Some(&Bytes::from_static(b"abc"))).unwrap_err();
        assert!(err.to_string().contains("at least 8 bytes"), "{err}");
        let plain = PlainViewSerde::<String>(Arc::new(StringSerde));
        assert!(plain.deserialize("s", Some(&Bytes::from_static(b"abc"))).is_err());
        assert!(serde.deserialize("s", None).is_err());
    }

    #[test]
    fn the_plain_view_drops_and_stamps_timestamps() {
        let plain = PlainViewSerde::<String>(Arc::new(StringSerde));
        let stored = join(77, b"xy");
        assert_eq!(plain.deserialize("s", Some(&stored)).unwrap(), "xy");
        let written = plain.serialize("s", &"z".to_string()).unwrap().unwrap();
        assert_eq!(split(&written), Some((NO_TIMESTAMP, Bytes::from_static(b"z"))));
    }

    #[test]
    fn a_changelog_batch_is_joined_with_its_record_timestamps() {
        let e = |offset, timestamp, key: Option<&'static [u8]>, value: Option<&'static [u8]>| {
            ChangelogEntry {
                offset,
                timestamp,
                key: key.map(Bytes::from_static),
                value: value.map(Bytes::from_static),
            }
        };
        let batch = vec![
            e(0, 5, Some(b"a"), Some(b"1")),
            e(1, 6, None, Some(b"ignored")),
            e(2, 7, Some(b"b"), None),
            e(3, 8, Some(b"a"), Some(b"22")),
        ];
        assert_eq!(
            join_batch(batch),
            vec![
                (Bytes::from_static(b"a"), Some(join(5, b"1"))),
                (Bytes::from_static(b"b"), None),
                (Bytes::from_static(b"a"), Some(join(8, b"22"))),
            ]
        );
    }

    proptest! {
        #[test]
        fn timestamped_values_round_trip(value in ".*", ts in any::<i64>()) {
            let serde = TimestampedSerde::<String>(Arc::new(StringSerde));
            let v = ValueAndTimestamp::new(value, ts);
            let bytes = serde.serialize("s", &v).unwrap();
            prop_assert_eq!(serde.deserialize("s", bytes.as_ref()).unwrap(), v.clone());
            let owned = serde.serialize_owned("s", v.clone()).unwrap();
            prop_assert_eq!(owned, bytes.clone());
            let mut into = BytesMut::new();
            prop_assert!(serde.serialize_into("s", &v, &mut into).unwrap());
            prop_assert_eq!(Some(into.freeze()), bytes.clone());
            let (t, plain) = split(bytes.as_ref().unwrap()).unwrap();
            prop_assert_eq!(t, ts);
            prop_assert_eq!(&plain[..], v.value.as_bytes());
        }
    }
}
