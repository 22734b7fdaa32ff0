//! Kafka's `__consumer_offsets` record formats, so lag tools that read the topic directly work
//! unchanged. A record key starts with an `i16` version that says what the record is:
//!
//! - key version 0 or 1: an offset commit, `group: string, topic: string, partition: i32`; its
//!   value is `version: i16` then `offset: i64`, v3 `leader_epoch: i32`, `metadata: string`,
//!   `commit_timestamp: i64`, v1 only `expire_timestamp: i64`. We write value version 3 and read
//!   0 to 3 (version 4, Kafka's flexible encoding, is not read).
//! - key version 2: group metadata, `group: string`; its value (Kafka's `GroupMetadataValue`) is
//!   `version: i16`, `protocol_type: string`, `generation: i32`, `protocol: nullable string`,
//!   `leader: nullable string`, v2+ `current_state_timestamp: i64`, and `members: [member_id:
//!   string, v3+ group_instance_id: nullable string, client_id: string, client_host: string, v1+
//!   rebalance_timeout: i32, session_timeout: i32, subscription: bytes, assignment: bytes]`. We
//!   write version 3 and read 0 to 3.
//!
//! A `None` value is a tombstone: the offset or the group was deleted.

use bytes::{BufMut, Bytes, BytesMut};

use super::codec::{DecodeError, Reader, put_bytes, put_count, put_nullable_string, put_string};
use super::consumer_protocol::TopicPartition;

/// A record for `__consumer_offsets`: key and value (`None` = tombstone).
pub(crate) type Record = (Bytes, Option<Bytes>);

const OFFSET_COMMIT_KEY_VERSION: i16 = 1;
const GROUP_METADATA_KEY_VERSION: i16 = 2;
const OFFSET_COMMIT_VALUE_VERSION: i16 = 3;
const GROUP_METADATA_VALUE_VERSION: i16 = 3;

/// The key of a `__consumer_offsets` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OffsetsKey {
    /// The committed offset of one partition for one group.
    OffsetCommit {
        /// Group id.
        group: String,
        /// The partition.
        partition: TopicPartition,
    },
    /// The metadata of one group.
    GroupMetadata {
        /// Group id.
        group: String,
    },
}

impl OffsetsKey {
    pub(crate) fn encode(&self) -> Bytes {
        let mut buf = BytesMut::new();
        match self {
            Self::OffsetCommit { group, partition } => {
                buf.put_i16(OFFSET_COMMIT_KEY_VERSION);
                put_string(&mut buf, group);
                put_string(&mut buf, &partition.topic);
                buf.put_i32(partition.partition);
            }
            Self::GroupMetadata { group } => {
                buf.put_i16(GROUP_METADATA_KEY_VERSION);
                put_string(&mut buf, group);
            }
        }
        buf.freeze()
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        match r.i16("offsets key")? {
            0 | 1 => Ok(Self::OffsetCommit {
                group: r.string("offset commit key group")?,
                partition: TopicPartition {
                    topic: r.string("offset commit key topic")?,
                    partition: r.i32("offset commit key partition")?,
                },
            }),
            2 => Ok(Self::GroupMetadata { group: r.string("group metadata key group")? }),
            version => Err(DecodeError::UnsupportedVersion {
                what: "offsets key",
                version,
                readable: "0, 1 (offset commit), 2 (group metadata)",
            }),
        }
    }
}

/// A committed offset (the value of an offset-commit record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CommittedOffset {
    /// The next offset the group will read.
    pub(crate) offset: i64,
    /// Leader epoch of the committed record, -1 if unknown.
    pub(crate) leader_epoch: i32,
    /// Client metadata, returned as given.
    pub(crate) metadata: String,
    /// When the commit was accepted, in ms since the epoch.
    pub(crate) commit_timestamp: i64,
}

impl CommittedOffset {
    /// Encodes as value version 3.
    pub(crate) fn encode(&self) -> Bytes {
        self.encode_version(OFFSET_COMMIT_VALUE_VERSION)
    }

    /// Encodes at `version` 0..=3 (clamped); version 1 carries expire timestamp -1.
    pub(crate) fn encode_version(&self, version: i16) -> Bytes {
        let version = version.clamp(0, OFFSET_COMMIT_VALUE_VERSION);
        let mut buf = BytesMut::new();
        buf.put_i16(version);
        buf.put_i64(self.offset);
        if version >= 3 {
            buf.put_i32(self.leader_epoch);
        }
        put_string(&mut buf, &self.metadata);
        buf.put_i64(self.commit_timestamp);
        if version == 1 {
            buf.put_i64(-1);
        }
        buf.freeze()
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let version = r.i16("offset commit value")?;
        if !(0..=3).contains(&version) {
            return Err(DecodeError::UnsupportedVersion {
                what: "offset commit value",
                version,
                readable: "0 to 3",
            });
        }
        let offset = r.i64("offset commit value offset")?;
        let leader_epoch =
            if version >= 3 { r.i32("offset commit value leader epoch")? } else { -1 };
        let metadata = r.string("offset commit value metadata")?;
        let commit_timestamp = r.i64("offset commit value timestamp")?;
        if version == 1 {
            r.i64("offset commit value expire timestamp")?;
        }
        Ok(Self { offset, leader_epoch, metadata, commit_timestamp })
    }
}

/// One member in a group-metadata record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MemberMetadata {
    pub(crate) member_id: String,
    pub(crate) group_instance_id: Option<String>,
    pub(crate) client_id: String,
    pub(crate) client_host: String,
    pub(crate) rebalance_timeout_ms: i32,
    pub(crate) session_timeout_ms: i32,
    /// The member's metadata for the group's protocol (a consumer's subscription).
    pub(crate) subscription: Bytes,
    /// The member's assignment in this generation.
    pub(crate) assignment: Bytes,
}

/// The value of a group-metadata record: the group as of its last completed rebalance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupMetadataValue {
    pub(crate) protocol_type: String,
    pub(crate) generation: i32,
    pub(crate) protocol: Option<String>,
    pub(crate) leader: Option<String>,
    /// When the group entered its current state, ms since the epoch (-1 before version 2).
    pub(crate) current_state_timestamp: i64,
    pub(crate) members: Vec<MemberMetadata>,
}

impl GroupMetadataValue {
    /// Encodes as value version 3.
    pub(crate) fn encode(&self) -> Bytes {
        self.encode_version(GROUP_METADATA_VALUE_VERSION)
    }

    /// Encodes at `version` 0..=3 (clamped); fields the version lacks are left out.
    pub(crate) fn encode_version(&self, version: i16) -> Bytes {
        let version = version.clamp(0, GROUP_METADATA_VALUE_VERSION);
        let mut buf = BytesMut::new();
        buf.put_i16(version);
        put_string(&mut buf, &self.protocol_type);
        buf.put_i32(self.generation);
        put_nullable_string(&mut buf, self.protocol.as_deref());
        put_nullable_string(&mut buf, self.leader.as_deref());
        if version >= 2 {
            buf.put_i64(self.current_state_timestamp);
        }
        put_count(&mut buf, self.members.len());
        for m in &self.members {
            put_string(&mut buf, &m.member_id);
            if version >= 3 {
                put_nullable_string(&mut buf, m.group_instance_id.as_deref());
            }
            put_string(&mut buf, &m.client_id);
            put_string(&mut buf, &m.client_host);
            if version >= 1 {
                buf.put_i32(m.rebalance_timeout_ms);
            }
            buf.put_i32(m.session_timeout_ms);
            put_bytes(&mut buf, &m.subscription);
            put_bytes(&mut buf, &m.assignment);
        }
        buf.freeze()
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        const WHAT: &str = "group metadata value";
        let mut r = Reader::new(bytes);
        let version = r.i16(WHAT)?;
        if !(0..=3).contains(&version) {
            return Err(DecodeError::UnsupportedVersion {
                what: WHAT,
                version,
                readable: "0 to 3",
            });
        }
        let protocol_type = r.string("group protocol type")?;
        let generation = r.i32("group generation")?;
        let protocol = r.nullable_string("group protocol")?;
        let leader = r.nullable_string("group leader")?;
        let current_state_timestamp =
            if version >= 2 { r.i64("group state timestamp")? } else { -1 };
        // Smallest member: four empty strings/null (8), session timeout (4), two byte arrays (8).
        let n = r.count("group members", 20)?;
        let mut members = Vec::with_capacity(n);
        for _ in 0..n {
            let member_id = r.string("member id")?;
            let group_instance_id =
                if version >= 3 { r.nullable_string("member group instance id")? } else { None };
            let client_id = r.string("member client id")?;
            let client_host = r.string("member client host")?;
            let session_or_rebalance = r.i32("member timeout")?;
            let (rebalance_timeout_ms, session_timeout_ms) = if version >= 1 {
                (session_or_rebalance, r.i32("member session timeout")?)
            } else {
                // Before version 1 there was one timeout, used for both.
                (session_or_rebalance, session_or_rebalance)
            };
            members.push(MemberMetadata {
                member_id,
                group_instance_id,
                client_id,
                client_host,
                rebalance_timeout_ms,
                session_timeout_ms,
                subscription: r.bytes("member subscription")?,
                assignment: r.bytes("member assignment")?,
            });
        }
        Ok(Self { protocol_type, generation, protocol, leader, current_state_timestamp, members })
    }
}

/// The record for a committed offset, or its tombstone.
pub(crate) fn offset_commit_record(
    group: &str,
    partition: &TopicPartition,
    value: Option<&CommittedOffset>,
) -> Record {
    let key = OffsetsKey::OffsetCommit { group: group.to_owned(), partition: partition.clone() };
    (key.encode(), value.map(CommittedOffset::encode))
}

/// The record for a group's metadata, or its tombstone.
pub(crate) fn group_metadata_record(group: &str, value: Option<&GroupMetadataValue>) -> Record {
    let key = OffsetsKey::GroupMetadata { group: group.to_owned() };
    (key.encode(), value.map(GroupMetadataValue::encode))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn committed_offsets() -> impl Strategy<Value = CommittedOffset> {
        (any::<i64>(), any::<i32>(), "\\PC{0,20}", any::<i64>()).prop_map(
            |(offset, leader_epoch, metadata, commit_timestamp)| CommittedOffset {
                offset,
                leader_epoch,
                metadata,
                commit_timestamp,
            },
        )
    }

    fn bytes() -> impl Strategy<Value = Bytes> {
        proptest::collection::vec(any::<u8>(), 0..12).prop_map(Bytes::from)
    }

    fn members() -> impl Strategy<Value = MemberMetadata> {
        (
            "[a-z0-9-]{0,12}",
            proptest::option::of("[a-z]{0,6}"),
            "[a-z]{0,6}",
            "[0-9./]{0,9}",
            any::<i32>(),
            any::<i32>(),
            bytes(),
            bytes(),
        )
            .prop_map(
                |(member_id, group_instance_id, client_id, client_host, r, s, sub, asg)| {
                    MemberMetadata {
                        member_id,
                        group_instance_id,
                        client_id,
                        client_host,
                        rebalance_timeout_ms: r,
                        session_timeout_ms: s,
                        subscription: sub,
                        assignment: asg,
                    }
                },
            )
    }

    fn group_values() -> impl Strategy<Value = GroupMetadataValue> {
        (
            "[a-z]{0,8}",
            any::<i32>(),
            proptest::option::of("[a-z-]{0,12}"),
            proptest::option::of("[a-z0-9-]{0,12}"),
            any::<i64>(),
            proptest::collection::vec(members(), 0..4),
        )
            .prop_map(|(protocol_type, generation, protocol, leader, ts, members)| {
                GroupMetadataValue {
                    protocol_type,
                    generation,
                    protocol,
                    leader,
                    current_state_timestamp: ts,
                    members,
                }
            })
    }

    fn keys() -> impl Strategy<Value = OffsetsKey> {
        prop_oneof![
            ("\\PC{0,12}", "[a-z._-]{1,12}", any::<i32>()).prop_map(|(group, topic, p)| {
                OffsetsKey::OffsetCommit { group, partition: TopicPartition::new(topic, p) }
            }),
            "\\PC{0,12}".prop_map(|group| OffsetsKey::GroupMetadata { group }),
        ]
    }

    proptest! {
        #[test]
        fn keys_round_trip(key in keys()) {
            prop_assert_eq!(OffsetsKey::decode(&key.encode()).unwrap(), key);
        }

        #[test]
        fn offset_values_round_trip_at_every_version(v in committed_offsets(), version in 0i16..=3) {
            let mut expected = v.clone();
            if version < 3 { expected.leader_epoch = -1; }
            prop_assert_eq!(CommittedOffset::decode(&v.encode_version(version)).unwrap(), expected);
        }

        #[test]
        fn group_values_round_trip_at_every_version(v in group_values(), version in 0i16..=3) {
            let mut expected = v.clone();
            if version < 2 { expected.current_state_timestamp = -1; }
            for m in &mut expected.members {
                if version < 3 { m.group_instance_id = None; }
                if version < 1 { m.rebalance_timeout_ms = m.session_timeout_ms; }
            }
            prop_assert_eq!(GroupMetadataValue::decode(&v.encode_version(version)).unwrap(), expected);
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = OffsetsKey::decode(&bytes);
            let _ = CommittedOffset::decode(&bytes);
            let _ = GroupMetadataValue::decode(&bytes);
        }
    }

    #[test]
    fn offset_commit_layout_matches_kafka_byte_for_byte() {
        let (key, value) = offset_commit_record(
            "g",
            &TopicPartition::new("t", 3),
            Some(&CommittedOffset {
                offset: 42,
                leader_epoch: 5,
                metadata: "m".into(),
                commit_timestamp: 1000,
            }),
        );
        assert_eq!(key.as_ref(), &[0, 1, 0, 1, b'g', 0, 1, b't', 0, 0, 0, 3]);
        let mut expected = vec![0, 3, 0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 5, 0, 1, b'm'];
        expected.extend_from_slice(&1000i64.to_be_bytes());
        assert_eq!(value.unwrap().as_ref(), &expected[..]);
    }

    #[test]
    fn group_metadata_key_and_tombstone() {
        let (key, value) = group_metadata_record("grp", None);
        assert_eq!(key.as_ref(), &[0, 2, 0, 3, b'g', b'r', b'p']);
        assert_eq!(value, None);
        assert_eq!(
            OffsetsKey::decode(&key).unwrap(),
            OffsetsKey::GroupMetadata { group: "grp".into() }
        );
    }

    #[test]
    fn unknown_versions_are_errors() {
        assert!(matches!(
            OffsetsKey::decode(&[0, 7, 0, 0]),
            Err(DecodeError::UnsupportedVersion { version: 7, .. })
        ));
        assert!(matches!(
            CommittedOffset::decode(&[0, 4]),
            Err(DecodeError::UnsupportedVersion { version: 4, .. })
        ));
        assert!(matches!(
            GroupMetadataValue::decode(&[0, 4]),
            Err(DecodeError::UnsupportedVersion { version: 4, .. })
        ));
    }
}
