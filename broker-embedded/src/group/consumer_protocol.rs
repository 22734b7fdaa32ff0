//! Kafka's consumer protocol: the opaque bytes consumers put in JoinGroup (a [`Subscription`]) and
//! the leader hands back through SyncGroup (an [`Assignment`]). The coordinator never reads them;
//! the group leader's assignor does.
//!
//! Layout (big-endian, non-flexible): `version: i16`, then
//! - Subscription: `topics: [string]`, `user_data: nullable bytes`, v1+ `owned_partitions:
//!   [topic: string, partitions: [i32]]`, v2+ `generation_id: i32`, v3+ `rack_id: nullable string`;
//! - Assignment: `partitions: [topic: string, partitions: [i32]]`, `user_data: nullable bytes`
//!   (versions 1-3 add no field).
//!
//! As Kafka does, a newer version than 3 is read with the version-3 layout and trailing bytes are
//! ignored, so newer clients stay readable.

use bytes::{BufMut, Bytes, BytesMut};

use super::codec::{
    DecodeError, Reader, put_count, put_nullable_bytes, put_nullable_string, put_string,
};

/// Highest consumer-protocol version this code writes.
pub(crate) const CONSUMER_PROTOCOL_VERSION: i16 = 3;

pub(crate) use crate::client::TopicPartition;

/// What a member sends when it joins: the topics it wants, what it owns now, and free-form
/// data for the assignor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// Subscribed topics.
    pub topics: Vec<String>,
    /// Assignor-specific data (`None` when the assignor needs none).
    pub user_data: Option<Bytes>,
    /// Partitions the member owns now (version 1+); cooperative assignors keep them in place.
    pub owned_partitions: Vec<TopicPartition>,
    /// Generation in which `owned_partitions` were assigned, -1 if unknown (version 2+).
    pub generation_id: i32,
    /// The member's rack, for rack-aware assignors (version 3+).
    pub rack_id: Option<String>,
}

impl Default for Subscription {
    fn default() -> Self {
        Self {
            topics: Vec::new(),
            user_data: None,
            owned_partitions: Vec::new(),
            generation_id: -1,
            rack_id: None,
        }
    }
}

/// What the leader gives a member: its partitions and free-form assignor data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assignment {
    /// Assigned partitions.
    pub partitions: Vec<TopicPartition>,
    /// Assignor-specific data.
    pub user_data: Option<Bytes>,
}

impl Subscription {
    /// Encodes at `version` (clamped to 0..=3); fields the version lacks are left out.
    pub(crate) fn encode(&self, version: i16) -> Bytes {
        let version = version.clamp(0, CONSUMER_PROTOCOL_VERSION);
        let mut buf = BytesMut::new();
        buf.put_i16(version);
        put_count(&mut buf, self.topics.len());
        for topic in &self.topics {
            put_string(&mut buf, topic);
        }
        put_nullable_bytes(&mut buf, self.user_data.as_deref());
        if version >= 1 {
            put_partitions(&mut buf, &self.owned_partitions);
        }
        if version >= 2 {
            buf.put_i32(self.generation_id);
        }
        if version >= 3 {
            put_nullable_string(&mut buf, self.rack_id.as_deref());
        }
        buf.freeze()
    }

    /// Decodes any version; fields absent from the version get their defaults.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let version = read_version(&mut r, "subscription")?;
        let n = r.count("subscription topics", 2)?;
        let mut topics = Vec::with_capacity(n);
        for _ in 0..n {
            topics.push(r.string("subscription topic")?);
        }
        let user_data = r.nullable_bytes("subscription user data")?;
        let mut sub = Self { topics, user_data, ..Self::default() };
        if version >= 1 {
            sub.owned_partitions = read_partitions(&mut r, "owned partitions")?;
        }
        if version >= 2 {
            sub.generation_id = r.i32("subscription generation")?;
        }
        if version >= 3 {
            sub.rack_id = r.nullable_string("subscription rack id")?;
        }
        Ok(sub)
    }
}

impl Assignment {
    /// Encodes at `version` (clamped to 0..=3; all versions share one layout).
    pub(crate) fn encode(&self, version: i16) -> Bytes {
        let mut buf = BytesMut::new();
        buf.put_i16(version.clamp(0, CONSUMER_PROTOCOL_VERSION));
        put_partitions(&mut buf, &self.partitions);
        put_nullable_bytes(&mut buf, self.user_data.as_deref());
        buf.freeze()
    }

    /// Decodes any version. Empty bytes (a member the leader left out) mean an empty assignment.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.is_empty() {
            return Ok(Self::default());
        }
        let mut r = Reader::new(bytes);
        read_version(&mut r, "assignment")?;
        let partitions = read_partitions(&mut r, "assigned partitions")?;
        let user_data = r.nullable_bytes("assignment user data")?;
        Ok(Self { partitions, user_data })
    }
}

fn read_version(r: &mut Reader<'_>, what: &'static str) -> Result<i16, DecodeError> {
    let version = r.i16(what)?;
    if version < 0 {
        return Err(DecodeError::UnsupportedVersion { what, version, readable: "0 and above" });
    }
    Ok(version)
}

/// Writes partitions grouped by runs of the same topic, in the given order.
fn put_partitions(buf: &mut BytesMut, partitions: &[TopicPartition]) {
    let runs: Vec<&[TopicPartition]> = partitions.chunk_by(|a, b| a.topic == b.topic).collect();
    put_count(buf, runs.len());
    for run in runs {
        put_string(buf, &run[0].topic);
        put_count(buf, run.len());
        for tp in run {
            buf.put_i32(tp.partition);
        }
    }
}

fn read_partitions(
    r: &mut Reader<'_>,
    what: &'static str,
) -> Result<Vec<TopicPartition>, DecodeError> {
    let topics = r.count(what, 6)?;
    let mut out = Vec::new();
    for _ in 0..topics {
        let topic = r.string(what)?;
        let n = r.count(what, 4)?;
        out.reserve(n);
        for _ in 0..n {
            out.push(TopicPartition { topic: topic.clone(), partition: r.i32(what)? });
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn topic_partitions() -> impl Strategy<Value = Vec<TopicPartition>> {
        proptest::collection::vec(("[a-c]{1,3}", any::<i32>()), 0..8)
            .prop_map(|v| v.into_iter().map(|(t, p)| TopicPartition::new(t, p)).collect())
    }

    fn subscriptions() -> impl Strategy<Value = Subscription> {
        (
            proptest::collection::vec("[a-z._-]{0,12}", 0..5),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..16)),
            topic_partitions(),
            any::<i32>(),
            proptest::option::of("\\PC{0,8}"),
        )
            .prop_map(|(topics, user_data, owned_partitions, generation_id, rack_id)| {
                Subscription {
                    topics,
                    user_data: user_data.map(Bytes::from),
                    owned_partitions,
                    generation_id,
                    rack_id,
                }
            })
    }

    proptest! {
        #[test]
        fn subscription_round_trips_at_every_version(sub in subscriptions(), version in 0i16..=3) {
            let decoded = Subscription::decode(&sub.encode(version)).unwrap();
            let mut expected = sub.clone();
            if version < 1 { expected.owned_partitions.clear(); }
            if version < 2 { expected.generation_id = -1; }
            if version < 3 { expected.rack_id = None; }
            prop_assert_eq!(decoded, expected);
        }

        #[test]
        fn assignment_round_trips(partitions in topic_partitions(),
                                  user_data in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..16)),
                                  version in 0i16..=3) {
            let a = Assignment { partitions, user_data: user_data.map(Bytes::from) };
            prop_assert_eq!(Assignment::decode(&a.encode(version)).unwrap(), a);
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Subscription::decode(&bytes);
            let _ = Assignment::decode(&bytes);
        }

        #[test]
        fn truncated_input_is_an_error(sub in subscriptions(), cut in any::<prop::sample::Index>()) {
            let bytes = sub.encode(3);
            let cut = cut.index(bytes.len());
            prop_assert!(Subscription::decode(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn newer_versions_are_read_with_the_latest_layout_and_trailing_bytes_ignored() {
        let sub = Subscription {
            topics: vec!["t".into()],
            generation_id: 7,
            rack_id: Some("r1".into()),
            ..Subscription::default()
        };
        let mut bytes = BytesMut::from(&sub.encode(3)[..]);
        bytes[1] = 9; // version 9
        bytes.put_i32(42); // a future field
        assert_eq!(Subscription::decode(&bytes).unwrap(), sub);
    }

    #[test]
    fn known_v0_bytes_decode() {
        // version 0, one topic "ab", null user data
        let bytes = [0, 0, 0, 0, 0, 1, 0, 2, b'a', b'b', 0xff, 0xff, 0xff, 0xff];
        let sub = Subscription::decode(&bytes).unwrap();
        assert_eq!(sub.topics, vec!["ab".to_string()]);
        assert_eq!(sub.user_data, None);
        assert_eq!(sub.encode(0).as_ref(), &bytes);
    }

    #[test]
    fn negative_version_and_empty_assignment() {
        assert!(matches!(
            Subscription::decode(&[0xff, 0xff]),
            Err(DecodeError::UnsupportedVersion { version: -1, .. })
        ));
        assert_eq!(Assignment::decode(&[]).unwrap(), Assignment::default());
    }
}
