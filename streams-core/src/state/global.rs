//! Global stores: one full copy per instance of a store filled from every partition of its
//! source topic (Kafka's global state, behind `GlobalKTable`). The topic is the changelog: the
//! store holds its records' bytes as they are (a null value deletes the key).
//!
//! At start the stores are restored from their checkpoint (or from scratch) to the topic's end
//! before any stream thread starts; then the global thread keeps applying new records and
//! checkpoints on the commit interval. Files live in `<state.dir>/<application.id>/global/`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicI64;

use bytes::Bytes;
use state_stores::{
    InMemoryKeyValueStore, KeyValueStore as BytesStore, RocksDbConfig, RocksDbKeyValueStore,
};

use crate::client::Backend;
use crate::error::StreamsError;
use crate::state::checkpoint::{self, Offsets};
use crate::state::registry::{LocalStore, SharedStore, StoreRegistry};
use crate::state::restore::StateRestoreListener;
use crate::state::task_stores::apply_changelog;
use crate::state::{Backing, StoreSpec, timestamped};
use crate::task::TaskId;

/// A global store and how far it has read its topic.
pub(crate) struct GlobalStore {
    pub(crate) spec: StoreSpec,
    topic: String,
    pub(crate) store: SharedStore,
    /// The next offset to apply, per partition.
    positions: BTreeMap<i32, i64>,
    /// The sub-topology number, for naming the partitions in logs and restore reports.
    subtopology: u32,
}

/// Every global store of an instance.
pub(crate) struct GlobalStores {
    dir: PathBuf,
    stores: Vec<GlobalStore>,
    registry: Option<Arc<StoreRegistry>>,
}

fn io(what: &str, path: &Path, e: std::io::Error) -> StreamsError {
    StreamsError::State(format!("{what} {}: {e}", path.display()))
}

impl GlobalStores {
    /// Opens the global stores (`(spec, topic, sub-topology)`) under `app_dir/global` and, with a
    /// `backend`, restores each from its checkpoint to its topic's current end.
    pub(crate) fn open(
        specs: &[(StoreSpec, String, u32)],
        app_dir: &Path,
        rocks: &RocksDbConfig,
        backend: Option<&dyn Backend>,
        listener: &dyn StateRestoreListener,
        registry: Option<Arc<StoreRegistry>>,
    ) -> Result<Self, StreamsError> {
        let dir = app_dir.join("global");
        std::fs::create_dir_all(&dir).map_err(|e| io("creating", &dir, e))?;
        let checkpoint = match checkpoint::read(&dir.join(".checkpoint")) {
            Ok(c) => c,
            Err(why) => {
                tracing::warn!(%why, "invalid global checkpoint; restoring the global stores fully");
                None
            }
        };
        let mut stores = Vec::new();
        for (spec, topic, subtopology) in specs {
            let store_dir = dir.join("rocksdb").join(&spec.name);
            let checkpointed: BTreeMap<i32, i64> = checkpoint
                .iter()
                .flatten()
                .filter(|((t, _), _)| t == topic)
                .map(|((_, p), o)| (*p, *o))
                .collect();
            if spec.backing == Backing::RocksDb && checkpointed.is_empty() && store_dir.exists() {
                std::fs::remove_dir_all(&store_dir).map_err(|e| io("wiping", &store_dir, e))?;
            }
            let mut backing: Box<dyn BytesStore> = match spec.backing {
                Backing::RocksDb => {
                    Box::new(RocksDbKeyValueStore::new(&spec.name, &store_dir, rocks))
                }
                Backing::InMemory => Box::new(InMemoryKeyValueStore::new(&spec.name)),
            };
            backing.init().map_err(|e| {
                StreamsError::State(format!("opening global store `{}`: {e}", spec.name))
            })?;
            let mut positions = BTreeMap::new();
            if let Some(backend) = backend {
                let partitions = backend.partition_count(topic)?.ok_or_else(|| {
                    StreamsError::Config(format!(
                        "topic `{topic}` of global store `{}` does not exist; create it before \
                         starting the application",
                        spec.name
                    ))
                })?;
                for p in 0..partitions {
                    let from = match spec.backing {
                        Backing::RocksDb => checkpointed.get(&p).copied(),
                        Backing::InMemory => None,
                    };
                    let (next, _) = apply_changelog(
                        &mut *backing,
                        backend,
                        topic,
                        TaskId::new(*subtopology, p),
                        spec,
                        from,
                        Some(listener),
                        usize::MAX,
                    )?;
                    positions.insert(p, next);
                }
            }
            let store: SharedStore =
                Arc::new(parking_lot::ReentrantMutex::new(RefCell::new(backing)));
            if let Some(registry) = &registry {
                registry.register(Arc::new(LocalStore {
                    task: TaskId::new(*subtopology, -1),
                    standby: false,
                    spec: spec.clone(),
                    store: store.clone(),
                    changelog: None,
                    position: AtomicI64::new(-1),
                }));
            }
            stores.push(GlobalStore {
                spec: spec.clone(),
                topic: topic.clone(),
                store,
                positions,
                subtopology: *subtopology,
            });
        }
        let opened = Self { dir, stores, registry };
        opened.checkpoint()?;
        Ok(opened)
    }

    /// The stores, for tasks to read.
    pub(crate) fn handles(&self) -> Vec<(StoreSpec, SharedStore)> {
        self.stores.iter().map(|s| (s.spec.clone(), s.store.clone())).collect()
    }

    /// Whether a global store reads `topic`.
    pub(crate) fn reads(&self, topic: &str) -> bool {
        self.stores.iter().any(|s| s.topic == topic)
    }

    /// Applies one record of `topic` to the stores reading it (the test driver feeds them so).
    pub(crate) fn apply(
        &self,
        topic: &str,
        key: Option<Bytes>,
        value: Option<Bytes>,
        timestamp: i64,
    ) -> Result<(), StreamsError> {
        let Some(key) = key else { return Ok(()) };
        for s in self.stores.iter().filter(|s| s.topic == topic) {
            let value = match &value {
                Some(v) if s.spec.timestamped => Some(timestamped::join(timestamp, v)),
                v => v.clone(),
            };
            let guard = s.store.lock();
            guard.borrow_mut().put(key.clone(), value).map_err(|e| {
                StreamsError::State(format!("writing global store `{}`: {e}", s.spec.name))
            })?;
        }
        Ok(())
    }

    /// Applies what the topics gained, at most about `max_records` per partition. Returns how
    /// many records it applied.
    pub(crate) fn update(
        &mut self,
        backend: &dyn Backend,
        max_records: usize,
    ) -> Result<usize, StreamsError> {
        let mut applied = 0;
        for s in &mut self.stores {
            let partitions = backend.partition_count(&s.topic)?.unwrap_or(0);
            for p in 0..partitions {
                let from = s.positions.get(&p).copied();
                let guard = s.store.lock();
                let mut store = guard.borrow_mut();
                let (next, n) = apply_changelog(
                    &mut **store,
                    backend,
                    &s.topic,
                    TaskId::new(s.subtopology, p),
                    &s.spec,
                    from,
                    None,
                    max_records,
                )?;
                s.positions.insert(p, next);
                applied += n;
            }
        }
        Ok(applied)
    }

    /// Flushes the persistent stores and records how far each has read its topic.
    pub(crate) fn checkpoint(&self) -> Result<(), StreamsError> {
        let mut offsets = Offsets::new();
        for s in self.stores.iter().filter(|s| s.spec.backing == Backing::RocksDb) {
            s.store.lock().borrow_mut().flush().map_err(|e| {
                StreamsError::State(format!("flushing global store `{}`: {e}", s.spec.name))
            })?;
            for (p, o) in &s.positions {
                offsets.insert((s.topic.clone(), *p), *o);
            }
        }
        if offsets.is_empty() {
            return Ok(());
        }
        let path = self.dir.join(".checkpoint");
        checkpoint::write(&path, &offsets).map_err(|e| io("writing", &path, e))
    }

    /// Checkpoints and closes every store.
    pub(crate) fn close(&mut self) {
        if let Err(e) = self.checkpoint() {
            tracing::warn!(error = %e, "checkpointing the global stores failed");
        }
        for s in &self.stores {
            if let Some(registry) = &self.registry {
                registry.deregister(TaskId::new(s.subtopology, -1), false);
            }
            if let Err(e) = s.store.lock().borrow_mut().close() {
                tracing::warn!(store = %s.spec.name, error = %e, "closing a global store failed");
            }
        }
    }
}

/// The global thread: keeps the global stores current until the application shuts down,
/// checkpointing on the commit interval; a failure stops the application.
pub(crate) fn run(
    mut globals: GlobalStores,
    backend: &dyn Backend,
    app: &crate::app::AppShared,
    config: &crate::config::StreamsConfig,
) {
    use std::sync::atomic::Ordering;
    let mut last_checkpoint = std::time::Instant::now();
    while !app.shutdown.load(Ordering::SeqCst) {
        match globals.update(backend, 10_000) {
            Ok(0) => {
                std::thread::sleep(config.poll_interval.min(std::time::Duration::from_millis(50)))
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "the global thread failed");
                app.fail(format!("global thread: {e}"));
                break;
            }
        }
        if last_checkpoint.elapsed() >= config.commit_interval {
            if let Err(e) = globals.checkpoint() {
                tracing::error!(error = %e, "checkpointing the global stores failed");
                app.fail(format!("global thread: {e}"));
                break;
            }
            last_checkpoint = std::time::Instant::now();
        }
    }
    globals.close();
}
