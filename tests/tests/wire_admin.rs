//! The admin APIs over the Kafka wire protocol: CreateTopics, DeleteTopics, CreatePartitions,
//! DescribeConfigs, IncrementalAlterConfigs and DeleteRecords, sent as raw requests encoded with
//! kafka-protocol, with their error codes, validate-only modes and version-specific fields. One
//! flow also goes through kcat.

use std::net::SocketAddr;

use broker_embedded::{
    Broker, BrokerConfig, ProducerConfig, ProducerRecord, Server, ServerConfig, TopicPartition,
};
use bytes::{Buf, BufMut, Bytes, BytesMut};
use integration_tests::init_tracing;
use kafka_protocol::messages::create_partitions_request::{
    CreatePartitionsAssignment, CreatePartitionsTopic,
};
use kafka_protocol::messages::create_topics_request::{
    CreatableReplicaAssignment, CreatableTopic, CreatableTopicConfig,
};
use kafka_protocol::messages::create_topics_response::CreatableTopicResult;
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult,
};
use kafka_protocol::messages::incremental_alter_configs_request::{
    AlterConfigsResource, AlterableConfig,
};
use kafka_protocol::messages::{
    ApiKey, BrokerId, CreatePartitionsRequest, CreatePartitionsResponse, CreateTopicsRequest,
    CreateTopicsResponse, DeleteRecordsRequest, DeleteRecordsResponse, DeleteTopicsRequest,
    DeleteTopicsResponse, DescribeConfigsRequest, DescribeConfigsResponse,
    IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse, RequestHeader, ResponseHeader,
    TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const NONE: i16 = 0;
const OFFSET_OUT_OF_RANGE: i16 = 1;
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
const INVALID_TOPIC_EXCEPTION: i16 = 17;
const TOPIC_ALREADY_EXISTS: i16 = 36;
const INVALID_PARTITIONS: i16 = 37;
const INVALID_REPLICATION_FACTOR: i16 = 38;
const INVALID_REPLICA_ASSIGNMENT: i16 = 39;
const INVALID_CONFIG: i16 = 40;
const INVALID_REQUEST: i16 = 42;
const UNKNOWN_TOPIC_ID: i16 = 100;

const TOPIC: i8 = 2;
const BROKER: i8 = 4;
const SOURCE_TOPIC: i8 = 1;
const SOURCE_DEFAULT: i8 = 5;

/// A broker served on an ephemeral port, with its data directory.
struct Fixture {
    broker: Broker,
    server: Server,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn start() -> Self {
        init_tracing();
        let dir = tempfile::tempdir().expect("tempdir");
        let broker = Broker::open(BrokerConfig::new(dir.path().join("data"))).await.expect("open");
        let config =
            ServerConfig { listen: "127.0.0.1:0".parse().expect("addr"), ..Default::default() };
        let server = Server::start(broker.clone(), config).await.expect("server");
        Self { broker, server, _dir: dir }
    }

    async fn client(&self) -> Wire {
        Wire::connect(self.server.local_addr()).await
    }

    async fn stop(self) {
        self.server.shutdown().await;
        self.broker.close().await.expect("close");
    }
}

/// One connection sending framed requests and decoding the responses.
struct Wire {
    stream: TcpStream,
    correlation: i32,
}

impl Wire {
    async fn connect(addr: SocketAddr) -> Self {
        Self { stream: TcpStream::connect(addr).await.expect("connect"), correlation: 0 }
    }

    async fn call<Req: Encodable, Resp: Decodable>(
        &mut self,
        key: ApiKey,
        version: i16,
        req: &Req,
    ) -> Resp {
        self.correlation += 1;
        let header = RequestHeader::default()
            .with_request_api_key(key as i16)
            .with_request_api_version(version)
            .with_correlation_id(self.correlation)
            .with_client_id(Some(StrBytes::from_static_str("wire-admin-test")));
        let mut buf = BytesMut::new();
        buf.put_i32(0);
        header.encode(&mut buf, key.request_header_version(version)).expect("encode header");
        req.encode(&mut buf, version).expect("encode request");
        let len = (buf.len() - 4) as i32;
        buf[..4].copy_from_slice(&len.to_be_bytes());
        self.stream.write_all(&buf).await.expect("write");

        let len = self.stream.read_i32().await.expect("read response size");
        let mut body = vec![0u8; len as usize];
        self.stream.read_exact(&mut body).await.expect("read response");
        let mut body = Bytes::from(body);
        let header = ResponseHeader::decode(&mut body, key.response_header_version(version))
            .expect("decode response header");
        assert_eq!(header.correlation_id, self.correlation);
        let resp = Resp::decode(&mut body, version).expect("decode response");
        assert_eq!(body.remaining(), 0, "{key:?} v{version}: bytes left after the response");
        resp
    }

    async fn create(
        &mut self,
        version: i16,
        topics: Vec<CreatableTopic>,
        validate_only: bool,
    ) -> Vec<CreatableTopicResult> {
        let req = CreateTopicsRequest::default()
            .with_topics(topics)
            .with_timeout_ms(5000)
            .with_validate_only(validate_only);
        let resp: CreateTopicsResponse = self.call(ApiKey::CreateTopics, version, &req).await;
        resp.topics
    }

    async fn create_one(&mut self, topic: CreatableTopic) -> CreatableTopicResult {
        let mut r = self.create(7, vec![topic], false).await;
        assert_eq!(r.len(), 1);
        r.remove(0)
    }

    async fn describe(
        &mut self,
        version: i16,
        resource_type: i8,
        name: &str,
        keys: Option<Vec<&'static str>>,
        synonyms: bool,
    ) -> DescribeConfigsResult {
        let resource = DescribeConfigsResource::default()
            .with_resource_type(resource_type)
            .with_resource_name(StrBytes::from_string(name.to_string()))
            .with_configuration_keys(
                keys.map(|k| k.into_iter().map(StrBytes::from_static_str).collect()),
            );
        let req = DescribeConfigsRequest::default()
            .with_resources(vec![resource])
            .with_include_synonyms(synonyms)
            .with_include_documentation(version >= 3);
        let resp: DescribeConfigsResponse = self.call(ApiKey::DescribeConfigs, version, &req).await;
        assert_eq!(resp.results.len(), 1);
        resp.results.into_iter().next().expect("one result")
    }

    /// Alters one resource; returns its error code and message.
    async fn alter(
        &mut self,
        resource_type: i8,
        name: &str,
        ops: &[(&'static str, i8, Option<&'static str>)],
        validate_only: bool,
    ) -> (i16, Option<String>) {
        let configs = ops
            .iter()
            .map(|&(key, op, value)| {
                AlterableConfig::default()
                    .with_name(StrBytes::from_static_str(key))
                    .with_config_operation(op)
                    .with_value(value.map(StrBytes::from_static_str))
            })
            .collect();
        let resource = AlterConfigsResource::default()
            .with_resource_type(resource_type)
            .with_resource_name(StrBytes::from_string(name.to_string()))
            .with_configs(configs);
        let req = IncrementalAlterConfigsRequest::default()
            .with_resources(vec![resource])
            .with_validate_only(validate_only);
        let resp: IncrementalAlterConfigsResponse =
            self.call(ApiKey::IncrementalAlterConfigs, 1, &req).await;
        assert_eq!(resp.responses.len(), 1);
        let r = &resp.responses[0];
        assert_eq!(r.resource_name.as_str(), name);
        (r.error_code, r.error_message.as_ref().map(|m| m.to_string()))
    }

    async fn grow(
        &mut self,
        version: i16,
        topic: CreatePartitionsTopic,
        validate_only: bool,
    ) -> (i16, Option<String>) {
        let req = CreatePartitionsRequest::default()
            .with_topics(vec![topic])
            .with_timeout_ms(5000)
            .with_validate_only(validate_only);
        let resp: CreatePartitionsResponse =
            self.call(ApiKey::CreatePartitions, version, &req).await;
        assert_eq!(resp.results.len(), 1);
        let r = &resp.results[0];
        (r.error_code, r.error_message.as_ref().map(|m| m.to_string()))
    }

    /// Deletes records of one partition; returns (error code, low watermark).
    async fn delete_records(&mut self, topic: &str, partition: i32, offset: i64) -> (i16, i64) {
        let req = DeleteRecordsRequest::default()
            .with_topics(vec![
                DeleteRecordsTopic::default().with_name(name(topic)).with_partitions(vec![
                    DeleteRecordsPartition::default()
                        .with_partition_index(partition)
                        .with_offset(offset),
                ]),
            ])
            .with_timeout_ms(5000);
        let resp: DeleteRecordsResponse = self.call(ApiKey::DeleteRecords, 2, &req).await;
        let p = &resp.topics[0].partitions[0];
        assert_eq!(p.partition_index, partition);
        (p.error_code, p.low_watermark)
    }
}

fn name(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.to_string()))
}

fn topic(n: &str, partitions: i32, configs: &[(&'static str, &'static str)]) -> CreatableTopic {
    CreatableTopic::default()
        .with_name(name(n))
        .with_num_partitions(partitions)
        .with_replication_factor(-1)
        .with_configs(
            configs
                .iter()
                .map(|&(k, v)| {
                    CreatableTopicConfig::default()
                        .with_name(StrBytes::from_static_str(k))
                        .with_value(Some(StrBytes::from_static_str(v)))
                })
                .collect(),
        )
}

fn config<'a>(r: &'a DescribeConfigsResult, key: &str) -> &'a DescribeConfigsResourceResult {
    r.configs.iter().find(|c| c.name.as_str() == key).unwrap_or_else(|| panic!("{key} missing"))
}

fn value(r: &DescribeConfigsResult, key: &str) -> String {
    config(r, key).value.as_ref().map(|v| v.to_string()).unwrap_or_default()
}

fn message(r: &CreatableTopicResult) -> String {
    r.error_message.as_ref().map(|m| m.to_string()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_topics_creates_validates_and_rejects() {
    let fx = Fixture::start().await;
    let admin = fx.broker.admin();
    let mut wire = fx.client().await;

    // v7: partitions, replication factor, every config with its source, and the topic id.
    let r = wire
        .create_one(topic("orders", 3, &[("cleanup.policy", "compact"), ("retention.ms", "1000")]))
        .await;
    assert_eq!((r.error_code, r.error_message.clone()), (NONE, None));
    assert_eq!((r.num_partitions, r.replication_factor), (3, 1));
    let configs = r.configs.expect("configs");
    assert_eq!(configs.len(), 13);
    let policy = configs.iter().find(|c| c.name.as_str() == "cleanup.policy").expect("policy");
    assert_eq!(policy.value.as_deref(), Some("compact"));
    assert_eq!(policy.config_source, SOURCE_TOPIC);
    let segment = configs.iter().find(|c| c.name.as_str() == "segment.bytes").expect("segment");
    assert_eq!(segment.value.as_deref(), Some("1073741824"));
    assert_eq!(segment.config_source, SOURCE_DEFAULT);
    let described = admin.describe_topic("orders").expect("describe");
    assert_eq!(described.partitions.len(), 3);
    assert_eq!(r.topic_id.as_bytes(), &described.id);
    assert_eq!(
        admin.describe_configs("orders").expect("configs").iter().filter(|e| !e.is_default).count(),
        2
    );

    // validate_only checks everything and creates nothing.
    let r = wire.create(7, vec![topic("dry", 2, &[("segment.ms", "100")])], true).await;
    assert_eq!((r[0].error_code, r[0].num_partitions), (NONE, 2));
    assert!(r[0].topic_id.is_nil());
    let r = wire.create(7, vec![topic("dry", 2, &[("segment.ms", "0")])], true).await;
    assert_eq!(r[0].error_code, INVALID_CONFIG);
    let r = wire.create(7, vec![topic("orders", 1, &[])], true).await;
    assert_eq!(r[0].error_code, TOPIC_ALREADY_EXISTS);
    assert!(!admin.list_topics().contains(&"dry".to_string()));

    // Errors, each with a message naming the problem.
    let r = wire.create_one(topic("orders", 1, &[])).await;
    assert_eq!(r.error_code, TOPIC_ALREADY_EXISTS);
    assert!(message(&r).contains("orders"), "{}", message(&r));
    for bad in ["bad name", "..", "a/b", ""] {
        let r = wire.create_one(topic(bad, 1, &[])).await;
        assert_eq!(r.error_code, INVALID_TOPIC_EXCEPTION, "{bad:?}");
    }
    wire.create_one(topic("metrics_v1", 1, &[])).await;
    let r = wire.create_one(topic("metrics.v1", 1, &[])).await;
    assert_eq!(r.error_code, INVALID_TOPIC_EXCEPTION);
    assert!(message(&r).contains("collides"), "{}", message(&r));
    let r = wire.create_one(topic("cfg-bad", 1, &[("retention.ms", "soon")])).await;
    assert_eq!(r.error_code, INVALID_CONFIG);
    assert!(message(&r).contains("retention.ms"), "{}", message(&r));
    let r = wire.create_one(topic("cfg-bad", 1, &[("retention.hours", "1")])).await;
    assert_eq!(r.error_code, INVALID_CONFIG);
    let r = wire
        .create_one(topic(
            "cfg-bad",
            1,
            &[("min.compaction.lag.ms", "10"), ("max.compaction.lag.ms", "5")],
        ))
        .await;
    assert_eq!(r.error_code, INVALID_CONFIG);
    let mut null_value = topic("cfg-bad", 1, &[]);
    null_value
        .configs
        .push(CreatableTopicConfig::default().with_name("retention.ms".into()).with_value(None));
    assert_eq!(wire.create_one(null_value).await.error_code, INVALID_CONFIG);
    assert_eq!(wire.create_one(topic("zero", 0, &[])).await.error_code, INVALID_PARTITIONS);
    assert_eq!(wire.create_one(topic("zero", -7, &[])).await.error_code, INVALID_PARTITIONS);
    let r = wire.create_one(topic("rf3", 1, &[]).with_replication_factor(3)).await;
    assert_eq!(r.error_code, INVALID_REPLICATION_FACTOR);
    assert_eq!(
        wire.create_one(topic("rf1", 1, &[]).with_replication_factor(1)).await.error_code,
        NONE
    );
    for t in ["cfg-bad", "zero", "rf3", "dry"] {
        assert!(!admin.list_all_topics().contains(&t.to_string()), "{t} was created");
    }

    // Manual assignments: accepted when every partition is on broker 0 alone.
    let assign = |p: i32, brokers: Vec<i32>| {
        CreatableReplicaAssignment::default()
            .with_partition_index(p)
            .with_broker_ids(brokers.into_iter().map(BrokerId).collect())
    };
    let r = wire
        .create_one(
            topic("assigned", -1, &[])
                .with_assignments(vec![assign(1, vec![0]), assign(0, vec![0])]),
        )
        .await;
    assert_eq!((r.error_code, r.num_partitions), (NONE, 2));
    let r = wire
        .create_one(topic("assigned2", -1, &[]).with_assignments(vec![assign(0, vec![0, 1])]))
        .await;
    assert_eq!(r.error_code, INVALID_REQUEST);
    let r = wire
        .create_one(topic("assigned2", -1, &[]).with_assignments(vec![assign(1, vec![0])]))
        .await;
    assert_eq!(r.error_code, INVALID_REQUEST);
    let r = wire
        .create_one(topic("assigned2", 1, &[]).with_assignments(vec![assign(0, vec![0])]))
        .await;
    assert_eq!(r.error_code, INVALID_REQUEST);

    // -1 partitions: the broker default (1). A name given twice in one request: INVALID_REQUEST.
    assert_eq!(wire.create_one(topic("defaulted", -1, &[])).await.num_partitions, 1);
    let r = wire
        .create(
            7,
            vec![topic("twice", 1, &[]), topic("twice", 2, &[]), topic("once", 1, &[])],
            false,
        )
        .await;
    assert_eq!(r.len(), 2);
    assert_eq!((r[0].name.0.as_str(), r[0].error_code), ("twice", INVALID_REQUEST));
    assert_eq!((r[1].name.0.as_str(), r[1].error_code), ("once", NONE));

    // Older versions: v2 (no configs in the response), v4 and v5 (non-flexible and flexible).
    for (v, n) in [(2, "old-v2"), (4, "old-v4"), (5, "old-v5"), (6, "old-v6")] {
        let r = wire.create(v, vec![topic(n, 2, &[("retention.ms", "5")])], false).await;
        assert_eq!((r[0].error_code, r[0].error_message.clone()), (NONE, None), "v{v}");
        let expected = if v >= 5 { 2 } else { -1 };
        assert_eq!(r[0].num_partitions, expected, "v{v}");
        assert!(r[0].topic_id.is_nil(), "v{v}");
        assert_eq!(admin.describe_topic(n).expect(n).partitions.len(), 2);
    }
    let r = wire.create(2, vec![topic("old-v2", 1, &[])], false).await;
    assert_eq!(r[0].error_code, TOPIC_ALREADY_EXISTS);
    fx.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_and_incrementally_alter_configs() {
    let fx = Fixture::start().await;
    let admin = fx.broker.admin();
    let mut wire = fx.client().await;
    assert_eq!(wire.create_one(topic("cfg", 1, &[])).await.error_code, NONE);

    // All 13 configs with their defaults, types, documentation and synonyms (v4).
    let r = wire.describe(4, TOPIC, "cfg", None, true).await;
    assert_eq!((r.error_code, r.error_message.clone()), (NONE, None));
    assert_eq!(r.configs.len(), 13);
    let expected = [
        ("cleanup.policy", "delete", 7),
        ("delete.retention.ms", "86400000", 5),
        ("index.interval.bytes", "4096", 3),
        ("max.compaction.lag.ms", "9223372036854775807", 5),
        ("max.message.bytes", "1048588", 3),
        ("message.timestamp.type", "CreateTime", 2),
        ("min.cleanable.dirty.ratio", "0.5", 6),
        ("min.compaction.lag.ms", "0", 5),
        ("retention.bytes", "-1", 5),
        ("retention.ms", "604800000", 5),
        ("segment.bytes", "1073741824", 3),
        ("segment.index.bytes", "10485760", 3),
        ("segment.ms", "604800000", 5),
    ];
    for (key, default, config_type) in expected {
        let c = config(&r, key);
        assert_eq!(c.value.as_deref(), Some(default), "{key}");
        assert_eq!(c.config_source, SOURCE_DEFAULT, "{key}");
        assert_eq!(c.config_type, config_type, "{key}");
        assert!(!c.read_only && !c.is_sensitive, "{key}");
        assert!(c.documentation.as_ref().is_some_and(|d| !d.is_empty()), "{key}");
        assert_eq!(c.synonyms.len(), 1, "{key}");
        assert_eq!(c.synonyms[0].source, SOURCE_DEFAULT);
        assert_eq!(c.synonyms[0].value.as_deref(), Some(default));
    }
    assert_eq!(config(&r, "retention.ms").synonyms[0].name.as_str(), "log.retention.ms");

    // v1, without synonyms; a filter on names (unknown names are left out).
    let r = wire.describe(1, TOPIC, "cfg", None, false).await;
    assert_eq!(r.configs.len(), 13);
    assert!(r.configs.iter().all(|c| c.synonyms.is_empty()));
    let r =
        wire.describe(3, TOPIC, "cfg", Some(vec!["retention.ms", "no.such.config"]), false).await;
    assert_eq!(r.configs.len(), 1);
    assert_eq!(value(&r, "retention.ms"), "604800000");
    assert!(config(&r, "retention.ms").documentation.is_some());
    let r = wire.describe(2, TOPIC, "missing", None, false).await;
    assert_eq!(r.error_code, UNKNOWN_TOPIC_OR_PARTITION);
    assert!(r.error_message.is_some_and(|m| m.contains("missing")));
    let r = wire.describe(4, BROKER, "0", None, false).await;
    assert_eq!(r.error_code, NONE);
    assert_eq!(value(&r, "log.retention.ms"), "604800000");
    assert_eq!(value(&r, "broker.id"), "0");
    assert_eq!(
        wire.describe(4, BROKER, "", Some(vec!["num.partitions"]), false).await.configs.len(),
        1
    );
    assert_eq!(wire.describe(4, BROKER, "3", None, false).await.error_code, INVALID_REQUEST);

    // SET and APPEND; the change shows in DescribeConfigs and in the in-process admin.
    let ok = (NONE, None);
    let ops = [("retention.ms", 0, Some("5000")), ("cleanup.policy", 2, Some("compact"))];
    assert_eq!(wire.alter(TOPIC, "cfg", &ops, false).await, ok);
    let r = wire.describe(4, TOPIC, "cfg", None, true).await;
    assert_eq!(r.configs.len(), 13);
    assert_eq!(value(&r, "retention.ms"), "5000");
    assert_eq!(config(&r, "retention.ms").config_source, SOURCE_TOPIC);
    assert_eq!(config(&r, "retention.ms").synonyms.len(), 2);
    assert_eq!(config(&r, "retention.ms").synonyms[0].source, SOURCE_TOPIC);
    assert_eq!(value(&r, "cleanup.policy"), "compact,delete");
    assert_eq!(config(&r, "segment.ms").config_source, SOURCE_DEFAULT);
    let entries = admin.describe_configs("cfg").expect("configs");
    let policy = entries.iter().find(|e| e.name == "cleanup.policy").expect("policy");
    assert_eq!(policy.value, "compact,delete");

    // SUBTRACT; APPEND of an item already there changes nothing.
    assert_eq!(wire.alter(TOPIC, "cfg", &[("cleanup.policy", 3, Some("delete"))], false).await, ok);
    assert_eq!(
        wire.alter(TOPIC, "cfg", &[("cleanup.policy", 2, Some("compact"))], false).await,
        ok
    );
    assert_eq!(
        value(&wire.describe(4, TOPIC, "cfg", None, false).await, "cleanup.policy"),
        "compact"
    );
    // Subtracting the last item leaves no valid policy.
    let (code, _) =
        wire.alter(TOPIC, "cfg", &[("cleanup.policy", 3, Some("compact"))], false).await;
    assert_eq!(code, INVALID_CONFIG);

    // Rejected changes leave the config as it was.
    let before = wire.describe(4, TOPIC, "cfg", None, false).await;
    let (code, msg) = wire.alter(TOPIC, "cfg", &[("retention.ms", 2, Some("1"))], false).await;
    assert_eq!(code, INVALID_REQUEST);
    assert!(msg.is_some_and(|m| m.contains("retention.ms")));
    assert_eq!(
        wire.alter(TOPIC, "cfg", &[("retention.ms", 9, Some("1"))], false).await.0,
        INVALID_REQUEST
    );
    assert_eq!(
        wire.alter(TOPIC, "cfg", &[("retention.ms", 0, None)], false).await.0,
        INVALID_REQUEST
    );
    let ops = [("segment.ms", 0, Some("77")), ("retention.ms", 0, Some("never"))];
    let (code, msg) = wire.alter(TOPIC, "cfg", &ops, false).await;
    assert_eq!(code, INVALID_CONFIG);
    assert!(msg.is_some_and(|m| m.contains("never")));
    let ops = [("min.compaction.lag.ms", 0, Some("100")), ("max.compaction.lag.ms", 0, Some("10"))];
    assert_eq!(wire.alter(TOPIC, "cfg", &ops, false).await.0, INVALID_CONFIG);
    assert_eq!(
        wire.alter(TOPIC, "cfg", &[("retention.hours", 0, Some("1"))], false).await.0,
        INVALID_CONFIG
    );
    let ops = [("retention.ms", 0, Some("1")), ("retention.ms", 1, None)];
    assert_eq!(wire.alter(TOPIC, "cfg", &ops, false).await.0, INVALID_REQUEST);
    // validate_only: accepted, not applied.
    assert_eq!(wire.alter(TOPIC, "cfg", &[("segment.bytes", 0, Some("1000"))], true).await, ok);
    assert_eq!(wire.describe(4, TOPIC, "cfg", None, false).await, before);

    // DELETE resets to the default.
    assert_eq!(wire.alter(TOPIC, "cfg", &[("retention.ms", 1, None)], false).await, ok);
    let r = wire.describe(4, TOPIC, "cfg", None, false).await;
    assert_eq!(value(&r, "retention.ms"), "604800000");
    assert_eq!(config(&r, "retention.ms").config_source, SOURCE_DEFAULT);

    // Unknown topics, broker configs and other resource types.
    assert_eq!(
        wire.alter(TOPIC, "missing", &[("retention.ms", 0, Some("1"))], false).await.0,
        UNKNOWN_TOPIC_OR_PARTITION
    );
    assert_eq!(
        wire.alter(BROKER, "0", &[("num.partitions", 0, Some("3"))], false).await.0,
        INVALID_REQUEST
    );
    assert_eq!(wire.alter(16, "x", &[], false).await.0, INVALID_REQUEST);

    // IncrementalAlterConfigs v0 (non-flexible).
    let req = IncrementalAlterConfigsRequest::default().with_resources(vec![
        AlterConfigsResource::default()
            .with_resource_type(TOPIC)
            .with_resource_name("cfg".into())
            .with_configs(vec![
                AlterableConfig::default()
                    .with_name("segment.ms".into())
                    .with_config_operation(0)
                    .with_value(Some("123".into())),
            ]),
    ]);
    let resp: IncrementalAlterConfigsResponse =
        wire.call(ApiKey::IncrementalAlterConfigs, 0, &req).await;
    assert_eq!(resp.responses[0].error_code, NONE);
    assert_eq!(value(&wire.describe(4, TOPIC, "cfg", None, false).await, "segment.ms"), "123");
    fx.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_records_and_topic_deletion() {
    let fx = Fixture::start().await;
    let admin = fx.broker.admin();
    let mut wire = fx.client().await;
    let created = wire.create_one(topic("p", 1, &[])).await;
    assert_eq!(created.error_code, NONE);

    // CreatePartitions: grow, refuse to shrink, validate only, check assignments.
    let grow = |count: i32| CreatePartitionsTopic::default().with_name(name("p")).with_count(count);
    assert_eq!(wire.grow(3, grow(3), false).await, (NONE, None));
    assert_eq!(admin.describe_topic("p").expect("p").partitions.len(), 3);
    let (code, msg) = wire.grow(3, grow(2), false).await;
    assert_eq!(code, INVALID_PARTITIONS);
    assert!(msg.is_some_and(|m| m.contains('3')));
    assert_eq!(wire.grow(0, grow(3), false).await.0, INVALID_PARTITIONS);
    assert_eq!(wire.grow(1, grow(5), true).await, (NONE, None));
    assert_eq!(admin.describe_topic("p").expect("p").partitions.len(), 3);
    let on = |b: i32| CreatePartitionsAssignment::default().with_broker_ids(vec![BrokerId(b)]);
    assert_eq!(
        wire.grow(3, grow(5).with_assignments(Some(vec![on(0)])), false).await.0,
        INVALID_REPLICA_ASSIGNMENT
    );
    assert_eq!(
        wire.grow(3, grow(5).with_assignments(Some(vec![on(0), on(1)])), false).await.0,
        INVALID_REPLICA_ASSIGNMENT
    );
    assert_eq!(
        wire.grow(3, grow(4).with_assignments(Some(vec![on(0)])), false).await,
        (NONE, None)
    );
    assert_eq!(admin.describe_topic("p").expect("p").partitions.len(), 4);
    let missing = CreatePartitionsTopic::default().with_name(name("nope")).with_count(2);
    assert_eq!(wire.grow(2, missing, false).await.0, UNKNOWN_TOPIC_OR_PARTITION);

    // DeleteRecords: to an offset, to the high watermark (-1), beyond it.
    let producer = fx.broker.producer(ProducerConfig::default()).expect("producer");
    for i in 0..10 {
        let record = ProducerRecord::new("p", format!("v{i}")).partition(1);
        producer.send_and_wait(record).await.expect("send");
    }
    let tp = TopicPartition::new("p", 1);
    assert_eq!(wire.delete_records("p", 1, 4).await, (NONE, 4));
    assert_eq!(admin.describe_topic("p").expect("p").partitions[1].log_start_offset, 4);
    // Below the log start: nothing changes.
    assert_eq!(wire.delete_records("p", 1, 2).await, (NONE, 4));
    assert_eq!(wire.delete_records("p", 1, 11).await.0, OFFSET_OUT_OF_RANGE);
    assert_eq!(wire.delete_records("p", 1, -5).await.0, OFFSET_OUT_OF_RANGE);
    assert_eq!(wire.delete_records("p", 1, -1).await, (NONE, 10));
    assert_eq!(
        admin.list_offsets(&tp, broker_embedded::OffsetSpec::Earliest).await.expect("earliest"),
        Some((10, -1))
    );
    assert_eq!(wire.delete_records("p", 0, -1).await, (NONE, 0));
    assert_eq!(wire.delete_records("p", 9, 0).await.0, UNKNOWN_TOPIC_OR_PARTITION);
    assert_eq!(wire.delete_records("nope", 0, 0).await.0, UNKNOWN_TOPIC_OR_PARTITION);
    // DeleteRecords v0 (non-flexible).
    let req = DeleteRecordsRequest::default().with_topics(vec![
        DeleteRecordsTopic::default().with_name(name("p")).with_partitions(vec![
            DeleteRecordsPartition::default().with_partition_index(1).with_offset(10),
        ]),
    ]);
    let resp: DeleteRecordsResponse = wire.call(ApiKey::DeleteRecords, 0, &req).await;
    assert_eq!(resp.topics[0].partitions[0].low_watermark, 10);

    // DeleteTopics v6 by id; the same id again is unknown.
    let by_id = |id| DeleteTopicState::default().with_topic_id(id);
    let req = DeleteTopicsRequest::default()
        .with_topics(vec![by_id(created.topic_id)])
        .with_timeout_ms(5000);
    let resp: DeleteTopicsResponse = wire.call(ApiKey::DeleteTopics, 6, &req).await;
    let r = &resp.responses[0];
    assert_eq!((r.error_code, r.name.as_ref().map(|n| n.0.to_string())), (NONE, Some("p".into())));
    assert_eq!(r.topic_id, created.topic_id);
    assert!(!admin.list_topics().contains(&"p".to_string()));
    assert!(!fx.broker.config().data_dir.join("p-0").exists());
    let resp: DeleteTopicsResponse = wire.call(ApiKey::DeleteTopics, 6, &req).await;
    assert_eq!(resp.responses[0].error_code, UNKNOWN_TOPIC_ID);

    // v6 by name, with both name and id, and v1 / v5 by name.
    for t in ["d6", "d1", "d5"] {
        assert_eq!(wire.create_one(topic(t, 2, &[])).await.error_code, NONE);
    }
    let d6_id = admin.describe_topic("d6").expect("d6").id;
    let both =
        DeleteTopicState::default().with_name(Some(name("d6"))).with_topic_id(created.topic_id);
    let req = DeleteTopicsRequest::default().with_topics(vec![both]);
    let resp: DeleteTopicsResponse = wire.call(ApiKey::DeleteTopics, 6, &req).await;
    assert_eq!(resp.responses[0].error_code, INVALID_REQUEST);
    let req = DeleteTopicsRequest::default()
        .with_topics(vec![DeleteTopicState::default().with_name(Some(name("d6")))]);
    let resp: DeleteTopicsResponse = wire.call(ApiKey::DeleteTopics, 6, &req).await;
    assert_eq!(resp.responses[0].error_code, NONE);
    assert_eq!(resp.responses[0].topic_id.as_bytes(), &d6_id);
    let req = DeleteTopicsRequest::default().with_topic_names(vec![name("d1"), name("never-was")]);
    let resp: DeleteTopicsResponse = wire.call(ApiKey::DeleteTopics, 1, &req).await;
    let codes: Vec<_> = resp.responses.iter().map(|r| r.error_code).collect();
    assert_eq!(codes, [NONE, UNKNOWN_TOPIC_OR_PARTITION]);
    let req = DeleteTopicsRequest::default().with_topic_names(vec![name("d5"), name("bad name")]);
    let resp: DeleteTopicsResponse = wire.call(ApiKey::DeleteTopics, 5, &req).await;
    assert_eq!(resp.responses[0].error_code, NONE);
    assert_eq!(resp.responses[1].error_code, INVALID_TOPIC_EXCEPTION);
    assert!(resp.responses[1].error_message.is_some());
    for t in ["d6", "d1", "d5"] {
        assert!(!admin.list_all_topics().contains(&t.to_string()), "{t}");
    }
    // A deleted name can be created again, empty.
    let r = wire.create_one(topic("p", 1, &[])).await;
    assert_eq!(r.error_code, NONE);
    assert_ne!(r.topic_id, created.topic_id);
    assert_eq!(admin.describe_topic("p").expect("p").partitions[0].log_end_offset, 0);
    fx.stop().await;
}

/// kcat produces, the wire API deletes the first records, and kcat reads from the new log start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kcat_reads_from_the_log_start_after_delete_records() {
    if std::process::Command::new("kcat").arg("-V").output().is_err() {
        eprintln!("kcat is not installed; skipping");
        return;
    }
    let fx = Fixture::start().await;
    let mut wire = fx.client().await;
    assert_eq!(wire.create_one(topic("kc", 1, &[])).await.error_code, NONE);
    let addr = fx.server.local_addr().to_string();
    let kcat = |args: Vec<String>, input: Option<String>| {
        tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let mut child = std::process::Command::new("kcat")
                .args(&args)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn kcat");
            let mut stdin = child.stdin.take().expect("stdin");
            if let Some(input) = input {
                stdin.write_all(input.as_bytes()).expect("write to kcat");
            }
            drop(stdin);
            let out = child.wait_with_output().expect("kcat");
            assert!(
                out.status.success(),
                "kcat {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).to_string()
        })
    };
    let lines: String = (0..6).map(|i| format!("m{i}\n")).collect();
    let produce = vec![
        "-b".into(),
        addr.clone(),
        "-P".into(),
        "-t".into(),
        "kc".into(),
        "-p".into(),
        "0".into(),
    ];
    kcat(produce, Some(lines)).await.expect("produce");
    assert_eq!(wire.delete_records("kc", 0, 4).await, (NONE, 4));
    let consume = vec![
        "-b".into(),
        addr,
        "-C".into(),
        "-t".into(),
        "kc".into(),
        "-p".into(),
        "0".into(),
        "-o".into(),
        "beginning".into(),
        "-e".into(),
        "-f".into(),
        "%o:%s\n".into(),
    ];
    let out = kcat(consume, None).await.expect("consume");
    assert_eq!(out.lines().collect::<Vec<_>>(), ["4:m4", "5:m5"]);
    fx.stop().await;
}

/// Every version of every admin API gets a well-formed answer (the broker refuses to encode a
/// field a version lacks, which would close the connection).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_version_is_answered() {
    let fx = Fixture::start().await;
    let mut wire = fx.client().await;
    for v in 2..=7 {
        let n = format!("v{v}");
        let r = wire.create(v, vec![topic(&n, 1, &[("retention.ms", "9")])], false).await;
        assert_eq!(r[0].error_code, NONE, "CreateTopics v{v}");
        let r = wire.create(v, vec![topic(&n, 1, &[])], false).await;
        assert_eq!(r[0].error_code, TOPIC_ALREADY_EXISTS, "CreateTopics v{v}");
        if v >= 5 {
            assert!(r[0].error_message.is_some(), "CreateTopics v{v}");
        }
    }
    for v in 1..=4 {
        let r = wire.describe(v, TOPIC, "v2", None, true).await;
        assert_eq!((r.error_code, value(&r, "retention.ms").as_str()), (NONE, "9"), "v{v}");
        assert_eq!(wire.describe(v, BROKER, "0", None, true).await.error_code, NONE, "v{v}");
        assert_eq!(
            wire.describe(v, TOPIC, "gone", None, true).await.error_code,
            UNKNOWN_TOPIC_OR_PARTITION,
            "v{v}"
        );
    }
    for v in 0..=3 {
        let t = CreatePartitionsTopic::default().with_name(name("v3")).with_count(v as i32 + 2);
        assert_eq!(wire.grow(v, t, false).await, (NONE, None), "CreatePartitions v{v}");
        let t = CreatePartitionsTopic::default().with_name(name("v3")).with_count(1);
        assert_eq!(wire.grow(v, t, false).await.0, INVALID_PARTITIONS, "CreatePartitions v{v}");
    }
    for v in 0..=2 {
        let req = DeleteRecordsRequest::default().with_topics(vec![
            DeleteRecordsTopic::default().with_name(name("v4")).with_partitions(vec![
                DeleteRecordsPartition::default().with_partition_index(0).with_offset(-1),
                DeleteRecordsPartition::default().with_partition_index(1).with_offset(0),
            ]),
        ]);
        let resp: DeleteRecordsResponse = wire.call(ApiKey::DeleteRecords, v, &req).await;
        let codes: Vec<_> = resp.topics[0].partitions.iter().map(|p| p.error_code).collect();
        assert_eq!(codes, [NONE, UNKNOWN_TOPIC_OR_PARTITION], "DeleteRecords v{v}");
    }
    for v in 1..=6 {
        let n = format!("d{v}");
        assert_eq!(wire.create_one(topic(&n, 1, &[])).await.error_code, NONE);
        let req = if v >= 6 {
            DeleteTopicsRequest::default().with_topics(vec![
                DeleteTopicState::default().with_name(Some(name(&n))),
                DeleteTopicState::default().with_name(Some(name("gone"))),
            ])
        } else {
            DeleteTopicsRequest::default().with_topic_names(vec![name(&n), name("gone")])
        };
        let resp: DeleteTopicsResponse = wire.call(ApiKey::DeleteTopics, v, &req).await;
        let codes: Vec<_> = resp.responses.iter().map(|r| r.error_code).collect();
        assert_eq!(codes, [NONE, UNKNOWN_TOPIC_OR_PARTITION], "DeleteTopics v{v}");
    }
    fx.stop().await;
}
