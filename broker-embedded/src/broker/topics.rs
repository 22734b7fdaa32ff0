//! Topics: creation, deletion, partition growth and configuration, persisted beside the data.
//!
//! Each partition directory holds Kafka's `partition.metadata` (`version: 0` and the topic id) and a
//! `topic.properties` file with the topic's non-default configs, so the data directory alone describes
//! every topic.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

use parking_lot::RwLock;
use tokio::sync::Notify;
use tracing::info;

use crate::broker::{BrokerConfig, BrokerCore, Partition, PartitionRef, now_ms};
use crate::error::{Error, Result};
use crate::io::FileSystem;
use crate::log::{Log, OpenOptions};
use crate::topic::{
    InvalidTopicName, TopicConfig, TopicName, parse_partition_dir_name, partition_dir_name,
};

const METADATA_FILE: &str = "partition.metadata";
const CONFIG_FILE: &str = "topic.properties";

/// A topic and its partitions.
#[derive(Debug)]
pub(crate) struct TopicEntry {
    pub(crate) name: TopicName,
    pub(crate) id: [u8; 16],
    config: RwLock<Arc<TopicConfig>>,
    partitions: RwLock<Vec<PartitionRef>>,
}

impl TopicEntry {
    pub(crate) fn partition(&self, index: i32) -> Result<PartitionRef> {
        usize::try_from(index).ok().and_then(|i| self.partitions.read().get(i).cloned()).ok_or_else(
            || Error::UnknownPartition { topic: self.name.to_string(), partition: index },
        )
    }

    pub(crate) fn partitions(&self) -> Vec<PartitionRef> {
        self.partitions.read().clone()
    }

    pub(crate) fn partition_count(&self) -> i32 {
        self.partitions.read().len() as i32
    }

    pub(crate) fn config(&self) -> Arc<TopicConfig> {
        self.config.read().clone()
    }

    pub(crate) fn max_message_bytes(&self) -> usize {
        self.config.read().max_message_bytes.max(0) as usize
    }
}

fn new_topic_id() -> [u8; 16] {
    let state = std::collections::hash_map::RandomState::new();
    let mut id = [0u8; 16];
    for (i, chunk) in id.chunks_mut(8).enumerate() {
        let mut h = state.build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        h.write_usize(i);
        chunk.copy_from_slice(&h.finish().to_be_bytes());
    }
    id
}

fn encode_id(id: &[u8; 16]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_id(s: &str) -> Option<[u8; 16]> {
    let s = s.trim();
    if s.len() != 32 || !s.is_ascii() {
        return None;
    }
    let mut id = [0u8; 16];
    for (i, b) in id.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(id)
}

fn metadata_text(id: &[u8; 16]) -> String {
    format!("version: 0\ntopic_id: {}\n", encode_id(id))
}

fn open_partition(
    fs: &Arc<dyn FileSystem>,
    config: &BrokerConfig,
    name: &TopicName,
    index: i32,
    topic_config: Arc<TopicConfig>,
    opts: OpenOptions,
    data_arrived: &Arc<Notify>,
) -> Result<PartitionRef> {
    let dir = config.data_dir.join(partition_dir_name(name, index));
    let log = Log::open(fs.clone(), &dir, topic_config, opts)?;
    Ok(Arc::new(Partition::new(name.clone(), index, log, config.durability, data_arrived.clone())))
}

/// Loads every topic found in the data directory.
pub(crate) fn load_all(
    fs: &Arc<dyn FileSystem>,
    config: &BrokerConfig,
    clean: bool,
    recovery_points: &BTreeMap<(String, i32), i64>,
    log_starts: &BTreeMap<(String, i32), i64>,
    data_arrived: &Arc<Notify>,
) -> Result<BTreeMap<String, Arc<TopicEntry>>> {
    let mut found: BTreeMap<String, (TopicName, Vec<i32>)> = BTreeMap::new();
    let entries = fs
        .read_dir(&config.data_dir)
        .map_err(|e| Error::storage(format!("listing {}", config.data_dir.display()), e))?;
    for path in entries {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !fs.exists(&path.join(METADATA_FILE)) {
            continue;
        }
        if let Some((topic, p)) = parse_partition_dir_name(name) {
            found.entry(topic.to_string()).or_insert_with(|| (topic, Vec::new())).1.push(p);
        }
    }
    let mut topics = BTreeMap::new();
    let now = now_ms();
    for (key, (name, mut parts)) in found {
        parts.sort_unstable();
        let dir0 = config.data_dir.join(partition_dir_name(&name, parts[0]));
        let topic_config = match fs.read(&dir0.join(CONFIG_FILE)) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                TopicConfig::from_properties(&text)?
            }
            Err(_) => TopicConfig::default(),
        };
        let topic_config = Arc::new(topic_config);
        let id = fs
            .read(&dir0.join(METADATA_FILE))
            .ok()
            .and_then(|b| {
                let text = String::from_utf8_lossy(&b).to_string();
                text.lines().find_map(|l| l.strip_prefix("topic_id:").and_then(decode_id))
            })
            .unwrap_or_else(new_topic_id);
        let mut partitions = Vec::new();
        for (expected, &p) in parts.iter().enumerate() {
            if p != expected as i32 {
                return Err(Error::Corrupted {
                    file: config.data_dir.join(partition_dir_name(&name, expected as i32)),
                    position: 0,
                    reason: format!("topic {name} is missing partition {expected}"),
                });
            }
            let k = (key.clone(), p);
            let opts = OpenOptions {
                recovery_point: recovery_points.get(&k).copied().unwrap_or(0),
                log_start_offset: log_starts.get(&k).copied().unwrap_or(0),
                clean_shutdown: clean && recovery_points.contains_key(&k),
                now_ms: now,
            };
            partitions.push(open_partition(
                fs,
                config,
                &name,
                p,
                topic_config.clone(),
                opts,
                data_arrived,
            )?);
        }
        topics.insert(
            key,
            Arc::new(TopicEntry {
                name,
                id,
                config: RwLock::new(topic_config),
                partitions: RwLock::new(partitions),
            }),
        );
    }
    Ok(topics)
}

impl BrokerCore {
    /// Creates a topic with `partitions` partitions (or the default when `partitions` is -1).
    pub(crate) fn create_topic(
        &self,
        name: &str,
        partitions: i32,
        configs: &[(String, String)],
    ) -> Result<Arc<TopicEntry>> {
        self.check_open()?;
        let name = TopicName::new(name)?;
        let partitions = if partitions == -1 { self.config.default_partitions } else { partitions };
        if partitions < 1 {
            return Err(Error::InvalidPartitions(format!(
                "a topic needs at least one partition, got {partitions}"
            )));
        }
        if partitions > 100_000 {
            return Err(Error::InvalidPartitions(format!("{partitions} partitions is too many")));
        }
        let mut config = TopicConfig::default();
        for (k, v) in configs {
            config.set(k, v)?;
        }
        config.validate()?;
        let _guard = self.admin_lock.lock();
        self.check_new_topic_name(&name)?;
        let config = Arc::new(config);
        let id = new_topic_id();
        let mut parts = Vec::new();
        for p in 0..partitions {
            parts.push(self.create_partition_dir(&name, p, &id, &config)?);
        }
        let entry = Arc::new(TopicEntry {
            name: name.clone(),
            id,
            config: RwLock::new(config),
            partitions: RwLock::new(parts),
        });
        self.topics.write().insert(name.to_string(), entry.clone());
        info!(topic = %name, partitions, "created topic");
        Ok(entry)
    }

    /// Refuses a name that exists, or that differs from an existing one only by `.` versus `_`.
    pub(crate) fn check_new_topic_name(&self, name: &TopicName) -> Result<()> {
        let topics = self.topics.read();
        if topics.contains_key(name.as_str()) {
            return Err(Error::TopicExists(name.to_string()));
        }
        if name.has_collision_chars() {
            let key = name.collision_key();
            if let Some(other) = topics.values().find(|t| t.name.collision_key() == key) {
                return Err(InvalidTopicName::collides(name, &other.name).into());
            }
        }
        Ok(())
    }

    fn create_partition_dir(
        &self,
        name: &TopicName,
        p: i32,
        id: &[u8; 16],
        config: &Arc<TopicConfig>,
    ) -> Result<PartitionRef> {
        let dir = self.data_dir().join(partition_dir_name(name, p));
        let ctx = |e| Error::storage(format!("creating {}", dir.display()), e);
        // A leftover directory from a failed creation or deletion is replaced.
        self.fs.remove_dir_all(&dir).map_err(ctx)?;
        self.fs.create_dir_all(&dir).map_err(ctx)?;
        self.fs
            .write_atomic(&dir.join(CONFIG_FILE), config.to_properties().as_bytes())
            .map_err(ctx)?;
        // The partition directory's own entry, so that the topic survives a power loss.
        self.fs.sync_dir(self.data_dir()).map_err(ctx)?;
        let opts = OpenOptions {
            recovery_point: 0,
            log_start_offset: 0,
            clean_shutdown: true,
            now_ms: now_ms(),
        };
        let part = open_partition(
            &self.fs,
            &self.config,
            name,
            p,
            config.clone(),
            opts,
            &self.data_arrived,
        )?;
        // partition.metadata last: a directory without it is not a partition yet.
        self.fs
            .write_atomic(&dir.join(METADATA_FILE), metadata_text(id).as_bytes())
            .map_err(ctx)?;
        Ok(part)
    }

    /// Deletes a topic and its data.
    pub(crate) fn delete_topic(&self, name: &str) -> Result<()> {
        self.check_open()?;
        let name = TopicName::new(name)?;
        let _guard = self.admin_lock.lock();
        let entry = self
            .topics
            .write()
            .remove(name.as_str())
            .ok_or_else(|| Error::UnknownTopic(name.to_string()))?;
        for p in entry.partitions() {
            let dir = self.data_dir().join(partition_dir_name(&name, p.index));
            // Drop the metadata first so a crash mid-deletion leaves no half topic behind.
            self.fs
                .remove_file(&dir.join(METADATA_FILE))
                .and_then(|_| self.fs.remove_dir_all(&dir))
                .map_err(|e| Error::storage(format!("deleting {}", dir.display()), e))?;
        }
        info!(topic = %name, "deleted topic");
        Ok(())
    }

    /// Grows a topic to `total` partitions.
    pub(crate) fn create_partitions(&self, name: &str, total: i32) -> Result<()> {
        self.check_open()?;
        let _guard = self.admin_lock.lock();
        let entry = self
            .topics
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| Error::UnknownTopic(name.to_string()))?;
        let current = entry.partition_count();
        if total <= current {
            return Err(Error::InvalidPartitions(format!(
                "topic {name} has {current} partitions; the new count {total} must be larger"
            )));
        }
        if total > 100_000 {
            return Err(Error::InvalidPartitions(format!("{total} partitions is too many")));
        }
        let config = entry.config();
        for p in current..total {
            let part = self.create_partition_dir(&entry.name, p, &entry.id, &config)?;
            entry.partitions.write().push(part);
        }
        info!(topic = name, from = current, to = total, "added partitions");
        Ok(())
    }

    /// Applies config changes (`None` resets a key to its default) and persists them.
    pub(crate) fn alter_topic_config(
        &self,
        name: &str,
        changes: &[(String, Option<String>)],
    ) -> Result<Arc<TopicConfig>> {
        self.check_open()?;
        let _guard = self.admin_lock.lock();
        let entry = self
            .topics
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| Error::UnknownTopic(name.to_string()))?;
        let mut config = (*entry.config()).clone();
        let defaults = TopicConfig::default();
        for (k, v) in changes {
            match v {
                Some(v) => config.set(k, v)?,
                None => {
                    let default = defaults.get(k).ok_or_else(|| {
                        Error::InvalidConfig(crate::topic::ConfigError::Unknown { name: k.clone() })
                    })?;
                    config.set(k, &default)?;
                }
            }
        }
        config.validate()?;
        let config = Arc::new(config);
        for p in entry.partitions() {
            let dir = self.data_dir().join(partition_dir_name(&entry.name, p.index));
            self.fs
                .write_atomic(&dir.join(CONFIG_FILE), config.to_properties().as_bytes())
                .map_err(|e| Error::storage(format!("writing {}", dir.display()), e))?;
            p.log.lock().set_config(config.clone());
        }
        *entry.config.write() = config.clone();
        Ok(config)
    }
}
