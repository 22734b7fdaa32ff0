//! Tests of the request guard against encodings produced by `kafka-protocol` itself.

use super::schema::{APIS, Api, api};
use super::{GuardError, check_request, walk_body};
use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{
    self as m, BrokerId, GroupId, ProducerId, TopicName, TransactionalId,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use proptest::prelude::*;
use std::sync::OnceLock;

fn s(x: &'static str) -> StrBytes {
    StrBytes::from_static_str(x)
}
fn topic(x: &'static str) -> TopicName {
    TopicName(s(x))
}
fn group(x: &'static str) -> GroupId {
    GroupId(s(x))
}

/// Adds an unknown tagged field (which must be skipped) in flexible versions.
macro_rules! tag {
    ($x:expr, $flex:expr) => {{
        let mut x = $x;
        if $flex {
            x.unknown_tagged_fields.insert(77, Bytes::from_static(b"\x01\x02\x03"));
        }
        x
    }};
}

/// A realistic request of API `key` at version `v`: arrays hold two or three elements, strings
/// are non-empty and optional fields are set wherever the version has them.
fn sample(key: i16, v: i16) -> Vec<u8> {
    let fx = v >= api(key).map_or(i16::MAX, |a| a.flexible_from);
    match key {
        0 => {
            use m::produce_request::*;
            let part = |i: i32, rec: Option<&'static [u8]>| {
                tag!(
                    PartitionProduceData::default()
                        .with_index(i)
                        .with_records(rec.map(Bytes::from_static)),
                    fx
                )
            };
            let t = |n: &'static str| {
                let mut t = TopicProduceData::default().with_partition_data(vec![
                    part(0, Some(b"batch-bytes")),
                    part(1, None),
                    part(2, Some(b"")),
                ]);
                if v <= 12 {
                    t.name = topic(n);
                }
                tag!(t, fx)
            };
            enc(
                v,
                tag!(
                    ProduceRequest::default()
                        .with_transactional_id(Some(TransactionalId(s("txn-1"))))
                        .with_acks(-1)
                        .with_timeout_ms(30_000)
                        .with_topic_data(vec![t("orders"), t("payments")]),
                    fx
                ),
            )
        }
        1 => {
            use m::fetch_request::*;
            let part = |i: i32| {
                let mut p = FetchPartition::default()
                    .with_partition(i)
                    .with_fetch_offset(1_000 + i64::from(i))
                    .with_partition_max_bytes(1 << 20);
                if v >= 9 {
                    p.current_leader_epoch = 3;
                }
                if v >= 12 {
                    p.last_fetched_epoch = 2;
                }
                if v >= 5 {
                    p.log_start_offset = 0;
                }
                tag!(p, fx)
            };
            let t = |n: &'static str| {
                let mut t = FetchTopic::default().with_partitions(vec![part(0), part(1)]);
                if v <= 12 {
                    t.topic = topic(n);
                }
                tag!(t, fx)
            };
            let mut r = FetchRequest::default()
                .with_max_wait_ms(500)
                .with_min_bytes(1)
                .with_max_bytes(50 << 20)
                .with_isolation_level(1)
                .with_topics(vec![t("orders"), t("payments"), t("audit")]);
            if v <= 14 {
                r.replica_id = BrokerId(-1);
            }
            if v >= 7 {
                r.session_id = 12;
                r.session_epoch = 4;
                let mut f = ForgottenTopic::default().with_partitions(vec![4, 5, 6]);
                if v <= 12 {
                    f.topic = topic("old");
                }
                r.forgotten_topics_data = vec![tag!(f.clone(), fx), tag!(f, fx)];
            }
            if v >= 11 {
                r.rack_id = s("rack-a");
            }
            if v >= 12 {
                r.cluster_id = Some(s("cluster-xyz"));
            }
            enc(v, tag!(r, fx))
        }
        2 => {
            use m::list_offsets_request::*;
            let part = |i: i32| {
                let mut p =
                    ListOffsetsPartition::default().with_partition_index(i).with_timestamp(-1);
                if v >= 4 {
                    p.current_leader_epoch = 7;
                }
                tag!(p, fx)
            };
            let t = |n: &'static str| {
                tag!(
                    ListOffsetsTopic::default().with_name(topic(n)).with_partitions(vec![
                        part(0),
                        part(1),
                        part(2)
                    ]),
                    fx
                )
            };
            let mut r = ListOffsetsRequest::default()
                .with_replica_id(BrokerId(-1))
                .with_topics(vec![t("a"), t("bb")]);
            if v >= 2 {
                r.isolation_level = 1;
            }
            if v >= 10 {
                r.timeout_ms = 1000;
            }
            enc(v, tag!(r, fx))
        }
        3 => {
            use m::metadata_request::*;
            let t = |n: Option<&'static str>| {
                tag!(MetadataRequestTopic::default().with_name(n.map(topic)), fx)
            };
            let mut topics = vec![t(Some("orders")), t(Some("payments"))];
            if v >= 10 {
                topics.push(t(None));
            }
            let mut r = MetadataRequest::default().with_topics(Some(topics));
            if v >= 4 {
                r.allow_auto_topic_creation = false;
            }
            if (8..=10).contains(&v) {
                r.include_cluster_authorized_operations = true;
            }
            if v >= 8 {
                r.include_topic_authorized_operations = true;
            }
            enc(v, tag!(r, fx))
        }
        8 => {
            use m::offset_commit_request::*;
            let part = |i: i32| {
                let mut p = OffsetCommitRequestPartition::default()
                    .with_partition_index(i)
                    .with_committed_offset(42)
                    .with_committed_metadata(if i == 0 { Some(s("meta")) } else { None });
                if v >= 6 {
                    p.committed_leader_epoch = 9;
                }
                tag!(p, fx)
            };
            let t = |n: &'static str| {
                tag!(
                    OffsetCommitRequestTopic::default()
                        .with_name(topic(n))
                        .with_partitions(vec![part(0), part(1)]),
                    fx
                )
            };
            let mut r = OffsetCommitRequest::default()
                .with_group_id(group("g1"))
                .with_generation_id_or_member_epoch(5)
                .with_member_id(s("member-1"))
                .with_topics(vec![t("orders"), t("payments")]);
            if v >= 7 {
                r.group_instance_id = Some(s("instance-1"));
            }
            if v <= 4 {
                r.retention_time_ms = 60_000;
            }
            enc(v, tag!(r, fx))
        }
        9 => {
            use m::offset_fetch_request::*;
            let mut r = OffsetFetchRequest::default();
            if v <= 7 {
                let t = |n: &'static str| {
                    tag!(
                        OffsetFetchRequestTopic::default()
                            .with_name(topic(n))
                            .with_partition_indexes(vec![0, 1, 2]),
                        fx
                    )
                };
                r.group_id = group("g1");
                r.topics = Some(vec![t("orders"), t("payments")]);
            } else {
                let t = |n: &'static str| {
                    tag!(
                        OffsetFetchRequestTopics::default()
                            .with_name(topic(n))
                            .with_partition_indexes(vec![0, 1]),
                        fx
                    )
                };
                let g = |n: &'static str| {
                    let mut g = OffsetFetchRequestGroup::default()
                        .with_group_id(group(n))
                        .with_topics(Some(vec![t("orders"), t("payments")]));
                    if v >= 9 {
                        g.member_id = Some(s("m1"));
                        g.member_epoch = 3;
                    }
                    tag!(g, fx)
                };
                r.groups = vec![g("g1"), g("g2")];
            }
            if v >= 7 {
                r.require_stable = true;
            }
            enc(v, tag!(r, fx))
        }
        10 => {
            use m::find_coordinator_request::*;
            let mut r = FindCoordinatorRequest::default();
            if v <= 3 {
                r.key = s("group-1");
            }
            if v >= 1 {
                r.key_type = 1;
            }
            if v >= 4 {
                r.coordinator_keys = vec![s("g1"), s("g2"), s("txn")];
            }
            enc(v, tag!(r, fx))
        }
        11 => {
            use m::join_group_request::*;
            let p = |n: &'static str| {
                tag!(
                    JoinGroupRequestProtocol::default()
                        .with_name(s(n))
                        .with_metadata(Bytes::from_static(b"\x00\x01subscription")),
                    fx
                )
            };
            let mut r = JoinGroupRequest::default()
                .with_group_id(group("g1"))
                .with_session_timeout_ms(10_000)
                .with_member_id(s("member-1"))
                .with_protocol_type(s("consumer"))
                .with_protocols(vec![p("range"), p("cooperative-sticky")]);
            if v >= 1 {
                r.rebalance_timeout_ms = 30_000;
            }
            if v >= 5 {
                r.group_instance_id = Some(s("instance-1"));
            }
            if v >= 8 {
                r.reason = Some(s("rejoin"));
            }
            enc(v, tag!(r, fx))
        }
        12 => {
            use m::heartbeat_request::*;
            let mut r = HeartbeatRequest::default()
                .with_group_id(group("g1"))
                .with_generation_id(3)
                .with_member_id(s("member-1"));
            if v >= 3 {
                r.group_instance_id = Some(s("instance-1"));
            }
            enc(v, tag!(r, fx))
        }
        13 => {
            use m::leave_group_request::*;
            let mut r = LeaveGroupRequest::default().with_group_id(group("g1"));
            if v <= 2 {
                r.member_id = s("member-1");
            } else {
                let mem = |id: &'static str, inst: Option<&'static str>| {
                    let mut x = MemberIdentity::default()
                        .with_member_id(s(id))
                        .with_group_instance_id(inst.map(s));
                    if v >= 5 {
                        x.reason = Some(s("shutdown"));
                    }
                    tag!(x, fx)
                };
                r.members = vec![mem("m1", Some("i1")), mem("m2", None)];
            }
            enc(v, tag!(r, fx))
        }
        14 => {
            use m::sync_group_request::*;
            let a = |id: &'static str| {
                tag!(
                    SyncGroupRequestAssignment::default()
                        .with_member_id(s(id))
                        .with_assignment(Bytes::from_static(b"\x00\x01assignment")),
                    fx
                )
            };
            let mut r = SyncGroupRequest::default()
                .with_group_id(group("g1"))
                .with_generation_id(3)
                .with_member_id(s("m1"))
                .with_assignments(vec![a("m1"), a("m2")]);
            if v >= 3 {
                r.group_instance_id = Some(s("instance-1"));
            }
            if v >= 5 {
                r.protocol_type = Some(s("consumer"));
                r.protocol_name = Some(s("range"));
            }
            enc(v, tag!(r, fx))
        }
        15 => {
            use m::describe_groups_request::*;
            let mut r =
                DescribeGroupsRequest::default().with_groups(vec![group("g1"), group("g2")]);
            if v >= 3 {
                r.include_authorized_operations = true;
            }
            enc(v, tag!(r, fx))
        }
        16 => {
            use m::list_groups_request::*;
            let mut r = ListGroupsRequest::default();
            if v >= 4 {
                r.states_filter = vec![s("Stable"), s("Empty")];
            }
            if v >= 5 {
                r.types_filter = vec![s("classic"), s("consumer")];
            }
            enc(v, tag!(r, fx))
        }
        18 => {
            use m::api_versions_request::*;
            let mut r = ApiVersionsRequest::default();
            if v >= 3 {
                r.client_software_name = s("streams-client");
                r.client_software_version = s("1.2.3");
            }
            enc(v, tag!(r, fx))
        }
        19 => {
            use m::create_topics_request::*;
            let assign = |i: i32| {
                tag!(
                    CreatableReplicaAssignment::default()
                        .with_partition_index(i)
                        .with_broker_ids(vec![BrokerId(1), BrokerId(2)]),
                    fx
                )
            };
            let cfg = |n: &'static str, val: Option<&'static str>| {
                tag!(CreatableTopicConfig::default().with_name(s(n)).with_value(val.map(s)), fx)
            };
            let t = |n: &'static str| {
                tag!(
                    CreatableTopic::default()
                        .with_name(topic(n))
                        .with_num_partitions(-1)
                        .with_replication_factor(-1)
                        .with_assignments(vec![assign(0), assign(1)])
                        .with_configs(vec![
                            cfg("cleanup.policy", Some("compact")),
                            cfg("retention.ms", None),
                        ]),
                    fx
                )
            };
            enc(
                v,
                tag!(
                    CreateTopicsRequest::default()
                        .with_topics(vec![t("orders"), t("payments")])
                        .with_timeout_ms(5000)
                        .with_validate_only(true),
                    fx
                ),
            )
        }
        20 => {
            use m::delete_topics_request::*;
            let mut r = DeleteTopicsRequest::default().with_timeout_ms(5000);
            if v >= 6 {
                let st = |n: Option<&'static str>| {
                    tag!(DeleteTopicState::default().with_name(n.map(topic)), fx)
                };
                r.topics = vec![st(Some("orders")), st(None)];
            } else {
                r.topic_names = vec![topic("orders"), topic("payments")];
            }
            enc(v, tag!(r, fx))
        }
        21 => {
            use m::delete_records_request::*;
            let p = |i: i32| {
                tag!(DeleteRecordsPartition::default().with_partition_index(i).with_offset(100), fx)
            };
            let t = |n: &'static str| {
                tag!(
                    DeleteRecordsTopic::default()
                        .with_name(topic(n))
                        .with_partitions(vec![p(0), p(1)]),
                    fx
                )
            };
            enc(
                v,
                tag!(
                    DeleteRecordsRequest::default()
                        .with_topics(vec![t("orders"), t("payments")])
                        .with_timeout_ms(5000),
                    fx
                ),
            )
        }
        22 => {
            use m::init_producer_id_request::*;
            let mut r = InitProducerIdRequest::default()
                .with_transactional_id(Some(TransactionalId(s("txn-1"))))
                .with_transaction_timeout_ms(60_000);
            if v >= 3 {
                r.producer_id = ProducerId(17);
                r.producer_epoch = 2;
            }
            enc(v, tag!(r, fx))
        }
        32 => {
            use m::describe_configs_request::*;
            let res = |n: &'static str, keys: Option<Vec<StrBytes>>| {
                tag!(
                    DescribeConfigsResource::default()
                        .with_resource_type(2)
                        .with_resource_name(s(n))
                        .with_configuration_keys(keys),
                    fx
                )
            };
            let mut r = DescribeConfigsRequest::default()
                .with_resources(vec![
                    res("orders", Some(vec![s("retention.ms"), s("cleanup.policy")])),
                    res("payments", None),
                ])
                .with_include_synonyms(true);
            if v >= 3 {
                r.include_documentation = true;
            }
            enc(v, tag!(r, fx))
        }
        37 => {
            use m::create_partitions_request::*;
            let a = || {
                tag!(
                    CreatePartitionsAssignment::default().with_broker_ids(vec![
                        BrokerId(1),
                        BrokerId(2),
                        BrokerId(3)
                    ]),
                    fx
                )
            };
            let t = |n: &'static str, assign: bool| {
                tag!(
                    CreatePartitionsTopic::default()
                        .with_name(topic(n))
                        .with_count(6)
                        .with_assignments(assign.then(|| vec![a(), a()])),
                    fx
                )
            };
            enc(
                v,
                tag!(
                    CreatePartitionsRequest::default()
                        .with_topics(vec![t("orders", true), t("payments", false)])
                        .with_timeout_ms(5000)
                        .with_validate_only(true),
                    fx
                ),
            )
        }
        42 => {
            use m::delete_groups_request::*;
            enc(
                v,
                tag!(
                    DeleteGroupsRequest::default().with_groups_names(vec![
                        group("g1"),
                        group("g2"),
                        group("g3")
                    ]),
                    fx
                ),
            )
        }
        44 => {
            use m::incremental_alter_configs_request::*;
            let c = |n: &'static str, val: Option<&'static str>| {
                tag!(
                    AlterableConfig::default()
                        .with_name(s(n))
                        .with_config_operation(0)
                        .with_value(val.map(s)),
                    fx
                )
            };
            let res = |n: &'static str| {
                tag!(
                    AlterConfigsResource::default()
                        .with_resource_type(2)
                        .with_resource_name(s(n))
                        .with_configs(vec![c("retention.ms", Some("1000")), c("x", None)]),
                    fx
                )
            };
            enc(
                v,
                tag!(
                    IncrementalAlterConfigsRequest::default()
                        .with_resources(vec![res("orders"), res("payments")])
                        .with_validate_only(true),
                    fx
                ),
            )
        }
        other => panic!("no sample for API key {other}"),
    }
}

/// Encodes `x` at version `v`.
fn enc<T: Encodable>(v: i16, x: T) -> Vec<u8> {
    let mut buf = BytesMut::new();
    x.encode(&mut buf, v).unwrap_or_else(|e| panic!("encode v{v}: {e}"));
    buf.to_vec()
}

/// A body encoded by `kafka-protocol`, with the API and version it was encoded for.
#[derive(Debug)]
struct Encoded {
    api: &'static Api,
    version: i16,
    supported: bool,
    body: Vec<u8>,
}

/// Samples of every API at every version the decoders know.
fn encodings() -> &'static [Encoded] {
    static ALL: OnceLock<Vec<Encoded>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut out = Vec::new();
        for a in APIS.iter() {
            for v in a.decodable.0..=a.decodable.1 {
                out.push(Encoded {
                    api: a,
                    version: v,
                    supported: (a.supported.0..=a.supported.1).contains(&v),
                    body: sample(a.key, v),
                });
            }
        }
        out
    })
}

/// Decodes with `kafka-protocol`; true when it succeeds and consumes the whole body.
///
/// Only call this on bodies the guard accepted (or on trusted encodings): on hostile input the
/// decoder may abort the process.
fn decodes_fully(api_key: i16, version: i16, body: &[u8]) -> bool {
    fn full<T: Decodable>(version: i16, body: &[u8]) -> bool {
        let mut bytes = Bytes::copy_from_slice(body);
        T::decode(&mut bytes, version).is_ok() && bytes.is_empty()
    }
    let decode = match api_key {
        0 => full::<m::ProduceRequest>,
        1 => full::<m::FetchRequest>,
        2 => full::<m::ListOffsetsRequest>,
        3 => full::<m::MetadataRequest>,
        8 => full::<m::OffsetCommitRequest>,
        9 => full::<m::OffsetFetchRequest>,
        10 => full::<m::FindCoordinatorRequest>,
        11 => full::<m::JoinGroupRequest>,
        12 => full::<m::HeartbeatRequest>,
        13 => full::<m::LeaveGroupRequest>,
        14 => full::<m::SyncGroupRequest>,
        15 => full::<m::DescribeGroupsRequest>,
        16 => full::<m::ListGroupsRequest>,
        18 => full::<m::ApiVersionsRequest>,
        19 => full::<m::CreateTopicsRequest>,
        20 => full::<m::DeleteTopicsRequest>,
        21 => full::<m::DeleteRecordsRequest>,
        22 => full::<m::InitProducerIdRequest>,
        32 => full::<m::DescribeConfigsRequest>,
        37 => full::<m::CreatePartitionsRequest>,
        42 => full::<m::DeleteGroupsRequest>,
        44 => full::<m::IncrementalAlterConfigsRequest>,
        other => panic!("no decoder for API key {other}"),
    };
    decode(version, body)
}

/// The guard's verdict; when it accepts, checks that the decoder agrees.
fn guard_then_decode(a: &Api, version: i16, body: &[u8]) -> Result<(), GuardError> {
    let verdict = walk_body(a, version, body);
    if let Ok(used) = verdict {
        // The decoder must read exactly the fields the guard walked (it ignores what follows).
        assert!(
            decodes_fully(a.key, version, &body[..used]),
            "guard accepted api {} v{version} body {body:02x?} but the decoder rejects it",
            a.key
        );
    }
    verdict.map(|_| ())
}

#[test]
fn advertised_ranges_are_the_brokers() {
    let expected: &[(i16, i16, i16)] = &[
        (0, 3, 9),
        (1, 4, 12),
        (2, 1, 7),
        (3, 0, 12),
        (8, 2, 8),
        (9, 1, 7),
        (10, 0, 4),
        (11, 0, 7),
        (12, 0, 4),
        (13, 0, 4),
        (14, 0, 5),
        (15, 0, 5),
        (16, 0, 4),
        (18, 0, 4),
        (19, 2, 7),
        (20, 1, 6),
        (21, 0, 2),
        (22, 0, 4),
        (32, 1, 4),
        (37, 0, 3),
        (42, 0, 2),
        (44, 0, 1),
    ];
    let actual: Vec<_> = APIS.iter().map(|a| (a.key, a.supported.0, a.supported.1)).collect();
    assert_eq!(actual, expected);
    for a in APIS.iter() {
        assert!(a.decodable.0 <= a.supported.0 && a.supported.1 <= a.decodable.1);
    }
}

#[test]
fn decodable_ranges_are_the_decoders() {
    use kafka_protocol::protocol::Message;
    fn range<T: Message>() -> (i16, i16) {
        (T::VERSIONS.min, T::VERSIONS.max)
    }
    for a in APIS.iter() {
        let decoder = match a.key {
            0 => range::<m::ProduceRequest>(),
            1 => range::<m::FetchRequest>(),
            2 => range::<m::ListOffsetsRequest>(),
            3 => range::<m::MetadataRequest>(),
            8 => range::<m::OffsetCommitRequest>(),
            9 => range::<m::OffsetFetchRequest>(),
            10 => range::<m::FindCoordinatorRequest>(),
            11 => range::<m::JoinGroupRequest>(),
            12 => range::<m::HeartbeatRequest>(),
            13 => range::<m::LeaveGroupRequest>(),
            14 => range::<m::SyncGroupRequest>(),
            15 => range::<m::DescribeGroupsRequest>(),
            16 => range::<m::ListGroupsRequest>(),
            18 => range::<m::ApiVersionsRequest>(),
            19 => range::<m::CreateTopicsRequest>(),
            20 => range::<m::DeleteTopicsRequest>(),
            21 => range::<m::DeleteRecordsRequest>(),
            22 => range::<m::InitProducerIdRequest>(),
            32 => range::<m::DescribeConfigsRequest>(),
            37 => range::<m::CreatePartitionsRequest>(),
            42 => range::<m::DeleteGroupsRequest>(),
            44 => range::<m::IncrementalAlterConfigsRequest>(),
            other => panic!("unexpected API key {other}"),
        };
        assert_eq!(a.decodable, decoder, "API key {}", a.key);
    }
}

#[test]
fn accepts_every_api_at_every_supported_version() {
    let mut covered = 0;
    for e in encodings().iter().filter(|e| e.supported) {
        assert!(
            decodes_fully(e.api.key, e.version, &e.body),
            "sanity: decoder rejects its own encoding of api {} v{}",
            e.api.key,
            e.version
        );
        assert_eq!(
            check_request(e.api.key, e.version, &e.body),
            Ok(()),
            "api {} v{}",
            e.api.key,
            e.version
        );
        covered += 1;
    }
    // Sum of the advertised range lengths of the 22 APIs.
    assert_eq!(covered, 128);
}

#[test]
fn schemas_match_the_decoders_beyond_the_advertised_range() {
    for e in encodings().iter().filter(|e| !e.supported) {
        assert!(decodes_fully(e.api.key, e.version, &e.body));
        assert_eq!(
            walk_body(e.api, e.version, &e.body),
            Ok(e.body.len()),
            "api {} v{}",
            e.api.key,
            e.version
        );
        assert_eq!(
            check_request(e.api.key, e.version, &e.body),
            Err(GuardError::UnsupportedVersion { api_key: e.api.key, version: e.version })
        );
    }
}

#[test]
fn rejects_every_truncation() {
    for e in encodings() {
        for cut in 0..e.body.len() {
            let verdict = walk_body(e.api, e.version, &e.body[..cut]);
            assert!(
                matches!(
                    verdict,
                    Err(GuardError::Truncated { .. } | GuardError::ImpossibleCount { .. })
                ),
                "api {} v{} cut at {cut}: {verdict:?}",
                e.api.key,
                e.version
            );
        }
    }
}

#[test]
fn accepts_trailing_bytes_as_kafka_does() {
    for e in encodings().iter().filter(|e| e.supported) {
        let mut body = e.body.clone();
        body.extend_from_slice(&[0, 0]);
        assert_eq!(
            check_request(e.api.key, e.version, &body),
            Ok(()),
            "api {} v{}",
            e.api.key,
            e.version
        );
    }
    // librdkafka's admin Metadata v12: null topics, two booleans, then bytes the schema has no
    // field for (the removed include_cluster_authorized_operations and a tagged section).
    assert_eq!(check_request(3, 12, &[0, 0, 0, 0, 1, 0, 0]), Ok(()));
}

#[test]
fn rejects_huge_classic_array_count() {
    // Metadata v0: the topics count 0x033c0c00 with a single byte behind it.
    let body = [0x03, 0x3c, 0x0c, 0x00, 0xb6];
    assert_eq!(
        check_request(3, 0, &body),
        Err(GuardError::ImpossibleCount {
            field: "Metadata.topics",
            count: 0x033c_0c00,
            remaining: 1
        })
    );
    // OffsetFetch v1: group "g", one topic "x" whose partition list announces three four-byte
    // elements with room for one.
    let body = [0, 1, b'g', 0, 0, 0, 1, 0, 1, b'x', 0, 0, 0, 3, 0, 0, 0, 1];
    assert_eq!(
        check_request(9, 1, &body),
        Err(GuardError::ImpossibleCount {
            field: "OffsetFetch.topics[].partition_indexes",
            count: 3,
            remaining: 4
        })
    );
}

#[test]
fn rejects_huge_compact_array_count() {
    // Metadata v9: compact topics array announcing 2^31 - 2 elements, then one byte.
    let body = [0xff, 0xff, 0xff, 0xff, 0x07, 0x00];
    assert_eq!(
        check_request(3, 9, &body),
        Err(GuardError::ImpossibleCount {
            field: "Metadata.topics",
            count: (1 << 31) - 2,
            remaining: 1
        })
    );
    // The largest count a five-byte varint can carry.
    let body = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x00];
    assert!(matches!(
        check_request(3, 12, &body),
        Err(GuardError::ImpossibleCount { count: 0xffff_fffe, .. })
    ));
}

#[test]
fn rejects_huge_nested_and_tagged_counts() {
    // Produce v9: null transactional id, acks, timeout, one topic "t" whose partition array
    // announces 1_000_000 elements.
    let mut body = vec![0x00, 0xff, 0xff, 0, 0, 0x75, 0x30, 0x02, 0x02, b't'];
    body.extend_from_slice(&[0xc1, 0x84, 0x3d, 0x00, 0x00]);
    assert!(matches!(
        check_request(0, 9, &body),
        Err(GuardError::ImpossibleCount {
            field: "Produce.topic_data[].partition_data",
            count: 1_000_000,
            ..
        })
    ));
    // Heartbeat v4 whose tagged-field section announces 100 fields in 3 bytes.
    let body = [0x02, b'g', 0, 0, 0, 1, 0x02, b'm', 0x00, 100, 1, 0, 0];
    assert_eq!(
        check_request(12, 4, &body),
        Err(GuardError::ImpossibleCount {
            field: "Heartbeat.tagged_fields",
            count: 100,
            remaining: 3
        })
    );
    // A tagged field whose size runs past the body.
    let body = [0x02, b'g', 0, 0, 0, 1, 0x02, b'm', 0x00, 1, 9, 0xff, 0x7f, 0];
    assert_eq!(
        check_request(12, 4, &body),
        Err(GuardError::Truncated { field: "Heartbeat.tagged_fields" })
    );
}

#[test]
fn rejects_oversized_string_and_bytes_lengths() {
    // JoinGroup v0 with a protocol whose metadata claims 2^31 - 1 bytes.
    let mut body = Vec::new();
    body.extend_from_slice(&[0, 1, b'g', 0, 0, 0x27, 0x10, 0, 1, b'm', 0, 1, b'c']);
    body.extend_from_slice(&[0, 0, 0, 1, 0, 1, b'r', 0x7f, 0xff, 0xff, 0xff, 0]);
    assert_eq!(
        check_request(11, 0, &body),
        Err(GuardError::Truncated { field: "JoinGroup.protocols[].metadata" })
    );
    // Heartbeat v0 whose group id claims 300 bytes.
    assert_eq!(
        check_request(12, 0, &[0x01, 0x2c, b'g']),
        Err(GuardError::Truncated { field: "Heartbeat.group_id" })
    );
}

#[test]
fn rejects_values_the_decoders_refuse() {
    // Null in a non-nullable string (Heartbeat v0 group id).
    assert_eq!(
        check_request(12, 0, &[0xff, 0xff, 0, 0, 0, 1, 0, 0]),
        Err(GuardError::Invalid { field: "Heartbeat.group_id" })
    );
    // Negative string length other than -1.
    assert_eq!(
        check_request(12, 0, &[0xff, 0xfe, 0, 0, 0, 1, 0, 0]),
        Err(GuardError::Invalid { field: "Heartbeat.group_id" })
    );
    // Invalid UTF-8.
    assert_eq!(
        check_request(12, 0, &[0, 1, 0xff, 0, 0, 0, 1, 0, 0]),
        Err(GuardError::Invalid { field: "Heartbeat.group_id" })
    );
    // Null non-nullable array (DeleteGroups v0).
    assert_eq!(
        check_request(42, 0, &[0xff, 0xff, 0xff, 0xff]),
        Err(GuardError::Invalid { field: "DeleteGroups.groups_names" })
    );
    // Varint longer than five bytes (ListGroups v3 tagged-field count).
    assert_eq!(
        check_request(16, 3, &[0x80, 0x80, 0x80, 0x80, 0x80, 0x00]),
        Err(GuardError::Invalid { field: "ListGroups.tagged_fields" })
    );
    // Null Metadata topics is allowed (all topics).
    assert_eq!(check_request(3, 1, &[0xff, 0xff, 0xff, 0xff]), Ok(()));
}

#[test]
fn known_tagged_field_must_match_its_size() {
    // Fetch v12 top-level tagged fields start after rack_id; build the body from a sample
    // without cluster id, then append cluster id tags by hand.
    let mut req = m::FetchRequest::decode(&mut Bytes::from(sample(1, 12)), 12).expect("decode");
    req.cluster_id = None;
    req.unknown_tagged_fields.clear();
    let mut body = enc(12, req);
    assert_eq!(body.pop(), Some(0), "empty tagged-field section is last");
    let with = |tail: &[u8]| [&body[..], tail].concat();
    // Cluster id "ab": tag 0, size 3, compact string length 3.
    assert_eq!(check_request(1, 12, &with(&[1, 0, 3, 3, b'a', b'b'])), Ok(()));
    assert!(decodes_fully(1, 12, &with(&[1, 0, 3, 3, b'a', b'b'])));
    // Size says 4 but the string takes 3: the decoder and Kafka would disagree.
    assert_eq!(
        check_request(1, 12, &with(&[1, 0, 4, 3, b'a', b'b', 0])),
        Err(GuardError::Invalid { field: "Fetch.cluster_id" })
    );
    // Tag 1 (replica state) exists only from v15.
    assert_eq!(
        check_request(1, 12, &with(&[1, 1, 1, 0])),
        Err(GuardError::Invalid { field: "Fetch.replica_state" })
    );
    // Unknown tags are skipped whatever they hold.
    assert_eq!(check_request(1, 12, &with(&[2, 5, 2, 0xff, 0xff, 9, 0])), Ok(()));
}

#[test]
fn rejects_unknown_apis_and_versions() {
    assert_eq!(check_request(4, 0, &[]), Err(GuardError::UnknownApi(4)));
    assert_eq!(check_request(-1, 0, &[]), Err(GuardError::UnknownApi(-1)));
    assert_eq!(
        check_request(18, 5, &[0, 0, 0]),
        Err(GuardError::UnsupportedVersion { api_key: 18, version: 5 })
    );
    assert_eq!(
        check_request(0, 2, &[]),
        Err(GuardError::UnsupportedVersion { api_key: 0, version: 2 })
    );
    assert_eq!(
        check_request(1, 13, &[]),
        Err(GuardError::UnsupportedVersion { api_key: 1, version: 13 })
    );
}

#[test]
fn single_byte_overwrites_never_fool_the_decoder() {
    for e in encodings() {
        for pos in 0..e.body.len() {
            for b in [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff] {
                let mut body = e.body.clone();
                body[pos] = b;
                let _ = guard_then_decode(e.api, e.version, &body);
            }
        }
    }
}

#[test]
fn null_splices_never_fool_the_decoder() {
    // Replacing a length-prefixed value by a null marker is how a wrongly nullable schema field
    // would slip through; try every such splice of up to 24 bytes.
    for e in encodings() {
        for start in 0..e.body.len() {
            for end in start + 1..=(start + 24).min(e.body.len()) {
                for null in [&[0x00][..], &[0xff, 0xff], &[0xff, 0xff, 0xff, 0xff]] {
                    let body = [&e.body[..start], null, &e.body[end..]].concat();
                    let _ = guard_then_decode(e.api, e.version, &body);
                }
            }
        }
    }
}

fn any_encoding() -> impl Strategy<Value = &'static Encoded> {
    (0..encodings().len()).prop_map(|i| &encodings()[i])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(
        api_index in 0..APIS.len(),
        version in -1i16..20,
        body in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let a = &APIS[api_index];
        let _ = check_request(a.key, version, &body);
        if (a.decodable.0..=a.decodable.1).contains(&version) {
            let _ = guard_then_decode(a, version, &body);
        }
    }

    #[test]
    fn mutated_encodings_never_fool_the_decoder(
        e in any_encoding(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut body = e.body.clone();
        if !body.is_empty() {
            for (i, b) in edits {
                let pos = i.index(body.len());
                body[pos] = b;
            }
        }
        if truncate {
            body.truncate(cut.index(body.len() + 1));
        }
        let _ = check_request(e.api.key, e.version, &body);
        let _ = guard_then_decode(e.api, e.version, &body);
    }
}
