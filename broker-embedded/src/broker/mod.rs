//! The broker core shared by both front doors: topics, partitions, durability, background work.

mod background;
pub(crate) mod groups;
pub(crate) mod partition;
mod topics;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::{Mutex, RwLock};
use tokio::sync::Notify;
use tracing::info;

use crate::error::{Error, Result};
use crate::io::{FileSystem, OsFileSystem};
use crate::log::checkpoint;
pub(crate) use background::run_cleanup as background_cleanup;
pub(crate) use partition::{Partition, PartitionRef, ReadResult};
pub(crate) use topics::TopicEntry;

/// When an acknowledged write is on stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Durability {
    /// Acknowledge only after fsync (the default). Concurrent producers share fsyncs (group commit).
    /// Consumers see only fsynced records.
    SyncOnAck,
    /// Acknowledge once the record is in the operating system's page cache and fsync every interval.
    /// A power loss (not a process crash) can lose up to one interval of acknowledged records.
    Interval(Duration),
}

/// Settings of an embedded broker.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// The data directory; one subdirectory per partition, in Kafka's layout.
    pub data_dir: PathBuf,
    /// Partitions of a topic created without a count (auto-created or by default). Default 1.
    pub default_partitions: i32,
    /// Whether producing to or fetching from an unknown topic creates it. Default true.
    pub auto_create_topics: bool,
    /// When acknowledged writes are durable. Default [`Durability::SyncOnAck`].
    pub durability: Durability,
    /// How often retention and compaction run. Default 30 s.
    pub log_cleanup_interval: Duration,
    /// How often the recovery-point checkpoint is written. Default 10 s.
    pub checkpoint_interval: Duration,
    /// Partitions of the `__consumer_offsets` topic. Default 1 (Kafka's is 50; one process needs 1).
    pub offsets_topic_partitions: i32,
    /// Cluster id reported to clients.
    pub cluster_id: String,
    /// How long the first rebalance of an empty consumer group waits for more members to join.
    /// Default 3 s (Kafka's `group.initial.rebalance.delay.ms`); tests often set 0.
    pub group_initial_rebalance_delay: Duration,
    /// The shortest session timeout a group member may ask for. Default 6 s (Kafka's
    /// `group.min.session.timeout.ms`); failover tests set less.
    pub group_min_session_timeout: Duration,
    fs: Option<Arc<dyn FileSystem>>,
}

impl BrokerConfig {
    /// A configuration with defaults, storing data under `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            default_partitions: 1,
            auto_create_topics: true,
            durability: Durability::SyncOnAck,
            log_cleanup_interval: Duration::from_secs(30),
            checkpoint_interval: Duration::from_secs(10),
            offsets_topic_partitions: 1,
            cluster_id: "embedded-broker-cluster".to_string(),
            group_initial_rebalance_delay: Duration::from_secs(3),
            group_min_session_timeout: Duration::from_secs(6),
            fs: None,
        }
    }

    /// Sets the durability mode.
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Sets the default partition count.
    pub fn default_partitions(mut self, n: i32) -> Self {
        self.default_partitions = n;
        self
    }

    /// Enables or disables automatic topic creation.
    pub fn auto_create_topics(mut self, yes: bool) -> Self {
        self.auto_create_topics = yes;
        self
    }

    /// Sets how often retention and compaction run.
    pub fn log_cleanup_interval(mut self, every: Duration) -> Self {
        self.log_cleanup_interval = every;
        self
    }

    /// Sets the initial rebalance delay of consumer groups.
    pub fn group_initial_rebalance_delay(mut self, delay: Duration) -> Self {
        self.group_initial_rebalance_delay = delay;
        self
    }

    /// Uses another file system (for example [`crate::FaultyFileSystem`] in tests).
    pub fn file_system(mut self, fs: Arc<dyn FileSystem>) -> Self {
        self.fs = Some(fs);
        self
    }
}

const CLEAN_SHUTDOWN_MARKER: &str = ".kafka_cleanshutdown";
const RECOVERY_POINT_FILE: &str = "recovery-point-offset-checkpoint";
/// The data directory's lock file (see `lock_data_dir`).
const LOCK_FILE: &str = ".lock";
const LOG_START_FILE: &str = "log-start-offset-checkpoint";
const PRODUCER_ID_FILE: &str = "producer-id-block";
const PRODUCER_ID_BLOCK: i64 = 1000;

pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The shared state of a running broker.
#[derive(Debug)]
pub(crate) struct BrokerCore {
    pub(crate) config: BrokerConfig,
    pub(crate) fs: Arc<dyn FileSystem>,
    pub(crate) topics: RwLock<BTreeMap<String, Arc<TopicEntry>>>,
    producer_ids: Mutex<(i64, i64)>,
    pub(crate) closed: AtomicBool,
    /// The data directory's lock, held until `close` or until the last `Broker` handle goes.
    dir_lock: Mutex<Option<std::fs::File>>,
    background: Mutex<Option<background::Background>>,
    /// Serialises topic creation and deletion.
    admin_lock: Mutex<()>,
    /// Woken whenever any partition's high watermark moves (consumers wait on it).
    pub(crate) data_arrived: Arc<Notify>,
}

impl BrokerCore {
    /// Opens the data directory: loads every partition, recovering those that need it.
    pub(crate) fn open(config: BrokerConfig) -> Result<Arc<Self>> {
        let fs: Arc<dyn FileSystem> = config.fs.clone().unwrap_or_else(|| Arc::new(OsFileSystem));
        let dir = config.data_dir.clone();
        fs.create_dir_all(&dir)
            .map_err(|e| Error::storage(format!("creating data directory {}", dir.display()), e))?;
        let dir_lock = lock_data_dir(&dir)?;
        let marker = dir.join(CLEAN_SHUTDOWN_MARKER);
        let clean = fs.exists(&marker);
        let recovery_points = read_checkpoint(&*fs, &dir.join(RECOVERY_POINT_FILE));
        let log_starts = read_checkpoint(&*fs, &dir.join(LOG_START_FILE));
        let started = std::time::Instant::now();
        let data_arrived = Arc::new(Notify::new());
        let topics =
            topics::load_all(&fs, &config, clean, &recovery_points, &log_starts, &data_arrived)?;
        // From now on the stop is unclean until close() writes the marker again.
        fs.remove_file(&marker)
            .and_then(|_| fs.sync_dir(&dir))
            .map_err(|e| Error::storage("removing the clean-shutdown marker", e))?;
        let next_pid = read_producer_id_block(&*fs, &dir);
        let core = Arc::new(Self {
            config,
            fs,
            topics: RwLock::new(topics),
            producer_ids: Mutex::new((next_pid, next_pid)),
            closed: AtomicBool::new(false),
            dir_lock: Mutex::new(Some(dir_lock)),
            background: Mutex::new(None),
            admin_lock: Mutex::new(()),
            data_arrived,
        });
        info!(
            data_dir = %dir.display(),
            clean_shutdown = clean,
            topics = core.topics.read().len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "broker opened"
        );
        core.write_checkpoints()?;
        let bg = background::Background::start(&core)
            .map_err(|e| Error::storage("starting the broker's background threads", e))?;
        *core.background.lock() = Some(bg);
        Ok(core)
    }

    pub(crate) fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }

    pub(crate) fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::SeqCst) { Err(Error::Shutdown) } else { Ok(()) }
    }

    /// Allocates a producer id, unique across restarts (ids are reserved in persisted blocks).
    pub(crate) fn allocate_producer_id(&self) -> Result<i64> {
        let mut ids = self.producer_ids.lock();
        if ids.0 >= ids.1 {
            let end = ids.0 + PRODUCER_ID_BLOCK;
            self.fs
                .write_atomic(&self.data_dir().join(PRODUCER_ID_FILE), end.to_string().as_bytes())
                .map_err(|e| Error::storage("reserving producer ids", e))?;
            ids.1 = end;
        }
        let id = ids.0;
        ids.0 += 1;
        Ok(id)
    }

    /// Looks up a partition.
    pub(crate) fn partition(&self, topic: &str, partition: i32) -> Result<PartitionRef> {
        let topics = self.topics.read();
        let entry = topics.get(topic).ok_or_else(|| Error::UnknownTopic(topic.to_string()))?;
        entry.partition(partition)
    }

    /// Looks up a topic, creating it when auto-creation is on.
    pub(crate) fn topic_or_create(&self, topic: &str) -> Result<Arc<TopicEntry>> {
        if let Some(t) = self.topics.read().get(topic) {
            return Ok(t.clone());
        }
        if !self.config.auto_create_topics {
            return Err(Error::UnknownTopic(topic.to_string()));
        }
        match self.create_topic(topic, self.config.default_partitions, &[]) {
            Ok(t) => Ok(t),
            Err(Error::TopicExists(_)) => self
                .topics
                .read()
                .get(topic)
                .cloned()
                .ok_or_else(|| Error::UnknownTopic(topic.to_string())),
            Err(e) => Err(e),
        }
    }

    /// Writes the recovery-point and log-start checkpoints.
    pub(crate) fn write_checkpoints(&self) -> Result<()> {
        let mut recovery = Vec::new();
        let mut starts = Vec::new();
        for (name, t) in self.topics.read().iter() {
            for p in t.partitions() {
                let log = p.log.lock();
                recovery.push((name.clone(), p.index, log.recovery_point()));
                starts.push((name.clone(), p.index, log.log_start_offset()));
            }
        }
        let dir = self.data_dir();
        self.fs
            .write_atomic(&dir.join(RECOVERY_POINT_FILE), checkpoint::encode(&recovery).as_bytes())
            .map_err(|e| Error::storage("writing the recovery-point checkpoint", e))?;
        self.fs
            .write_atomic(&dir.join(LOG_START_FILE), checkpoint::encode(&starts).as_bytes())
            .map_err(|e| Error::storage("writing the log-start checkpoint", e))?;
        Ok(())
    }

    /// The last `Broker` handle went without `close` (an unclean stop): asks the background
    /// threads to stop, without waiting for them, and lets go of the data directory's lock.
    pub(crate) fn abandon(&self) {
        if let Some(bg) = self.background.lock().as_ref() {
            bg.halt();
        }
        self.dir_lock.lock().take();
    }

    /// Flushes and closes every log, writes the checkpoints and the clean-shutdown marker, and lets
    /// go of the data directory's lock (also when closing fails).
    pub(crate) fn close(&self) -> Result<()> {
        if self.closed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let result = self.close_logs();
        self.dir_lock.lock().take();
        result
    }

    fn close_logs(&self) -> Result<()> {
        if let Some(bg) = self.background.lock().take() {
            bg.stop();
        }
        let mut first_err = None;
        for t in self.topics.read().values() {
            for p in t.partitions() {
                if let Err(e) = p.flush_all().and_then(|_| p.log.lock().close()) {
                    first_err.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_err {
            return Err(e);
        }
        self.write_checkpoints()?;
        let marker = self.data_dir().join(CLEAN_SHUTDOWN_MARKER);
        self.fs
            .write_atomic(&marker, b"")
            .map_err(|e| Error::storage("writing the clean-shutdown marker", e))?;
        info!(data_dir = %self.data_dir().display(), "broker closed cleanly");
        Ok(())
    }
}

/// Takes the lock of the data directory (an exclusive `flock` on its `.lock` file, as Kafka locks
/// its log directories), so that two brokers, in one process or two, never open one directory at
/// the same time. Released when the returned file is closed.
fn lock_data_dir(dir: &Path) -> Result<std::fs::File> {
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::storage(format!("opening {}", path.display()), e))?;
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a descriptor this function owns (open above); it changes no memory.
        #[allow(unsafe_code)]
        let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if locked != 0 {
            let e = std::io::Error::last_os_error();
            let context = match e.kind() {
                std::io::ErrorKind::WouldBlock => format!(
                    "data directory {} is in use by another broker (its {LOCK_FILE} is locked)",
                    dir.display()
                ),
                _ => format!("locking {}", path.display()),
            };
            return Err(Error::storage(context, e));
        }
    }
    Ok(file)
}

fn read_checkpoint(fs: &dyn FileSystem, path: &Path) -> BTreeMap<(String, i32), i64> {
    match fs.read(path) {
        Ok(bytes) => match std::str::from_utf8(&bytes)
            .map_err(|e| e.to_string())
            .and_then(|s| checkpoint::decode(s).map_err(|e| e.to_string()))
        {
            Ok(entries) => entries.into_iter().map(|(t, p, o)| ((t, p), o)).collect(),
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "ignoring unreadable checkpoint; logs will be recovered fully");
                BTreeMap::new()
            }
        },
        Err(_) => BTreeMap::new(),
    }
}

fn read_producer_id_block(fs: &dyn FileSystem, dir: &Path) -> i64 {
    fs.read(&dir.join(PRODUCER_ID_FILE))
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or(0)
        .max(0)
}
