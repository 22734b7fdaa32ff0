//! The in-process admin client: topics, partitions, configs, offsets.

use std::sync::Arc;

use crate::broker::{BrokerCore, background_cleanup};
use crate::client::TopicPartition;
use crate::error::{Error, Result};
use crate::topic::ConfigEntry;

/// A topic to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTopic {
    /// The name.
    pub name: String,
    /// Number of partitions; `-1` for the broker's default.
    pub partitions: i32,
    /// Topic configs (`cleanup.policy`, `retention.ms`, ...).
    pub configs: Vec<(String, String)>,
}

impl NewTopic {
    /// A topic with `partitions` partitions and default configs.
    pub fn new(name: impl Into<String>, partitions: i32) -> Self {
        Self {
            name: name.into(),
            partitions,
            configs: Vec::new(),
        }
    }

    /// Sets a topic config.
    pub fn config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.configs.push((key.into(), value.into()));
        self
    }
}

/// One partition of a described topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionDescription {
    /// Partition number.
    pub partition: i32,
    /// First offset in the log.
    pub log_start_offset: i64,
    /// One past the last offset in the log.
    pub log_end_offset: i64,
    /// The end of what consumers can read.
    pub high_watermark: i64,
    /// Bytes on disk.
    pub size_in_bytes: u64,
    /// Number of segments.
    pub segments: usize,
}

/// A described topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicDescription {
    /// The name.
    pub name: String,
    /// The topic id (16 bytes, as Kafka's UUID).
    pub id: [u8; 16],
    /// Its partitions.
    pub partitions: Vec<PartitionDescription>,
}

/// Which offset [`Admin::list_offsets`] looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetSpec {
    /// The log start offset.
    Earliest,
    /// The high watermark.
    Latest,
    /// The earliest offset whose timestamp is at least this.
    Timestamp(i64),
}

/// The admin client.
#[derive(Debug, Clone)]
pub struct Admin {
    core: Arc<BrokerCore>,
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Timeout(format!("admin task failed: {e}")))?
}

impl Admin {
    pub(crate) fn new(core: Arc<BrokerCore>) -> Self {
        Self { core }
    }

    /// Creates a topic.
    pub async fn create_topic(&self, topic: NewTopic) -> Result<()> {
        let core = self.core.clone();
        blocking(move || {
            core.create_topic(&topic.name, topic.partitions, &topic.configs)
                .map(|_| ())
        })
        .await
    }

    /// Deletes a topic and its data.
    pub async fn delete_topic(&self, name: &str) -> Result<()> {
        let core = self.core.clone();
        let name = name.to_string();
        blocking(move || core.delete_topic(&name)).await
    }

    /// The names of all topics, sorted.
    pub fn list_topics(&self) -> Vec<String> {
        self.core.topics.read().keys().cloned().collect()
    }

    /// Describes a topic's partitions.
    pub fn describe_topic(&self, name: &str) -> Result<TopicDescription> {
        let entry = self
            .core
            .topics
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| Error::UnknownTopic(name.to_string()))?;
        let partitions = entry
            .partitions()
            .iter()
            .map(|p| {
                let hw = p.high_watermark();
                let log = p.log.lock();
                PartitionDescription {
                    partition: p.index,
                    log_start_offset: log.log_start_offset(),
                    log_end_offset: log.log_end_offset(),
                    high_watermark: hw,
                    size_in_bytes: log.size_in_bytes(),
                    segments: log.segment_count(),
                }
            })
            .collect();
        Ok(TopicDescription {
            name: entry.name.to_string(),
            id: entry.id,
            partitions,
        })
    }

    /// Grows a topic to `total` partitions.
    pub async fn create_partitions(&self, name: &str, total: i32) -> Result<()> {
        let core = self.core.clone();
        let name = name.to_string();
        blocking(move || core.create_partitions(&name, total)).await
    }

    /// Every config of a topic, with its value and whether it is the default.
    pub fn describe_configs(&self, name: &str) -> Result<Vec<ConfigEntry>> {
        let entry = self
            .core
            .topics
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| Error::UnknownTopic(name.to_string()))?;
        Ok(entry.config().describe())
    }

    /// Changes topic configs; a `None` value resets the key to its default.
    pub async fn alter_configs(
        &self,
        name: &str,
        changes: Vec<(String, Option<String>)>,
    ) -> Result<()> {
        let core = self.core.clone();
        let name = name.to_string();
        blocking(move || core.alter_topic_config(&name, &changes).map(|_| ())).await
    }

    /// Deletes records below `offset` (moves the log start offset). Returns the new log start.
    pub async fn delete_records(&self, tp: &TopicPartition, offset: i64) -> Result<i64> {
        let part = self.core.partition(&tp.topic, tp.partition)?;
        blocking(move || {
            let hw = part.high_watermark();
            let offset = if offset == -1 { hw } else { offset };
            if offset > hw {
                return Err(Error::OffsetOutOfRange {
                    offset,
                    log_start: part.log_start_offset(),
                    log_end: hw,
                });
            }
            part.log.lock().delete_records_before(offset)
        })
        .await
    }

    /// Looks up an offset of a partition: earliest, latest, or by timestamp. Returns the offset and,
    /// for a timestamp lookup, the found record's timestamp; `None` when no record is that recent.
    pub async fn list_offsets(
        &self,
        tp: &TopicPartition,
        spec: OffsetSpec,
    ) -> Result<Option<(i64, i64)>> {
        let part = self.core.partition(&tp.topic, tp.partition)?;
        match spec {
            OffsetSpec::Earliest => Ok(Some((part.log_start_offset(), -1))),
            OffsetSpec::Latest => Ok(Some((part.high_watermark(), -1))),
            OffsetSpec::Timestamp(ts) => {
                blocking(move || {
                    let hw = part.high_watermark();
                    let found = part.log.lock().offset_for_timestamp(ts)?;
                    Ok(found.filter(|(off, _)| *off < hw))
                })
                .await
            }
        }
    }

    /// Runs one retention and compaction pass now, instead of waiting for the background interval.
    pub async fn run_log_cleanup(&self) -> Result<()> {
        let core = self.core.clone();
        blocking(move || {
            background_cleanup(&core);
            Ok(())
        })
        .await
    }
}
