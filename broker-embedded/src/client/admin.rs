//! The in-process admin client: topics, partitions, configs, offsets.

use std::sync::Arc;

use crate::broker::{BrokerCore, background_cleanup};
use crate::client::TopicPartition;
use crate::error::{Error, Result};
use crate::group::GroupService;
use crate::group::consumer_protocol::Assignment;
use crate::topic::ConfigEntry;

/// Whether a topic is one of the broker's own (`__consumer_offsets`, `__transaction_state`).
pub(crate) fn is_internal_topic(name: &str) -> bool {
    name == crate::broker::groups::OFFSETS_TOPIC || name == "__transaction_state"
}

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
        Self { name: name.into(), partitions, configs: Vec::new() }
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

/// A member of a described consumer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMemberDescription {
    /// The member id the coordinator gave it.
    pub member_id: String,
    /// The client id it joined with.
    pub client_id: String,
    /// The partitions assigned to it (empty unless the group is stable).
    pub assignment: Vec<TopicPartition>,
}

/// A described consumer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDescription {
    /// The group id.
    pub group_id: String,
    /// Kafka's state name: `Empty`, `PreparingRebalance`, `CompletingRebalance`, `Stable`, `Dead`.
    pub state: String,
    /// The chosen assignor (empty unless the group is stable).
    pub protocol: String,
    /// Its members.
    pub members: Vec<GroupMemberDescription>,
}

/// The admin client.
#[derive(Clone)]
pub struct Admin {
    core: Arc<BrokerCore>,
    groups: Arc<GroupService>,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin").finish_non_exhaustive()
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Timeout(format!("admin task failed: {e}")))?
}

impl Admin {
    pub(crate) fn new(core: Arc<BrokerCore>, groups: Arc<GroupService>) -> Self {
        Self { core, groups }
    }

    /// Describes a consumer group; an unknown group is reported in state `Dead` with no members.
    pub async fn describe_group(&self, group_id: &str) -> Result<GroupDescription> {
        let d = self.groups.describe_group(group_id).await;
        if let Some(e) = d.error {
            return Err(e.into());
        }
        let mut members = Vec::new();
        for m in d.members {
            let assignment = if m.assignment.is_empty() {
                Vec::new()
            } else {
                Assignment::decode(&m.assignment)
                    .map_err(|e| Error::Group { code: -1, message: e.to_string() })?
                    .partitions
            };
            members.push(GroupMemberDescription {
                member_id: m.member_id,
                client_id: m.client_id,
                assignment,
            });
        }
        Ok(GroupDescription { group_id: d.group_id, state: d.state, protocol: d.protocol, members })
    }

    /// The ids of all consumer groups, sorted.
    pub async fn list_groups(&self) -> Vec<String> {
        let mut ids: Vec<String> =
            self.groups.list_groups(&[]).await.into_iter().map(|g| g.group_id).collect();
        ids.sort();
        ids
    }

    /// Deletes consumer groups that have no members, with their committed offsets.
    pub async fn delete_groups(&self, group_ids: &[String]) -> Result<()> {
        for (id, r) in self.groups.delete_groups(group_ids).await {
            if let Err(e) = r {
                return Err(Error::Group {
                    code: e.code(),
                    message: format!("deleting group {id:?}: {e}"),
                });
            }
        }
        Ok(())
    }

    /// Creates a topic.
    pub async fn create_topic(&self, topic: NewTopic) -> Result<()> {
        let core = self.core.clone();
        blocking(move || {
            core.create_topic(&topic.name, topic.partitions, &topic.configs).map(|_| ())
        })
        .await
    }

    /// Deletes a topic and its data.
    pub async fn delete_topic(&self, name: &str) -> Result<()> {
        let core = self.core.clone();
        let name = name.to_string();
        blocking(move || core.delete_topic(&name)).await
    }

    /// The names of all topics, sorted, without the broker's internal topics (like Kafka's
    /// `listTopics`, whose default leaves out `__consumer_offsets`).
    pub fn list_topics(&self) -> Vec<String> {
        self.core.topics.read().keys().filter(|t| !is_internal_topic(t)).cloned().collect()
    }

    /// The names of all topics, sorted, including internal ones.
    pub fn list_all_topics(&self) -> Vec<String> {
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
        Ok(TopicDescription { name: entry.name.to_string(), id: entry.id, partitions })
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
        blocking(move || part.delete_records(offset)).await
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
