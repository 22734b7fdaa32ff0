//! `group_by` on a table: re-keys each update for a [`KGroupedTable`] aggregation (Kafka's
//! `KTableRepartitionMap`), and the serde of the [`Change`]s it sends through the repartition topic
//! (Kafka's `ChangedSerializer` / `ChangedDeserializer`).
//!
//! An update of the table, `old → new`, leaves the select processor as records keyed by the
//! selected keys:
//!
//! - the selected keys differ (or one side is absent): the old value as a subtraction
//!   `(selector(old).key, Change { new: None, old })`, then the new value as an addition
//!   `(selector(new).key, Change { new, old: None })`; both go through the repartition topic as
//!   separate records, since the two keys may live in different partitions;
//! - the selected key is the same for both: one record `(key, Change { new, old })`, so that the
//!   aggregation subtracts and adds in one step and emits one result, as Kafka does since 3.5
//!   (KIP-904; before, and still with `upgrade.from` ≤ 3.4, two records were sent in every
//!   case).
//!
//! Pairs whose selected key is null (a key that serializes to null, like `None` for an
//! `Option<String>` key) are dropped: Kafka drops them before the repartition topic, here the
//! aggregation drops them as it reads them, so the result is the same. Likewise a selected value
//! that serializes to null (`()`, say) counts as absent, as a null value does in Kafka.

use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use streams_core::{
    ProcessError, Processor, ProcessorContext, Record, Serde, SerdeError, SerdeRegistry,
    SharedSerde,
};

use crate::config::Named;
use crate::kgrouped_table::KGroupedTable;
use crate::ktable::{Change, KTable};
use crate::materialized::Grouped;

/// The select processor: each side of an update re-keyed and re-valued by the selector.
struct TableRepartitionMap<F> {
    selector: Arc<F>,
}

impl<K, V, KR, VR, F> Processor<K, Change<V>, KR, Change<VR>> for TableRepartitionMap<F>
where
    K: Clone + 'static,
    V: Clone + 'static,
    KR: Clone + PartialEq + 'static,
    VR: Clone + 'static,
    F: Fn(&K, &V) -> (KR, VR) + 'static,
{
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<KR, Change<VR>>,
        r: Record<K, Change<V>>,
    ) -> Result<(), ProcessError> {
        let Record { key, value: Change { new, old }, timestamp, headers } = r;
        // A delete has no new pair, an insert no old one.
        let new = new.map(|v| (self.selector)(&key, &v));
        let old = old.map(|v| (self.selector)(&key, &v));
        match (old, new) {
            (Some((old_key, old_value)), Some((new_key, new_value))) if old_key == new_key => {
                ctx.forward(Record {
                    key: new_key,
                    value: Change::new(Some(new_value), Some(old_value)),
                    timestamp,
                    headers,
                });
            }
            (old, new) => {
                // The subtraction first, as the aggregations expect.
                if let Some((old_key, old_value)) = old {
                    ctx.forward(Record {
                        key: old_key,
                        value: Change::new(None, Some(old_value)),
                        timestamp,
                        headers: headers.clone(),
                    });
                }
                if let Some((new_key, new_value)) = new {
                    ctx.forward(Record {
                        key: new_key,
                        value: Change::new(Some(new_value), None),
                        timestamp,
                        headers,
                    });
                }
            }
        }
        Ok(())
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KTable<K, V> {
    /// Groups the table by a new key: `selector(key, value)` gives each entry its group and the
    /// value it contributes there (`KTABLE-SELECT-`). The [`KGroupedTable`]'s aggregations then
    /// repartition by the new key and keep each group's aggregate up to date: an update of an
    /// entry subtracts its old contribution from its old group and adds the new one to its new
    /// group; a delete only subtracts.
    ///
    /// The repartition topic carries the values with the built-in serde of `VR` (strings, bytes
    /// and numbers), or with the serde given by [`KTable::group_by_with`]; other types need that
    /// one (a default registered with `StreamsConfig::default_serde` is not seen here). A pair
    /// whose key or value serializes to null is dropped, as Kafka drops null keys and values.
    ///
    /// ```
    /// use streams_dsl::prelude::*;
    ///
    /// // user -> region; how many users per region?
    /// let builder = StreamsBuilder::new();
    /// builder
    ///     .table::<String, String>("user-regions", Consumed::default(), Materialized::default())
    ///     .group_by(|_user, region| (region.clone(), region.clone()))
    ///     .count()
    ///     .to_stream()
    ///     .to("region-counts");
    /// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
    /// let input = driver.input_topic::<String, Option<String>>("user-regions");
    /// input.pipe_input_at("alice".into(), Some("asia".into()), 0)?;
    /// input.pipe_input_at("bob".into(), Some("asia".into()), 1)?;
    /// input.pipe_input_at("alice".into(), Some("europe".into()), 2)?; // alice moves
    /// let out = driver.output_topic::<String, Option<i64>>("region-counts").read_key_values_to_list();
    /// assert_eq!(
    ///     out,
    ///     vec![
    ///         ("asia".into(), Some(1)),
    ///         ("asia".into(), Some(2)),
    ///         ("asia".into(), Some(1)),
    ///         ("europe".into(), Some(1)),
    ///     ]
    /// );
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn group_by<KR, VR>(
        &self,
        selector: impl Fn(&K, &V) -> (KR, VR) + Send + Sync + 'static,
    ) -> KGroupedTable<KR, VR>
    where
        KR: Clone + PartialEq + 'static,
        VR: Clone + 'static,
    {
        self.group_by_with(selector, Grouped::default())
    }

    /// [`KTable::group_by`] with serdes for the repartition topic, or a name: a name `n` names
    /// the select processor `n` and the repartition topic `<application.id>-n-repartition`
    /// (shared by all aggregations of the grouped table), as in Kafka.
    ///
    /// ```
    /// use streams_dsl::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder
    ///     .table::<String, i64>("balances", Consumed::default(), Materialized::default())
    ///     .group_by_with(|account, balance| (account[..1].to_string(), *balance), Grouped::as_("by-bank"))
    ///     .reduce(|a, b| a + b, |a, b| a - b);
    /// let topology = builder.build()?;
    /// assert!(topology.describe().to_string().contains("(topic: by-bank-repartition)"));
    /// let driver = TopologyTestDriver::new(topology, StreamsConfig::new("doc"))?;
    /// driver.input_topic::<String, Option<i64>>("balances").pipe_input_at("a1".into(), Some(5), 0)?;
    /// assert!(driver.output_topic_names().contains(&"doc-by-bank-repartition".to_string()));
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn group_by_with<KR, VR>(
        &self,
        selector: impl Fn(&K, &V) -> (KR, VR) + Send + Sync + 'static,
        grouped: Grouped<KR, VR>,
    ) -> KGroupedTable<KR, VR>
    where
        KR: Clone + PartialEq + 'static,
        VR: Clone + 'static,
    {
        let name = self.name(grouped.name.clone().map(Named), "KTABLE-SELECT-");
        let selector = Arc::new(selector);
        let node = self.then::<KR, Change<VR>, _>(name, move || TableRepartitionMap {
            selector: selector.clone(),
        });
        KGroupedTable::new(self.builder.clone(), node, grouped)
    }
}

/// The serde of the changes on a table grouping's repartition topic: Kafka's
/// `ChangedSerializer` / `ChangedDeserializer` byte for byte, around the serde of the values.
///
/// The value of a record is the inner serde's bytes of the new value, of the old one, or of both,
/// followed by one flag byte saying which:
///
/// | flag | layout                                                          |
/// |------|-----------------------------------------------------------------|
/// | 0    | `old` `0`                                                       |
/// | 1    | `new` `1`                                                       |
/// | 2    | `varint(len(new))` `new` `old` `2`                              |
/// | 3–5  | as 0–2, with an `is_latest` byte (0 or 1) before the flag       |
///
/// The varint is Kafka's (zig-zag, 7 bits a byte, low bits first). Flags 3–5 are written by
/// Kafka for versioned tables only; they are read (the `is_latest` byte is checked and ignored)
/// and never written. A change with neither value (possible only when the values serialize to
/// null) is written as a null record value, which reads back as such a change; Kafka refuses to
/// write it.
pub(crate) struct ChangeSerde<V> {
    inner: SharedSerde<V>,
}

impl<V: 'static> ChangeSerde<V> {
    pub(crate) fn new(inner: SharedSerde<V>) -> Self {
        Self { inner }
    }

    /// The serde of the changes for `given`, or for the built-in serde of `V`; `None` if `V` has
    /// neither (the repartition sink then asks the application's registry for `Change<V>`, and
    /// its error says a serde is needed).
    pub(crate) fn for_values(given: Option<SharedSerde<V>>) -> Option<Self> {
        given.or_else(|| SerdeRegistry::default().get::<V>()).map(Self::new)
    }
}

impl<V: 'static> Serde<Change<V>> for ChangeSerde<V> {
    fn serialize(&self, topic: &str, change: &Change<V>) -> Result<Option<Bytes>, SerdeError> {
        let bytes = |v: &Option<V>| match v {
            Some(v) => self.inner.serialize(topic, v),
            None => Ok(None),
        };
        let new = bytes(&change.new)?;
        let old = bytes(&change.old)?;
        Ok(encode(new.as_deref(), old.as_deref()))
    }

    fn deserialize(&self, topic: &str, bytes: Option<&Bytes>) -> Result<Change<V>, SerdeError> {
        let Some(bytes) = bytes else { return Ok(Change::new(None, None)) };
        let (new, old) = decode(bytes).map_err(|e| {
            SerdeError::new(format!("a table change in topic `{topic}` is malformed: {e}"))
        })?;
        let value =
            |b: Option<Bytes>| b.map(|b| self.inner.deserialize(topic, Some(&b))).transpose();
        Ok(Change::new(value(new)?, value(old)?))
    }
}

/// Kafka's encoding of a change from the serialized new and old values (`None`: absent).
pub(crate) fn encode(new: Option<&[u8]>, old: Option<&[u8]>) -> Option<Bytes> {
    let mut buf = BytesMut::new();
    match (new, old) {
        (Some(new), Some(old)) => {
            put_varint(&mut buf, new.len());
            buf.reserve(new.len() + old.len() + 1);
            buf.put_slice(new);
            buf.put_slice(old);
            buf.put_u8(2);
        }
        (Some(new), None) => {
            buf.reserve(new.len() + 1);
            buf.put_slice(new);
            buf.put_u8(1);
        }
        (None, Some(old)) => {
            buf.reserve(old.len() + 1);
            buf.put_slice(old);
            buf.put_u8(0);
        }
        (None, None) => return None,
    }
    Some(buf.freeze())
}

/// The serialized new and old values of an encoded change.
pub(crate) fn decode(data: &Bytes) -> Result<(Option<Bytes>, Option<Bytes>), String> {
    let Some((&flag, rest)) = data.split_last() else {
        return Err("no bytes (at least the flag byte is needed)".into());
    };
    let body = match flag {
        0..=2 => data.slice(..rest.len()),
        3..=5 => {
            let Some((&is_latest, body)) = rest.split_last() else {
                return Err(format!("flag {flag} needs an is_latest byte before it"));
            };
            if is_latest > 1 {
                return Err(format!("is_latest byte is {is_latest}, expected 0 or 1"));
            }
            data.slice(..body.len())
        }
        _ => return Err(format!("unknown flag byte {flag} (expected 0 to 5)")),
    };
    match flag % 3 {
        0 => Ok((None, Some(body))),
        1 => Ok((Some(body), None)),
        _ => {
            let (len, at) = read_varint(&body)?;
            let end = at
                .checked_add(len)
                .filter(|end| *end <= body.len())
                .ok_or_else(|| format!("new value of {len} bytes overruns the record"))?;
            Ok((Some(body.slice(at..end)), Some(body.slice(end..))))
        }
    }
}

/// Kafka's `ByteUtils.writeVarint` of a non-negative `i32` (zig-zag, then 7 bits a byte).
fn put_varint(buf: &mut BytesMut, len: usize) {
    // A value's bytes never exceed i32::MAX in Kafka; zig-zag of a non-negative n is 2n.
    let mut v = (len as u64) << 1;
    while v >= 0x80 {
        buf.put_u8((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    buf.put_u8(v as u8);
}

/// Kafka's `ByteUtils.readVarint`: the length and where the bytes after it start.
fn read_varint(b: &[u8]) -> Result<(usize, usize), String> {
    let mut raw: u32 = 0;
    for (i, byte) in b.iter().enumerate().take(5) {
        raw |= u32::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            let value = ((raw >> 1) as i32) ^ -((raw & 1) as i32);
            let len = usize::try_from(value)
                .map_err(|_| format!("negative length {value} of the new value"))?;
            return Ok((len, i + 1));
        }
    }
    if b.len() >= 5 {
        Err("the length of the new value is a varint longer than 5 bytes".into())
    } else {
        Err("the length of the new value is cut short".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(new: Option<&[u8]>, old: Option<&[u8]>) {
        let encoded = encode(new, old).unwrap();
        let (n, o) = decode(&encoded).unwrap();
        assert_eq!((n.as_deref(), o.as_deref()), (new, old));
    }

    #[test]
    fn bytes_are_kafkas() {
        assert_eq!(encode(Some(b"ab"), None).unwrap().as_ref(), b"ab\x01");
        assert_eq!(encode(None, Some(b"ab")).unwrap().as_ref(), b"ab\x00");
        // varint(zigzag(1)) = 2
        assert_eq!(encode(Some(b"a"), Some(b"bc")).unwrap().as_ref(), b"\x02abc\x02");
        // 200 bytes: zigzag 400 = 0x190 -> 0x90 0x03
        let big = vec![7u8; 200];
        let e = encode(Some(&big), Some(b"")).unwrap();
        assert_eq!(&e[..2], &[0x90, 0x03]);
        assert_eq!(e.len(), 2 + 200 + 1);
        assert_eq!(encode(None, None), None);
        assert_eq!(encode(Some(b""), None).unwrap().as_ref(), b"\x01");
    }

    #[test]
    fn every_shape_round_trips_across_varint_widths() {
        for n in [0usize, 1, 63, 64, 65, 127, 128, 8191, 8192, 70_000] {
            let new = vec![1u8; n];
            let old = vec![2u8; n / 2 + 1];
            round_trip(Some(&new), Some(&old));
            round_trip(Some(&new), Some(b""));
            round_trip(Some(&new), None);
            round_trip(None, Some(&old));
        }
    }

    #[test]
    fn versioned_flags_are_read() {
        let b = |v: &[u8]| Bytes::copy_from_slice(v);
        assert_eq!(decode(&b(b"ab\x01\x03")).unwrap(), (None, Some(b(b"ab"))));
        assert_eq!(decode(&b(b"ab\x00\x04")).unwrap(), (Some(b(b"ab")), None));
        assert_eq!(decode(&b(b"\x02abc\x01\x05")).unwrap(), (Some(b(b"a")), Some(b(b"bc"))));
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        let b = |v: &[u8]| Bytes::copy_from_slice(v);
        for bad in [
            &b""[..],
            b"\x06",
            b"ab\xff",
            b"\x03",
            b"a\x02\x03",
            b"\x02",
            b"\x0a\x02",
            b"\x80\x02",
            b"\xff\xff\xff\xff\xff\xff\x02",
            b"\x01\x02",
        ] {
            assert!(decode(&b(bad)).is_err(), "{bad:?} should not decode");
        }
    }

    #[test]
    fn the_serde_maps_values_and_nulls() {
        let serde = ChangeSerde::<String>::new(Arc::new(streams_core::Serdes::string()));
        let change = Change::new(Some("new".to_string()), Some("old".to_string()));
        let bytes = serde.serialize("t", &change).unwrap();
        assert_eq!(serde.deserialize("t", bytes.as_ref()).unwrap(), change);
        assert_eq!(serde.deserialize("t", None).unwrap(), Change::new(None, None));
        let err = serde.deserialize("t", Some(&Bytes::from_static(b"\xff\x01"))).unwrap_err();
        assert!(err.to_string().contains("not valid UTF-8"), "{err}");
    }
}
