//! Request body schemas, transcribed from the `kafka-protocol` 0.18.0 request decoders (which follow
//! Kafka's JSON message definitions; nullability follows the decoders' field types).
//!
//! Each field lists the versions it is read in. `supported` is the range the broker advertises;
//! `decodable` is the range the decoders accept, which the schemas describe in full so that the
//! advertised range can grow without touching them.

use super::{Field, Schema, Tagged, Ty};

/// No upper version bound.
const N: i16 = i16::MAX;

const fn f(name: &'static str, first: i16, last: i16, ty: Ty) -> Field {
    Field { name, first, last, ty }
}

/// One request API.
#[derive(Debug)]
pub(super) struct Api {
    /// API key.
    pub(super) key: i16,
    /// Versions the broker accepts.
    pub(super) supported: (i16, i16),
    /// Versions the `kafka-protocol` decoders accept (test coverage only).
    #[cfg_attr(not(test), allow(dead_code))]
    // read by the tests that compare with kafka-protocol
    pub(super) decodable: (i16, i16),
    /// First flexible version (compact encodings, tagged fields).
    pub(super) flexible_from: i16,
    /// Body layout.
    pub(super) body: &'static Schema,
}

const fn entry(
    key: i16,
    supported: (i16, i16),
    decodable: (i16, i16),
    flexible_from: i16,
    body: &'static Schema,
) -> Api {
    Api { key, supported, decodable, flexible_from, body }
}

/// Looks up the API with key `key`.
pub(super) fn api(key: i16) -> Option<&'static Api> {
    APIS.iter().find(|a| a.key == key)
}

const STRINGS: Ty = Ty::Array(&Ty::String);
const INT32S: Ty = Ty::Array(&Ty::Int32);

/// Every API the broker accepts.
pub(super) static APIS: [Api; 22] = [
    // key, advertised versions, decodable versions, first flexible version, body
    entry(0, (3, 9), (3, 13), 9, &PRODUCE),
    entry(1, (4, 12), (4, 18), 12, &FETCH),
    entry(2, (1, 7), (1, 10), 6, &LIST_OFFSETS),
    entry(3, (0, 12), (0, 13), 9, &METADATA),
    entry(8, (2, 8), (2, 9), 8, &OFFSET_COMMIT),
    entry(9, (1, 7), (1, 9), 6, &OFFSET_FETCH),
    entry(10, (0, 4), (0, 6), 3, &FIND_COORD),
    entry(11, (0, 7), (0, 9), 6, &JOIN_GROUP),
    entry(12, (0, 4), (0, 4), 4, &HEARTBEAT),
    entry(13, (0, 4), (0, 5), 4, &LEAVE_GROUP),
    entry(14, (0, 5), (0, 5), 4, &SYNC_GROUP),
    entry(15, (0, 5), (0, 6), 5, &DESCRIBE_GROUPS),
    entry(16, (0, 4), (0, 5), 3, &LIST_GROUPS),
    entry(18, (0, 4), (0, 4), 3, &API_VERSIONS),
    entry(19, (2, 7), (2, 7), 5, &CREATE_TOPICS),
    entry(20, (1, 6), (1, 6), 4, &DELETE_TOPICS),
    entry(21, (0, 2), (0, 2), 2, &DELETE_RECORDS),
    entry(22, (0, 4), (0, 5), 2, &INIT_PID),
    entry(32, (1, 4), (1, 4), 4, &DESCRIBE_CONFIGS),
    entry(37, (0, 3), (0, 3), 2, &CREATE_PARTS),
    entry(42, (0, 2), (0, 2), 2, &DELETE_GROUPS),
    entry(44, (0, 1), (0, 1), 1, &ALTER_CONFIGS),
];

// Produce (0)

const PRODUCE: Schema = Schema {
    name: "Produce.tagged_fields",
    fields: &[
        f("Produce.transactional_id", 0, N, Ty::NullableString),
        f("Produce.acks", 0, N, Ty::Int16),
        f("Produce.timeout_ms", 0, N, Ty::Int32),
        f("Produce.topic_data", 0, N, Ty::Array(&Ty::Struct(&PRODUCE_TOPIC))),
    ],
    tagged: &[],
};
const PRODUCE_TOPIC: Schema = Schema {
    name: "Produce.topic_data[].tagged_fields",
    fields: &[
        f("Produce.topic_data[].name", 0, 12, Ty::String),
        f("Produce.topic_data[].topic_id", 13, N, Ty::Uuid),
        f("Produce.topic_data[].partition_data", 0, N, Ty::Array(&Ty::Struct(&PRODUCE_PART))),
    ],
    tagged: &[],
};
const PRODUCE_PART: Schema = Schema {
    name: "Produce.topic_data[].partition_data[].tagged_fields",
    fields: &[
        f("Produce.topic_data[].partition_data[].index", 0, N, Ty::Int32),
        f("Produce.topic_data[].partition_data[].records", 0, N, Ty::NullableBytes),
    ],
    tagged: &[],
};

// Fetch (1)

const FETCH: Schema = Schema {
    name: "Fetch.tagged_fields",
    fields: &[
        f("Fetch.replica_id", 0, 14, Ty::Int32),
        f("Fetch.max_wait_ms", 0, N, Ty::Int32),
        f("Fetch.min_bytes", 0, N, Ty::Int32),
        f("Fetch.max_bytes", 3, N, Ty::Int32),
        f("Fetch.isolation_level", 4, N, Ty::Int8),
        f("Fetch.session_id", 7, N, Ty::Int32),
        f("Fetch.session_epoch", 7, N, Ty::Int32),
        f("Fetch.topics", 0, N, Ty::Array(&Ty::Struct(&FETCH_TOPIC))),
        f("Fetch.forgotten_topics_data", 7, N, Ty::Array(&Ty::Struct(&FETCH_FORGOTTEN))),
        f("Fetch.rack_id", 11, N, Ty::String),
    ],
    tagged: &[
        Tagged { tag: 0, name: "Fetch.cluster_id", first: 12, last: N, ty: Ty::NullableString },
        Tagged {
            tag: 1,
            name: "Fetch.replica_state",
            first: 15,
            last: N,
            ty: Ty::Struct(&FETCH_REPLICA_STATE),
        },
    ],
};
const FETCH_REPLICA_STATE: Schema = Schema {
    name: "Fetch.replica_state.tagged_fields",
    fields: &[
        f("Fetch.replica_state.replica_id", 15, N, Ty::Int32),
        f("Fetch.replica_state.replica_epoch", 15, N, Ty::Int64),
    ],
    tagged: &[],
};
const FETCH_TOPIC: Schema = Schema {
    name: "Fetch.topics[].tagged_fields",
    fields: &[
        f("Fetch.topics[].topic", 0, 12, Ty::String),
        f("Fetch.topics[].topic_id", 13, N, Ty::Uuid),
        f("Fetch.topics[].partitions", 0, N, Ty::Array(&Ty::Struct(&FETCH_PART))),
    ],
    tagged: &[],
};
const FETCH_PART: Schema = Schema {
    name: "Fetch.topics[].partitions[].tagged_fields",
    fields: &[
        f("Fetch.topics[].partitions[].partition", 0, N, Ty::Int32),
        f("Fetch.topics[].partitions[].current_leader_epoch", 9, N, Ty::Int32),
        f("Fetch.topics[].partitions[].fetch_offset", 0, N, Ty::Int64),
        f("Fetch.topics[].partitions[].last_fetched_epoch", 12, N, Ty::Int32),
        f("Fetch.topics[].partitions[].log_start_offset", 5, N, Ty::Int64),
        f("Fetch.topics[].partitions[].partition_max_bytes", 0, N, Ty::Int32),
    ],
    tagged: &[
        Tagged {
            tag: 0,
            name: "Fetch.topics[].partitions[].replica_directory_id",
            first: 17,
            last: N,
            ty: Ty::Uuid,
        },
        Tagged {
            tag: 1,
            name: "Fetch.topics[].partitions[].high_watermark",
            first: 18,
            last: N,
            ty: Ty::Int64,
        },
    ],
};
const FETCH_FORGOTTEN: Schema = Schema {
    name: "Fetch.forgotten_topics_data[].tagged_fields",
    fields: &[
        f("Fetch.forgotten_topics_data[].topic", 7, 12, Ty::String),
        f("Fetch.forgotten_topics_data[].topic_id", 13, N, Ty::Uuid),
        f("Fetch.forgotten_topics_data[].partitions", 7, N, INT32S),
    ],
    tagged: &[],
};

// ListOffsets (2)

const LIST_OFFSETS: Schema = Schema {
    name: "ListOffsets.tagged_fields",
    fields: &[
        f("ListOffsets.replica_id", 0, N, Ty::Int32),
        f("ListOffsets.isolation_level", 2, N, Ty::Int8),
        f("ListOffsets.topics", 0, N, Ty::Array(&Ty::Struct(&LIST_OFFSETS_TOPIC))),
        f("ListOffsets.timeout_ms", 10, N, Ty::Int32),
    ],
    tagged: &[],
};
const LIST_OFFSETS_TOPIC: Schema = Schema {
    name: "ListOffsets.topics[].tagged_fields",
    fields: &[
        f("ListOffsets.topics[].name", 0, N, Ty::String),
        f("ListOffsets.topics[].partitions", 0, N, Ty::Array(&Ty::Struct(&LIST_OFFSETS_PART))),
    ],
    tagged: &[],
};
const LIST_OFFSETS_PART: Schema = Schema {
    name: "ListOffsets.topics[].partitions[].tagged_fields",
    fields: &[
        f("ListOffsets.topics[].partitions[].partition_index", 0, N, Ty::Int32),
        f("ListOffsets.topics[].partitions[].current_leader_epoch", 4, N, Ty::Int32),
        f("ListOffsets.topics[].partitions[].timestamp", 0, N, Ty::Int64),
    ],
    tagged: &[],
};

// Metadata (3)

const METADATA: Schema = Schema {
    name: "Metadata.tagged_fields",
    fields: &[
        f("Metadata.topics", 0, N, Ty::NullableArray(&Ty::Struct(&METADATA_TOPIC))),
        f("Metadata.allow_auto_topic_creation", 4, N, Ty::Bool),
        f("Metadata.include_cluster_authorized_operations", 8, 10, Ty::Bool),
        f("Metadata.include_topic_authorized_operations", 8, N, Ty::Bool),
    ],
    tagged: &[],
};
const METADATA_TOPIC: Schema = Schema {
    name: "Metadata.topics[].tagged_fields",
    fields: &[
        f("Metadata.topics[].topic_id", 10, N, Ty::Uuid),
        f("Metadata.topics[].name", 0, N, Ty::NullableString),
    ],
    tagged: &[],
};

// OffsetCommit (8)

const OFFSET_COMMIT: Schema = Schema {
    name: "OffsetCommit.tagged_fields",
    fields: &[
        f("OffsetCommit.group_id", 0, N, Ty::String),
        f("OffsetCommit.generation_id_or_member_epoch", 1, N, Ty::Int32),
        f("OffsetCommit.member_id", 1, N, Ty::String),
        f("OffsetCommit.group_instance_id", 7, N, Ty::NullableString),
        f("OffsetCommit.retention_time_ms", 2, 4, Ty::Int64),
        f("OffsetCommit.topics", 0, N, Ty::Array(&Ty::Struct(&OFFSET_COMMIT_TOPIC))),
    ],
    tagged: &[],
};
const OFFSET_COMMIT_TOPIC: Schema = Schema {
    name: "OffsetCommit.topics[].tagged_fields",
    fields: &[
        f("OffsetCommit.topics[].name", 0, N, Ty::String),
        f("OffsetCommit.topics[].partitions", 0, N, Ty::Array(&Ty::Struct(&OFFSET_COMMIT_PART))),
    ],
    tagged: &[],
};
const OFFSET_COMMIT_PART: Schema = Schema {
    name: "OffsetCommit.topics[].partitions[].tagged_fields",
    fields: &[
        f("OffsetCommit.topics[].partitions[].partition_index", 0, N, Ty::Int32),
        f("OffsetCommit.topics[].partitions[].committed_offset", 0, N, Ty::Int64),
        f("OffsetCommit.topics[].partitions[].committed_leader_epoch", 6, N, Ty::Int32),
        f("OffsetCommit.topics[].partitions[].committed_metadata", 0, N, Ty::NullableString),
    ],
    tagged: &[],
};

// OffsetFetch (9)

const OFFSET_FETCH: Schema = Schema {
    name: "OffsetFetch.tagged_fields",
    fields: &[
        f("OffsetFetch.group_id", 0, 7, Ty::String),
        f("OffsetFetch.topics", 0, 7, Ty::NullableArray(&Ty::Struct(&OFFSET_FETCH_TOPIC))),
        f("OffsetFetch.groups", 8, N, Ty::Array(&Ty::Struct(&OFFSET_FETCH_GROUP))),
        f("OffsetFetch.require_stable", 7, N, Ty::Bool),
    ],
    tagged: &[],
};
const OFFSET_FETCH_TOPIC: Schema = Schema {
    name: "OffsetFetch.topics[].tagged_fields",
    fields: &[
        f("OffsetFetch.topics[].name", 0, 7, Ty::String),
        f("OffsetFetch.topics[].partition_indexes", 0, 7, INT32S),
    ],
    tagged: &[],
};
const OFFSET_FETCH_GROUP: Schema = Schema {
    name: "OffsetFetch.groups[].tagged_fields",
    fields: &[
        f("OffsetFetch.groups[].group_id", 8, N, Ty::String),
        f("OffsetFetch.groups[].member_id", 9, N, Ty::NullableString),
        f("OffsetFetch.groups[].member_epoch", 9, N, Ty::Int32),
        f("OffsetFetch.groups[].topics", 8, N, Ty::NullableArray(&Ty::Struct(&OFFSET_FETCH_GT))),
    ],
    tagged: &[],
};
const OFFSET_FETCH_GT: Schema = Schema {
    name: "OffsetFetch.groups[].topics[].tagged_fields",
    fields: &[
        f("OffsetFetch.groups[].topics[].name", 8, N, Ty::String),
        f("OffsetFetch.groups[].topics[].partition_indexes", 8, N, INT32S),
    ],
    tagged: &[],
};

// FindCoordinator (10)

const FIND_COORD: Schema = Schema {
    name: "FindCoordinator.tagged_fields",
    fields: &[
        f("FindCoordinator.key", 0, 3, Ty::String),
        f("FindCoordinator.key_type", 1, N, Ty::Int8),
        f("FindCoordinator.coordinator_keys", 4, N, STRINGS),
    ],
    tagged: &[],
};

// JoinGroup (11)

const JOIN_GROUP: Schema = Schema {
    name: "JoinGroup.tagged_fields",
    fields: &[
        f("JoinGroup.group_id", 0, N, Ty::String),
        f("JoinGroup.session_timeout_ms", 0, N, Ty::Int32),
        f("JoinGroup.rebalance_timeout_ms", 1, N, Ty::Int32),
        f("JoinGroup.member_id", 0, N, Ty::String),
        f("JoinGroup.group_instance_id", 5, N, Ty::NullableString),
        f("JoinGroup.protocol_type", 0, N, Ty::String),
        f("JoinGroup.protocols", 0, N, Ty::Array(&Ty::Struct(&JOIN_GROUP_PROTOCOL))),
        f("JoinGroup.reason", 8, N, Ty::NullableString),
    ],
    tagged: &[],
};
const JOIN_GROUP_PROTOCOL: Schema = Schema {
    name: "JoinGroup.protocols[].tagged_fields",
    fields: &[
        f("JoinGroup.protocols[].name", 0, N, Ty::String),
        f("JoinGroup.protocols[].metadata", 0, N, Ty::Bytes),
    ],
    tagged: &[],
};

// Heartbeat (12)

const HEARTBEAT: Schema = Schema {
    name: "Heartbeat.tagged_fields",
    fields: &[
        f("Heartbeat.group_id", 0, N, Ty::String),
        f("Heartbeat.generation_id", 0, N, Ty::Int32),
        f("Heartbeat.member_id", 0, N, Ty::String),
        f("Heartbeat.group_instance_id", 3, N, Ty::NullableString),
    ],
    tagged: &[],
};

// LeaveGroup (13)

const LEAVE_GROUP: Schema = Schema {
    name: "LeaveGroup.tagged_fields",
    fields: &[
        f("LeaveGroup.group_id", 0, N, Ty::String),
        f("LeaveGroup.member_id", 0, 2, Ty::String),
        f("LeaveGroup.members", 3, N, Ty::Array(&Ty::Struct(&LEAVE_GROUP_MEMBER))),
    ],
    tagged: &[],
};
const LEAVE_GROUP_MEMBER: Schema = Schema {
    name: "LeaveGroup.members[].tagged_fields",
    fields: &[
        f("LeaveGroup.members[].member_id", 3, N, Ty::String),
        f("LeaveGroup.members[].group_instance_id", 3, N, Ty::NullableString),
        f("LeaveGroup.members[].reason", 5, N, Ty::NullableString),
    ],
    tagged: &[],
};

// SyncGroup (14)

const SYNC_GROUP: Schema = Schema {
    name: "SyncGroup.tagged_fields",
    fields: &[
        f("SyncGroup.group_id", 0, N, Ty::String),
        f("SyncGroup.generation_id", 0, N, Ty::Int32),
        f("SyncGroup.member_id", 0, N, Ty::String),
        f("SyncGroup.group_instance_id", 3, N, Ty::NullableString),
        f("SyncGroup.protocol_type", 5, N, Ty::NullableString),
        f("SyncGroup.protocol_name", 5, N, Ty::NullableString),
        f("SyncGroup.assignments", 0, N, Ty::Array(&Ty::Struct(&SYNC_GROUP_ASSIGNMENT))),
    ],
    tagged: &[],
};
const SYNC_GROUP_ASSIGNMENT: Schema = Schema {
    name: "SyncGroup.assignments[].tagged_fields",
    fields: &[
        f("SyncGroup.assignments[].member_id", 0, N, Ty::String),
        f("SyncGroup.assignments[].assignment", 0, N, Ty::Bytes),
    ],
    tagged: &[],
};

// DescribeGroups (15)

const DESCRIBE_GROUPS: Schema = Schema {
    name: "DescribeGroups.tagged_fields",
    fields: &[
        f("DescribeGroups.groups", 0, N, STRINGS),
        f("DescribeGroups.include_authorized_operations", 3, N, Ty::Bool),
    ],
    tagged: &[],
};

// ListGroups (16)

const LIST_GROUPS: Schema = Schema {
    name: "ListGroups.tagged_fields",
    fields: &[
        f("ListGroups.states_filter", 4, N, STRINGS),
        f("ListGroups.types_filter", 5, N, STRINGS),
    ],
    tagged: &[],
};

// ApiVersions (18)

const API_VERSIONS: Schema = Schema {
    name: "ApiVersions.tagged_fields",
    fields: &[
        f("ApiVersions.client_software_name", 3, N, Ty::String),
        f("ApiVersions.client_software_version", 3, N, Ty::String),
    ],
    tagged: &[],
};

// CreateTopics (19)

const CREATE_TOPICS: Schema = Schema {
    name: "CreateTopics.tagged_fields",
    fields: &[
        f("CreateTopics.topics", 0, N, Ty::Array(&Ty::Struct(&CREATE_TOPICS_TOPIC))),
        f("CreateTopics.timeout_ms", 0, N, Ty::Int32),
        f("CreateTopics.validate_only", 1, N, Ty::Bool),
    ],
    tagged: &[],
};
const CREATE_TOPICS_TOPIC: Schema = Schema {
    name: "CreateTopics.topics[].tagged_fields",
    fields: &[
        f("CreateTopics.topics[].name", 0, N, Ty::String),
        f("CreateTopics.topics[].num_partitions", 0, N, Ty::Int32),
        f("CreateTopics.topics[].replication_factor", 0, N, Ty::Int16),
        f("CreateTopics.topics[].assignments", 0, N, Ty::Array(&Ty::Struct(&CREATE_TOPICS_ASSIGN))),
        f("CreateTopics.topics[].configs", 0, N, Ty::Array(&Ty::Struct(&CREATE_TOPICS_CONFIG))),
    ],
    tagged: &[],
};
const CREATE_TOPICS_ASSIGN: Schema = Schema {
    name: "CreateTopics.topics[].assignments[].tagged_fields",
    fields: &[
        f("CreateTopics.topics[].assignments[].partition_index", 0, N, Ty::Int32),
        f("CreateTopics.topics[].assignments[].broker_ids", 0, N, INT32S),
    ],
    tagged: &[],
};
const CREATE_TOPICS_CONFIG: Schema = Schema {
    name: "CreateTopics.topics[].configs[].tagged_fields",
    fields: &[
        f("CreateTopics.topics[].configs[].name", 0, N, Ty::String),
        f("CreateTopics.topics[].configs[].value", 0, N, Ty::NullableString),
    ],
    tagged: &[],
};

// DeleteTopics (20)

const DELETE_TOPICS: Schema = Schema {
    name: "DeleteTopics.tagged_fields",
    fields: &[
        f("DeleteTopics.topics", 6, N, Ty::Array(&Ty::Struct(&DELETE_TOPICS_STATE))),
        f("DeleteTopics.topic_names", 0, 5, STRINGS),
        f("DeleteTopics.timeout_ms", 0, N, Ty::Int32),
    ],
    tagged: &[],
};
const DELETE_TOPICS_STATE: Schema = Schema {
    name: "DeleteTopics.topics[].tagged_fields",
    fields: &[
        f("DeleteTopics.topics[].name", 6, N, Ty::NullableString),
        f("DeleteTopics.topics[].topic_id", 6, N, Ty::Uuid),
    ],
    tagged: &[],
};

// DeleteRecords (21)

const DELETE_RECORDS: Schema = Schema {
    name: "DeleteRecords.tagged_fields",
    fields: &[
        f("DeleteRecords.topics", 0, N, Ty::Array(&Ty::Struct(&DELETE_RECORDS_TOPIC))),
        f("DeleteRecords.timeout_ms", 0, N, Ty::Int32),
    ],
    tagged: &[],
};
const DELETE_RECORDS_TOPIC: Schema = Schema {
    name: "DeleteRecords.topics[].tagged_fields",
    fields: &[
        f("DeleteRecords.topics[].name", 0, N, Ty::String),
        f("DeleteRecords.topics[].partitions", 0, N, Ty::Array(&Ty::Struct(&DELETE_RECORDS_PART))),
    ],
    tagged: &[],
};
const DELETE_RECORDS_PART: Schema = Schema {
    name: "DeleteRecords.topics[].partitions[].tagged_fields",
    fields: &[
        f("DeleteRecords.topics[].partitions[].partition_index", 0, N, Ty::Int32),
        f("DeleteRecords.topics[].partitions[].offset", 0, N, Ty::Int64),
    ],
    tagged: &[],
};

// InitProducerId (22)

const INIT_PID: Schema = Schema {
    name: "InitProducerId.tagged_fields",
    fields: &[
        f("InitProducerId.transactional_id", 0, N, Ty::NullableString),
        f("InitProducerId.transaction_timeout_ms", 0, N, Ty::Int32),
        f("InitProducerId.producer_id", 3, N, Ty::Int64),
        f("InitProducerId.producer_epoch", 3, N, Ty::Int16),
    ],
    tagged: &[],
};

// DescribeConfigs (32)

const DESCRIBE_CONFIGS: Schema = Schema {
    name: "DescribeConfigs.tagged_fields",
    fields: &[
        f("DescribeConfigs.resources", 0, N, Ty::Array(&Ty::Struct(&DESCRIBE_CONFIGS_RES))),
        f("DescribeConfigs.include_synonyms", 1, N, Ty::Bool),
        f("DescribeConfigs.include_documentation", 3, N, Ty::Bool),
    ],
    tagged: &[],
};
const DESCRIBE_CONFIGS_RES: Schema = Schema {
    name: "DescribeConfigs.resources[].tagged_fields",
    fields: &[
        f("DescribeConfigs.resources[].resource_type", 0, N, Ty::Int8),
        f("DescribeConfigs.resources[].resource_name", 0, N, Ty::String),
        f("DescribeConfigs.resources[].configuration_keys", 0, N, Ty::NullableArray(&Ty::String)),
    ],
    tagged: &[],
};

// CreatePartitions (37)

const CREATE_PARTS: Schema = Schema {
    name: "CreatePartitions.tagged_fields",
    fields: &[
        f("CreatePartitions.topics", 0, N, Ty::Array(&Ty::Struct(&CREATE_PARTS_TOPIC))),
        f("CreatePartitions.timeout_ms", 0, N, Ty::Int32),
        f("CreatePartitions.validate_only", 0, N, Ty::Bool),
    ],
    tagged: &[],
};
const CREATE_PARTS_TOPIC: Schema = Schema {
    name: "CreatePartitions.topics[].tagged_fields",
    fields: &[
        f("CreatePartitions.topics[].name", 0, N, Ty::String),
        f("CreatePartitions.topics[].count", 0, N, Ty::Int32),
        f(
            "CreatePartitions.topics[].assignments",
            0,
            N,
            Ty::NullableArray(&Ty::Struct(&CREATE_PARTS_ASSIGN)),
        ),
    ],
    tagged: &[],
};
const CREATE_PARTS_ASSIGN: Schema = Schema {
    name: "CreatePartitions.topics[].assignments[].tagged_fields",
    fields: &[f("CreatePartitions.topics[].assignments[].broker_ids", 0, N, INT32S)],
    tagged: &[],
};

// DeleteGroups (42)

const DELETE_GROUPS: Schema = Schema {
    name: "DeleteGroups.tagged_fields",
    fields: &[f("DeleteGroups.groups_names", 0, N, STRINGS)],
    tagged: &[],
};

// IncrementalAlterConfigs (44)

const ALTER_CONFIGS: Schema = Schema {
    name: "IncrementalAlterConfigs.tagged_fields",
    fields: &[
        f("IncrementalAlterConfigs.resources", 0, N, Ty::Array(&Ty::Struct(&ALTER_CONFIGS_RES))),
        f("IncrementalAlterConfigs.validate_only", 0, N, Ty::Bool),
    ],
    tagged: &[],
};
const ALTER_CONFIGS_RES: Schema = Schema {
    name: "IncrementalAlterConfigs.resources[].tagged_fields",
    fields: &[
        f("IncrementalAlterConfigs.resources[].resource_type", 0, N, Ty::Int8),
        f("IncrementalAlterConfigs.resources[].resource_name", 0, N, Ty::String),
        f(
            "IncrementalAlterConfigs.resources[].configs",
            0,
            N,
            Ty::Array(&Ty::Struct(&ALTER_CONFIGS_CFG)),
        ),
    ],
    tagged: &[],
};
const ALTER_CONFIGS_CFG: Schema = Schema {
    name: "IncrementalAlterConfigs.resources[].configs[].tagged_fields",
    fields: &[
        f("IncrementalAlterConfigs.resources[].configs[].name", 0, N, Ty::String),
        f("IncrementalAlterConfigs.resources[].configs[].config_operation", 0, N, Ty::Int8),
        f("IncrementalAlterConfigs.resources[].configs[].value", 0, N, Ty::NullableString),
    ],
    tagged: &[],
};
