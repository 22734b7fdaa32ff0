//! Per-topic configuration: Kafka's topic-level configs, their defaults and their validators.
//!
//! See [`TopicConfig`] for the supported configs, their defaults and valid values.

use std::fmt;

/// What happens to old data of a topic (`cleanup.policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CleanupPolicy {
    /// Delete whole segments older than `retention.ms` or beyond `retention.bytes`.
    pub delete: bool,
    /// Keep only the latest record per key.
    pub compact: bool,
}

impl CleanupPolicy {
    /// `delete`, Kafka's default.
    pub const DELETE: CleanupPolicy = CleanupPolicy { delete: true, compact: false };
    /// `compact`, used by changelog topics.
    pub const COMPACT: CleanupPolicy = CleanupPolicy { delete: false, compact: true };
    /// `compact,delete`, used by windowed changelog topics.
    pub const COMPACT_DELETE: CleanupPolicy = CleanupPolicy { delete: true, compact: true };

    /// Parses a comma-separated list of `delete` and `compact` (in any order, at least one).
    /// Returns `None` for anything else.
    pub fn parse(s: &str) -> Option<CleanupPolicy> {
        let mut policy = CleanupPolicy { delete: false, compact: false };
        for item in s.split(',') {
            match item.trim() {
                "delete" => policy.delete = true,
                "compact" => policy.compact = true,
                _ => return None,
            }
        }
        Some(policy)
    }
}

impl Default for CleanupPolicy {
    fn default() -> Self {
        CleanupPolicy::DELETE
    }
}

impl fmt::Display for CleanupPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.compact, self.delete) {
            (true, true) => f.write_str("compact,delete"),
            (true, false) => f.write_str("compact"),
            (false, true) => f.write_str("delete"),
            // Not constructible through `parse`; shown as the empty list it is.
            (false, false) => Ok(()),
        }
    }
}

/// Which timestamp records of a topic carry (`message.timestamp.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TimestampType {
    /// The producer's timestamp is kept.
    #[default]
    CreateTime,
    /// The broker overwrites the timestamp with its clock when appending.
    LogAppendTime,
}

impl TimestampType {
    /// Kafka's name for the type: `CreateTime` or `LogAppendTime`.
    pub fn as_str(self) -> &'static str {
        match self {
            TimestampType::CreateTime => "CreateTime",
            TimestampType::LogAppendTime => "LogAppendTime",
        }
    }

    /// Parses Kafka's name for the type (case-sensitive).
    pub fn parse(s: &str) -> Option<TimestampType> {
        match s.trim() {
            "CreateTime" => Some(TimestampType::CreateTime),
            "LogAppendTime" => Some(TimestampType::LogAppendTime),
            _ => None,
        }
    }
}

impl fmt::Display for TimestampType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The type of a config value, as DescribeConfigs (v3+) reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigType {
    /// A 32-bit integer.
    Int,
    /// A 64-bit integer.
    Long,
    /// A floating-point number.
    Double,
    /// A string from a fixed set.
    String,
    /// A comma-separated list.
    List,
}

/// One config as DescribeConfigs lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigEntry {
    /// Kafka's name of the config, such as `retention.ms`.
    pub name: &'static str,
    /// The current value, formatted as Kafka formats it.
    pub value: String,
    /// Whether the value is the default (no per-topic override).
    pub is_default: bool,
    /// Whether the config cannot be altered. No topic config is read-only.
    pub read_only: bool,
    /// Whether the value is secret. No topic config is.
    pub sensitive: bool,
    /// The type of the value.
    pub config_type: ConfigType,
    /// A one-line description.
    pub doc: &'static str,
}

/// A config name or value that was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The name is not a supported topic config.
    #[error("unknown topic config {name:?}")]
    Unknown {
        /// The name given.
        name: String,
    },
    /// The value does not parse as the config's type or is outside its valid range.
    #[error("invalid value {value:?} for topic config {name}: expected {expected}")]
    InvalidValue {
        /// The config's name.
        name: &'static str,
        /// The value given.
        value: String,
        /// What the config accepts.
        expected: &'static str,
    },
    /// `min.compaction.lag.ms` is greater than `max.compaction.lag.ms`.
    #[error("min.compaction.lag.ms ({min}) must not be greater than max.compaction.lag.ms ({max})")]
    CompactionLagConflict {
        /// The value of `min.compaction.lag.ms`.
        min: i64,
        /// The value of `max.compaction.lag.ms`.
        max: i64,
    },
    /// A line of a properties file is not `key=value`.
    #[error("line {line} of the topic config file is not `key=value`: {text:?}")]
    MalformedLine {
        /// 1-based line number.
        line: usize,
        /// The line's content.
        text: String,
    },
    /// A properties file sets the same config twice.
    #[error("line {line} of the topic config file sets {name} a second time")]
    DuplicateKey {
        /// The config's name.
        name: String,
        /// 1-based line number of the second occurrence.
        line: usize,
    },
}

/// How a config's value is parsed and checked.
#[derive(Debug, Clone, Copy)]
enum Rule {
    IntAtLeast(i32),
    LongAtLeast(i64),
    AnyLong,
    UnitInterval,
    Policy,
    Timestamp,
}

#[derive(Debug, Clone, Copy)]
struct Spec {
    name: &'static str,
    rule: Rule,
    config_type: ConfigType,
    expected: &'static str,
    doc: &'static str,
}

const CLEANUP_POLICY: &str = "cleanup.policy";
const DELETE_RETENTION_MS: &str = "delete.retention.ms";
const INDEX_INTERVAL_BYTES: &str = "index.interval.bytes";
const MAX_COMPACTION_LAG_MS: &str = "max.compaction.lag.ms";
const MAX_MESSAGE_BYTES: &str = "max.message.bytes";
const MESSAGE_TIMESTAMP_TYPE: &str = "message.timestamp.type";
const MIN_CLEANABLE_DIRTY_RATIO: &str = "min.cleanable.dirty.ratio";
const MIN_COMPACTION_LAG_MS: &str = "min.compaction.lag.ms";
const RETENTION_BYTES: &str = "retention.bytes";
const RETENTION_MS: &str = "retention.ms";
const SEGMENT_BYTES: &str = "segment.bytes";
const SEGMENT_INDEX_BYTES: &str = "segment.index.bytes";
const SEGMENT_MS: &str = "segment.ms";

/// Every supported config, sorted by name.
const SPECS: [Spec; 13] = [
    Spec {
        name: CLEANUP_POLICY,
        rule: Rule::Policy,
        config_type: ConfigType::List,
        expected: "\"delete\", \"compact\" or \"compact,delete\"",
        doc: "What happens to old segments: delete them by age and size, compact them to the latest record per key, or both.",
    },
    Spec {
        name: DELETE_RETENTION_MS,
        rule: Rule::LongAtLeast(0),
        config_type: ConfigType::Long,
        expected: "a 64-bit integer of at least 0",
        doc: "How long tombstones are kept in a compacted topic after compaction reaches them, in milliseconds.",
    },
    Spec {
        name: INDEX_INTERVAL_BYTES,
        rule: Rule::IntAtLeast(0),
        config_type: ConfigType::Int,
        expected: "a 32-bit integer of at least 0",
        doc: "How many bytes of log lie between two entries of the offset index.",
    },
    Spec {
        name: MAX_COMPACTION_LAG_MS,
        rule: Rule::LongAtLeast(1),
        config_type: ConfigType::Long,
        expected: "a 64-bit integer of at least 1",
        doc: "The longest a record may stay ineligible for compaction, in milliseconds.",
    },
    Spec {
        name: MAX_MESSAGE_BYTES,
        rule: Rule::IntAtLeast(0),
        config_type: ConfigType::Int,
        expected: "a 32-bit integer of at least 0",
        doc: "The largest record batch the topic accepts, in bytes (after compression).",
    },
    Spec {
        name: MESSAGE_TIMESTAMP_TYPE,
        rule: Rule::Timestamp,
        config_type: ConfigType::String,
        expected: "\"CreateTime\" or \"LogAppendTime\"",
        doc: "Whether records keep the producer's timestamp (CreateTime) or get the broker's append time (LogAppendTime).",
    },
    Spec {
        name: MIN_CLEANABLE_DIRTY_RATIO,
        rule: Rule::UnitInterval,
        config_type: ConfigType::Double,
        expected: "a number between 0 and 1",
        doc: "The share of uncompacted log above which the compactor cleans the partition.",
    },
    Spec {
        name: MIN_COMPACTION_LAG_MS,
        rule: Rule::LongAtLeast(0),
        config_type: ConfigType::Long,
        expected: "a 64-bit integer of at least 0",
        doc: "The shortest time a record stays uncompacted, in milliseconds.",
    },
    Spec {
        name: RETENTION_BYTES,
        rule: Rule::AnyLong,
        config_type: ConfigType::Long,
        expected: "a 64-bit integer",
        doc: "The size a partition may grow to before its oldest segments are deleted, in bytes; -1 means unlimited.",
    },
    Spec {
        name: RETENTION_MS,
        rule: Rule::LongAtLeast(-1),
        config_type: ConfigType::Long,
        expected: "a 64-bit integer of at least -1",
        doc: "How long segments are kept before deletion, in milliseconds; -1 means forever.",
    },
    Spec {
        name: SEGMENT_BYTES,
        rule: Rule::IntAtLeast(14),
        config_type: ConfigType::Int,
        expected: "a 32-bit integer of at least 14",
        doc: "The size at which a new log segment is started, in bytes.",
    },
    Spec {
        name: SEGMENT_INDEX_BYTES,
        rule: Rule::IntAtLeast(4),
        config_type: ConfigType::Int,
        expected: "a 32-bit integer of at least 4",
        doc: "The largest size of a segment's offset and time indexes, in bytes.",
    },
    Spec {
        name: SEGMENT_MS,
        rule: Rule::LongAtLeast(1),
        config_type: ConfigType::Long,
        expected: "a 64-bit integer of at least 1",
        doc: "The age at which a new log segment is started even if the current one is not full, in milliseconds.",
    },
];

/// A parsed value, before it is stored in its field.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Value {
    Int(i32),
    Long(i64),
    Double(f64),
    Policy(CleanupPolicy),
    Timestamp(TimestampType),
}

impl Spec {
    fn find(name: &str) -> Option<&'static Spec> {
        SPECS.iter().find(|s| s.name == name)
    }

    fn parse(&self, value: &str) -> Result<Value, ConfigError> {
        let parsed = match self.rule {
            Rule::IntAtLeast(_) => value.trim().parse().ok().map(Value::Int),
            Rule::LongAtLeast(_) | Rule::AnyLong => value.trim().parse().ok().map(Value::Long),
            Rule::UnitInterval => value.trim().parse().ok().map(Value::Double),
            Rule::Policy => CleanupPolicy::parse(value).map(Value::Policy),
            Rule::Timestamp => TimestampType::parse(value).map(Value::Timestamp),
        };
        match parsed {
            Some(v) if self.accepts(v) => Ok(v),
            _ => Err(self.invalid(value.to_owned())),
        }
    }

    fn accepts(&self, value: Value) -> bool {
        match (self.rule, value) {
            (Rule::IntAtLeast(min), Value::Int(v)) => v >= min,
            (Rule::LongAtLeast(min), Value::Long(v)) => v >= min,
            (Rule::AnyLong, Value::Long(_)) => true,
            (Rule::UnitInterval, Value::Double(v)) => (0.0..=1.0).contains(&v),
            (Rule::Policy, Value::Policy(p)) => p.delete || p.compact,
            (Rule::Timestamp, Value::Timestamp(_)) => true,
            _ => false,
        }
    }

    fn invalid(&self, value: String) -> ConfigError {
        ConfigError::InvalidValue { name: self.name, value, expected: self.expected }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(v) => write!(f, "{v}"),
            Value::Long(v) => write!(f, "{v}"),
            // `{:?}` keeps a fractional part ("1.0"), as Kafka's describe output does, and
            // prints the shortest form that parses back to the same number.
            Value::Double(v) => write!(f, "{v:?}"),
            Value::Policy(p) => write!(f, "{p}"),
            Value::Timestamp(t) => write!(f, "{t}"),
        }
    }
}

/// The topic-level configs of one topic.
///
/// Names, types, defaults and valid ranges follow Kafka 3.x's `LogConfig`:
///
/// | name | type | default | valid values |
/// | --- | --- | --- | --- |
/// | `cleanup.policy` | list | `delete` | `delete`, `compact`, or both |
/// | `delete.retention.ms` | long | 86400000 (1 day) | ≥ 0 |
/// | `index.interval.bytes` | int | 4096 | ≥ 0 |
/// | `max.compaction.lag.ms` | long | `i64::MAX` | ≥ 1 |
/// | `max.message.bytes` | int | 1048588 (1 MiB + 12) | ≥ 0 |
/// | `message.timestamp.type` | string | `CreateTime` | `CreateTime`, `LogAppendTime` |
/// | `min.cleanable.dirty.ratio` | double | 0.5 | 0 to 1 |
/// | `min.compaction.lag.ms` | long | 0 | ≥ 0 |
/// | `retention.bytes` | long | -1 (unlimited) | any |
/// | `retention.ms` | long | 604800000 (7 days) | ≥ -1 (-1 = unlimited) |
/// | `segment.bytes` | int | 1073741824 (1 GiB) | ≥ 14 |
/// | `segment.index.bytes` | int | 10485760 (10 MiB) | ≥ 4 |
/// | `segment.ms` | long | 604800000 (7 days) | ≥ 1 |
///
/// `segment.bytes` uses Kafka 3.x's lower bound of 14 bytes (the smallest legacy record); Kafka
/// 4.0 raised it to 1 MiB. The small bound lets tests roll segments after a few records. As in
/// Kafka, `min.compaction.lag.ms` may not exceed `max.compaction.lag.ms` ([`TopicConfig::validate`]).
///
/// Values are parsed as Kafka parses them: surrounding whitespace is ignored, numbers are decimal,
/// list items are separated by commas, enumerated values are case-sensitive.
///
/// # Properties file
///
/// [`TopicConfig::to_properties`] writes one `key=value` line per config that differs from its
/// default, sorted by key; [`TopicConfig::from_properties`] reads it back, ignoring blank lines
/// and lines starting with `#`. A topic with all defaults is an empty file.
///
/// ```
/// use broker_embedded::topic::{CleanupPolicy, TopicConfig};
///
/// let config = TopicConfig::from_pairs([("cleanup.policy", "compact"), ("segment.bytes", "1024")])?;
/// assert_eq!(config.cleanup_policy, CleanupPolicy::COMPACT);
/// assert_eq!(config.get("segment.bytes").as_deref(), Some("1024"));
/// assert_eq!(TopicConfig::from_properties(&config.to_properties())?, config);
/// # Ok::<(), broker_embedded::topic::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TopicConfig {
    /// `cleanup.policy`.
    pub cleanup_policy: CleanupPolicy,
    /// `retention.ms`; -1 keeps data forever.
    pub retention_ms: i64,
    /// `retention.bytes`; -1 (any negative value) means unlimited.
    pub retention_bytes: i64,
    /// `segment.bytes`.
    pub segment_bytes: i32,
    /// `segment.ms`.
    pub segment_ms: i64,
    /// `segment.index.bytes`.
    pub segment_index_bytes: i32,
    /// `index.interval.bytes`.
    pub index_interval_bytes: i32,
    /// `max.message.bytes`.
    pub max_message_bytes: i32,
    /// `min.compaction.lag.ms`.
    pub min_compaction_lag_ms: i64,
    /// `max.compaction.lag.ms`.
    pub max_compaction_lag_ms: i64,
    /// `delete.retention.ms`: how long a tombstone stays after compaction first cleans it (its
    /// batch gets a delete horizon then, as in Kafka).
    pub delete_retention_ms: i64,
    /// `min.cleanable.dirty.ratio`.
    pub min_cleanable_dirty_ratio: f64,
    /// `message.timestamp.type`.
    pub message_timestamp_type: TimestampType,
}

impl Default for TopicConfig {
    fn default() -> Self {
        const DAY_MS: i64 = 24 * 60 * 60 * 1000;
        TopicConfig {
            cleanup_policy: CleanupPolicy::DELETE,
            retention_ms: 7 * DAY_MS,
            retention_bytes: -1,
            segment_bytes: 1 << 30,
            segment_ms: 7 * DAY_MS,
            segment_index_bytes: 10 * 1024 * 1024,
            index_interval_bytes: 4096,
            max_message_bytes: 1024 * 1024 + 12,
            min_compaction_lag_ms: 0,
            max_compaction_lag_ms: i64::MAX,
            delete_retention_ms: DAY_MS,
            min_cleanable_dirty_ratio: 0.5,
            message_timestamp_type: TimestampType::CreateTime,
        }
    }
}

impl TopicConfig {
    /// The names of all supported configs, sorted.
    pub fn names() -> impl Iterator<Item = &'static str> {
        SPECS.iter().map(|s| s.name)
    }

    /// Sets one config from its string form, checking its type and range.
    ///
    /// Cross-config rules (`min.compaction.lag.ms` ≤ `max.compaction.lag.ms`) are checked by
    /// [`validate`](Self::validate), since a caller applying several changes may pass through an
    /// intermediate state that breaks them. On error the config is unchanged.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        let spec =
            Spec::find(name).ok_or_else(|| ConfigError::Unknown { name: name.to_owned() })?;
        let parsed = spec.parse(value)?;
        self.store(spec, parsed);
        Ok(())
    }

    /// Builds a config from defaults and `(name, value)` overrides applied in order (a later
    /// value for the same name wins), then [`validate`](Self::validate)s it.
    pub fn from_pairs<I, K, V>(pairs: I) -> Result<TopicConfig, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut config = TopicConfig::default();
        for (name, value) in pairs {
            config.set(name.as_ref(), value.as_ref())?;
        }
        config.validate()?;
        Ok(config)
    }

    /// The current value of a config in its string form, or `None` for an unknown name.
    pub fn get(&self, name: &str) -> Option<String> {
        Spec::find(name).map(|spec| self.load(spec).to_string())
    }

    /// Checks every value against its range and the cross-config rules. Useful after assigning
    /// fields directly.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for spec in &SPECS {
            let value = self.load(spec);
            if !spec.accepts(value) {
                return Err(spec.invalid(value.to_string()));
            }
        }
        if self.min_compaction_lag_ms > self.max_compaction_lag_ms {
            return Err(ConfigError::CompactionLagConflict {
                min: self.min_compaction_lag_ms,
                max: self.max_compaction_lag_ms,
            });
        }
        Ok(())
    }

    /// Every supported config with its current value, sorted by name.
    pub fn describe(&self) -> Vec<ConfigEntry> {
        let defaults = TopicConfig::default();
        SPECS
            .iter()
            .map(|spec| {
                let value = self.load(spec);
                ConfigEntry {
                    name: spec.name,
                    value: value.to_string(),
                    is_default: value == defaults.load(spec),
                    read_only: false,
                    sensitive: false,
                    config_type: spec.config_type,
                    doc: spec.doc,
                }
            })
            .collect()
    }

    /// The configs that differ from their defaults, one `key=value` line each, sorted by key.
    pub fn to_properties(&self) -> String {
        let mut out = String::new();
        for entry in self.describe().into_iter().filter(|e| !e.is_default) {
            out.push_str(entry.name);
            out.push('=');
            out.push_str(&entry.value);
            out.push('\n');
        }
        out
    }

    /// Reads a file written by [`to_properties`](Self::to_properties): `key=value` lines over
    /// the defaults. Blank lines and lines starting with `#` are skipped; a key given twice, an
    /// unknown key or an invalid value is an error.
    pub fn from_properties(text: &str) -> Result<TopicConfig, ConfigError> {
        let mut config = TopicConfig::default();
        let mut seen: Vec<&str> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(ConfigError::MalformedLine { line: index + 1, text: raw.to_owned() });
            };
            let key = key.trim();
            if seen.contains(&key) {
                return Err(ConfigError::DuplicateKey { name: key.to_owned(), line: index + 1 });
            }
            seen.push(key);
            config.set(key, value)?;
        }
        config.validate()?;
        Ok(config)
    }

    fn load(&self, spec: &Spec) -> Value {
        match spec.name {
            CLEANUP_POLICY => Value::Policy(self.cleanup_policy),
            DELETE_RETENTION_MS => Value::Long(self.delete_retention_ms),
            INDEX_INTERVAL_BYTES => Value::Int(self.index_interval_bytes),
            MAX_COMPACTION_LAG_MS => Value::Long(self.max_compaction_lag_ms),
            MAX_MESSAGE_BYTES => Value::Int(self.max_message_bytes),
            MESSAGE_TIMESTAMP_TYPE => Value::Timestamp(self.message_timestamp_type),
            MIN_CLEANABLE_DIRTY_RATIO => Value::Double(self.min_cleanable_dirty_ratio),
            MIN_COMPACTION_LAG_MS => Value::Long(self.min_compaction_lag_ms),
            RETENTION_BYTES => Value::Long(self.retention_bytes),
            RETENTION_MS => Value::Long(self.retention_ms),
            SEGMENT_BYTES => Value::Int(self.segment_bytes),
            SEGMENT_INDEX_BYTES => Value::Int(self.segment_index_bytes),
            SEGMENT_MS => Value::Long(self.segment_ms),
            // Unreachable: every spec name is listed above (a unit test checks it).
            _ => Value::Long(0),
        }
    }

    fn store(&mut self, spec: &Spec, value: Value) {
        match (spec.name, value) {
            (CLEANUP_POLICY, Value::Policy(v)) => self.cleanup_policy = v,
            (DELETE_RETENTION_MS, Value::Long(v)) => self.delete_retention_ms = v,
            (INDEX_INTERVAL_BYTES, Value::Int(v)) => self.index_interval_bytes = v,
            (MAX_COMPACTION_LAG_MS, Value::Long(v)) => self.max_compaction_lag_ms = v,
            (MAX_MESSAGE_BYTES, Value::Int(v)) => self.max_message_bytes = v,
            (MESSAGE_TIMESTAMP_TYPE, Value::Timestamp(v)) => self.message_timestamp_type = v,
            (MIN_CLEANABLE_DIRTY_RATIO, Value::Double(v)) => self.min_cleanable_dirty_ratio = v,
            (MIN_COMPACTION_LAG_MS, Value::Long(v)) => self.min_compaction_lag_ms = v,
            (RETENTION_BYTES, Value::Long(v)) => self.retention_bytes = v,
            (RETENTION_MS, Value::Long(v)) => self.retention_ms = v,
            (SEGMENT_BYTES, Value::Int(v)) => self.segment_bytes = v,
            (SEGMENT_INDEX_BYTES, Value::Int(v)) => self.segment_index_bytes = v,
            (SEGMENT_MS, Value::Long(v)) => self.segment_ms = v,
            // Unreachable: `Spec::parse` yields the variant that matches the spec's rule.
            _ => {}
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may unwrap.
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn invalid(name: &str, value: &str) -> ConfigError {
        TopicConfig::default().set(name, value).unwrap_err()
    }

    #[test]
    fn defaults_match_kafka() {
        let c = TopicConfig::default();
        assert_eq!(c.cleanup_policy, CleanupPolicy::DELETE);
        assert_eq!(c.retention_ms, 604_800_000);
        assert_eq!(c.retention_bytes, -1);
        assert_eq!(c.segment_bytes, 1_073_741_824);
        assert_eq!(c.segment_ms, 604_800_000);
        assert_eq!(c.segment_index_bytes, 10_485_760);
        assert_eq!(c.index_interval_bytes, 4096);
        assert_eq!(c.max_message_bytes, 1_048_588);
        assert_eq!(c.min_compaction_lag_ms, 0);
        assert_eq!(c.max_compaction_lag_ms, i64::MAX);
        assert_eq!(c.delete_retention_ms, 86_400_000);
        assert_eq!(c.min_cleanable_dirty_ratio, 0.5);
        assert_eq!(c.message_timestamp_type, TimestampType::CreateTime);
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn every_spec_is_wired_to_a_field() {
        // Setting each config to a non-default valid value must change exactly that config.
        let samples = [
            (CLEANUP_POLICY, "compact"),
            (DELETE_RETENTION_MS, "5"),
            (INDEX_INTERVAL_BYTES, "5"),
            (MAX_COMPACTION_LAG_MS, "5"),
            (MAX_MESSAGE_BYTES, "5"),
            (MESSAGE_TIMESTAMP_TYPE, "LogAppendTime"),
            (MIN_CLEANABLE_DIRTY_RATIO, "0.25"),
            (MIN_COMPACTION_LAG_MS, "5"),
            (RETENTION_BYTES, "5"),
            (RETENTION_MS, "5"),
            (SEGMENT_BYTES, "5000"),
            (SEGMENT_INDEX_BYTES, "5000"),
            (SEGMENT_MS, "5"),
        ];
        assert_eq!(samples.len(), SPECS.len());
        for (name, value) in samples {
            let mut c = TopicConfig::default();
            c.set(name, value).unwrap();
            assert_eq!(c.get(name).as_deref(), Some(value), "{name}");
            let changed: Vec<_> =
                c.describe().into_iter().filter(|e| !e.is_default).map(|e| e.name).collect();
            assert_eq!(changed, vec![name]);
        }
    }

    #[test]
    fn names_are_sorted_and_unique() {
        let names: Vec<_> = TopicConfig::names().collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
    }

    #[test]
    fn parses_cleanup_policies() {
        let mut c = TopicConfig::default();
        for (text, policy) in [
            ("delete", CleanupPolicy::DELETE),
            ("compact", CleanupPolicy::COMPACT),
            ("compact,delete", CleanupPolicy::COMPACT_DELETE),
            ("delete,compact", CleanupPolicy::COMPACT_DELETE),
            (" compact , delete ", CleanupPolicy::COMPACT_DELETE),
        ] {
            c.set("cleanup.policy", text).unwrap();
            assert_eq!(c.cleanup_policy, policy, "{text}");
        }
        assert_eq!(c.get("cleanup.policy").as_deref(), Some("compact,delete"));
        for bad in ["", "Compact", "compact;delete", "compact,", "none"] {
            assert!(
                matches!(invalid("cleanup.policy", bad), ConfigError::InvalidValue { .. }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn parses_timestamp_type() {
        let mut c = TopicConfig::default();
        c.set("message.timestamp.type", "LogAppendTime").unwrap();
        assert_eq!(c.message_timestamp_type, TimestampType::LogAppendTime);
        assert!(c.set("message.timestamp.type", "logappendtime").is_err());
    }

    #[test]
    fn numbers_are_trimmed_and_checked_for_type() {
        let mut c = TopicConfig::default();
        c.set("retention.ms", " 1000 ").unwrap();
        assert_eq!(c.retention_ms, 1000);
        c.set("retention.bytes", "-5").unwrap();
        assert_eq!(c.retention_bytes, -5);
        for (name, bad) in [
            ("retention.ms", "1h"),
            ("retention.ms", "1.5"),
            ("segment.bytes", "3000000000"),
            ("segment.bytes", ""),
            ("min.cleanable.dirty.ratio", "half"),
        ] {
            assert!(matches!(invalid(name, bad), ConfigError::InvalidValue { .. }), "{name}={bad}");
        }
    }

    #[test]
    fn range_errors_name_key_value_and_bound() {
        let err = invalid("segment.bytes", "13");
        assert_eq!(
            err,
            ConfigError::InvalidValue {
                name: "segment.bytes",
                value: "13".into(),
                expected: "a 32-bit integer of at least 14",
            }
        );
        let msg = err.to_string();
        assert!(msg.contains("segment.bytes") && msg.contains("\"13\"") && msg.contains("14"));

        assert!(TopicConfig::default().set("segment.bytes", "14").is_ok());
        assert!(invalid("retention.ms", "-2").to_string().contains("-1"));
        assert!(TopicConfig::default().set("retention.ms", "-1").is_ok());
        assert!(TopicConfig::default().set("segment.ms", "0").is_err());
        assert!(TopicConfig::default().set("segment.index.bytes", "3").is_err());
        assert!(TopicConfig::default().set("max.compaction.lag.ms", "0").is_err());
        assert!(TopicConfig::default().set("delete.retention.ms", "-1").is_err());
        assert!(TopicConfig::default().set("max.message.bytes", "-1").is_err());
        for ratio in ["-0.1", "1.01", "NaN", "inf"] {
            assert!(
                TopicConfig::default().set("min.cleanable.dirty.ratio", ratio).is_err(),
                "{ratio}"
            );
        }
        for ratio in ["0", "1", "0.9", "1e-3"] {
            assert!(
                TopicConfig::default().set("min.cleanable.dirty.ratio", ratio).is_ok(),
                "{ratio}"
            );
        }
    }

    #[test]
    fn failed_set_leaves_config_unchanged() {
        let mut c = TopicConfig::default();
        assert!(c.set("segment.bytes", "1").is_err());
        assert_eq!(c, TopicConfig::default());
    }

    #[test]
    fn unknown_key_is_an_error() {
        let err = invalid("retention.hours", "1");
        assert_eq!(err, ConfigError::Unknown { name: "retention.hours".into() });
        assert!(err.to_string().contains("retention.hours"));
        assert_eq!(TopicConfig::default().get("retention.hours"), None);
    }

    #[test]
    fn compaction_lags_must_be_ordered() {
        let err = TopicConfig::from_pairs([
            ("min.compaction.lag.ms", "10"),
            ("max.compaction.lag.ms", "5"),
        ])
        .unwrap_err();
        assert_eq!(err, ConfigError::CompactionLagConflict { min: 10, max: 5 });
        assert!(
            TopicConfig::from_pairs([
                ("min.compaction.lag.ms", "5"),
                ("max.compaction.lag.ms", "5")
            ])
            .is_ok()
        );
    }

    #[test]
    fn validate_catches_direct_field_assignment() {
        let c = TopicConfig { segment_bytes: 0, ..TopicConfig::default() };
        assert!(matches!(
            c.validate(),
            Err(ConfigError::InvalidValue { name: "segment.bytes", .. })
        ));
        let c = TopicConfig {
            cleanup_policy: CleanupPolicy { delete: false, compact: false },
            ..TopicConfig::default()
        };
        assert!(c.validate().is_err());
    }

    #[test]
    fn from_pairs_later_value_wins() {
        let c = TopicConfig::from_pairs(vec![
            ("retention.ms".to_string(), "1".to_string()),
            ("retention.ms".to_string(), "2".to_string()),
        ])
        .unwrap();
        assert_eq!(c.retention_ms, 2);
    }

    #[test]
    fn describe_lists_all_configs_with_defaults() {
        let mut c = TopicConfig::default();
        c.set("cleanup.policy", "compact").unwrap();
        let entries = c.describe();
        assert_eq!(entries.len(), SPECS.len());
        let policy = entries.iter().find(|e| e.name == "cleanup.policy").unwrap();
        assert_eq!(policy.value, "compact");
        assert!(!policy.is_default);
        assert_eq!(policy.config_type, ConfigType::List);
        let ratio = entries.iter().find(|e| e.name == "min.cleanable.dirty.ratio").unwrap();
        assert_eq!(ratio.value, "0.5");
        assert!(ratio.is_default);
        let lag = entries.iter().find(|e| e.name == "max.compaction.lag.ms").unwrap();
        assert_eq!(lag.value, i64::MAX.to_string());
        assert!(entries.iter().all(|e| !e.read_only && !e.sensitive && !e.doc.is_empty()));
        assert_eq!(entries.iter().filter(|e| !e.is_default).count(), 1);
    }

    #[test]
    fn setting_the_default_value_counts_as_default() {
        let mut c = TopicConfig::default();
        c.set("retention.ms", "604800000").unwrap();
        assert_eq!(c.to_properties(), "");
    }

    #[test]
    fn properties_write_only_overrides_and_read_back() {
        let c = TopicConfig::from_pairs([
            ("cleanup.policy", "delete,compact"),
            ("segment.bytes", "1048576"),
            ("min.cleanable.dirty.ratio", "1"),
        ])
        .unwrap();
        let text = c.to_properties();
        assert_eq!(
            text,
            "cleanup.policy=compact,delete\nmin.cleanable.dirty.ratio=1.0\nsegment.bytes=1048576\n"
        );
        assert_eq!(TopicConfig::from_properties(&text).unwrap(), c);
        assert_eq!(TopicConfig::default().to_properties(), "");
        assert_eq!(TopicConfig::from_properties("").unwrap(), TopicConfig::default());
    }

    #[test]
    fn properties_skip_comments_and_blank_lines() {
        let c = TopicConfig::from_properties("# written by the broker\n\n  retention.ms = 5 \r\n")
            .unwrap();
        assert_eq!(c.retention_ms, 5);
    }

    #[test]
    fn malformed_properties_are_rejected() {
        assert_eq!(
            TopicConfig::from_properties("retention.ms=5\nsegment.bytes\n").unwrap_err(),
            ConfigError::MalformedLine { line: 2, text: "segment.bytes".into() }
        );
        assert_eq!(
            TopicConfig::from_properties("retention.ms=5\nretention.ms=6\n").unwrap_err(),
            ConfigError::DuplicateKey { name: "retention.ms".into(), line: 2 }
        );
        assert!(matches!(
            TopicConfig::from_properties("bogus=1").unwrap_err(),
            ConfigError::Unknown { .. }
        ));
        assert!(matches!(
            TopicConfig::from_properties("segment.bytes=1").unwrap_err(),
            ConfigError::InvalidValue { .. }
        ));
        assert!(matches!(
            TopicConfig::from_properties("min.compaction.lag.ms=9\nmax.compaction.lag.ms=8")
                .unwrap_err(),
            ConfigError::CompactionLagConflict { .. }
        ));
    }

    fn arb_config() -> impl Strategy<Value = TopicConfig> {
        (
            (
                prop_oneof![
                    Just(CleanupPolicy::DELETE),
                    Just(CleanupPolicy::COMPACT),
                    Just(CleanupPolicy::COMPACT_DELETE)
                ],
                -1i64..=i64::MAX,
                any::<i64>(),
                14..=i32::MAX,
                1..=i64::MAX,
                4..=i32::MAX,
                0..=i32::MAX,
            ),
            (
                0..=i32::MAX,
                0..=i64::MAX,
                0..=i64::MAX,
                prop_oneof![Just(0.0), Just(1.0), 0.0f64..=1.0],
                prop_oneof![Just(TimestampType::CreateTime), Just(TimestampType::LogAppendTime)],
                0..=i64::MAX,
            ),
        )
            .prop_map(
                |((p, rms, rb, sb, sms, sib, iib), (mmb, lag_a, lag_b, ratio, ts, drm))| {
                    TopicConfig {
                        delete_retention_ms: drm,
                        cleanup_policy: p,
                        retention_ms: rms,
                        retention_bytes: rb,
                        segment_bytes: sb,
                        segment_ms: sms,
                        segment_index_bytes: sib,
                        index_interval_bytes: iib,
                        max_message_bytes: mmb,
                        min_compaction_lag_ms: lag_a.min(lag_b),
                        max_compaction_lag_ms: lag_a.max(lag_b).max(1),
                        min_cleanable_dirty_ratio: ratio,
                        message_timestamp_type: ts,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn properties_round_trip(c in arb_config()) {
            prop_assert_eq!(c.validate(), Ok(()));
            let text = c.to_properties();
            prop_assert_eq!(TopicConfig::from_properties(&text), Ok(c.clone()));
            let pairs: Vec<_> = c.describe().into_iter().map(|e| (e.name, e.value)).collect();
            prop_assert_eq!(TopicConfig::from_pairs(pairs), Ok(c));
        }

        #[test]
        fn arbitrary_text_never_panics(text in any::<String>()) {
            let _ = TopicConfig::from_properties(&text);
            let mut c = TopicConfig::default();
            for name in TopicConfig::names() {
                let _ = c.set(name, &text);
            }
        }
    }
}
