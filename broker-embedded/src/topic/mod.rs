//! Topics: validated names and per-topic configuration.
//!
//! [`TopicName`] is the only way a name from outside becomes part of a path: it enforces Kafka's
//! rule (1–249 characters of `[a-zA-Z0-9._-]`, not `.` or `..`), so a validated name is always a
//! single, harmless path component. [`TopicConfig`] holds Kafka's topic-level configs with Kafka's
//! defaults and validators.

mod config;
mod name;

pub use config::{CleanupPolicy, ConfigEntry, ConfigError, ConfigType, TimestampType, TopicConfig};
pub use name::{
    InvalidTopicName, InvalidTopicReason, MAX_TOPIC_NAME_LEN, TopicName, parse_partition_dir_name,
    partition_dir_name,
};
