//! One task's stores: created from the topology's specs, opened and restored at task start,
//! flushed and checkpointed at commit, closed with the task.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;
use state_stores::{
    InMemoryKeyValueStore, KeyValueStore as BytesStore, KeyValueStoreBuilder, RocksDbConfig,
    RocksDbKeyValueStore,
};

use crate::client::Backend;
use crate::error::StreamsError;
use crate::state::checkpoint::{self, Offsets};
use crate::state::registry::{LocalStore, SharedStore, StoreRegistry};
use crate::state::restore::StateRestoreListener;
use crate::state::{Backing, StoreKind, StoreSpec, timestamped};
use crate::task::TaskId;
use crate::task::shared::OutgoingRecord;

/// Writes that reached a store's changelog layer, waiting to be sent.
type Pending = Arc<Mutex<Vec<(Bytes, Option<Bytes>)>>>;

pub(crate) struct Changelog {
    pub(crate) topic: Arc<str>,
    pub(crate) partition: i32,
    pending: Pending,
}

pub(crate) struct OpenStore {
    pub(crate) spec: StoreSpec,
    /// The whole stack (metered, caching, logging over the backend) once open.
    pub(crate) store: SharedStore,
    pub(crate) changelog: Option<Changelog>,
    dir: PathBuf,
    /// The store as queries and lag reports see it.
    pub(crate) entry: Arc<LocalStore>,
}

/// What a task needs to open its stores.
pub(crate) struct StoreContext<'a> {
    pub(crate) task: TaskId,
    pub(crate) application_id: &'a str,
    pub(crate) task_dir: PathBuf,
    pub(crate) rocks: &'a RocksDbConfig,
    /// The record-cache budget the stores share with the rest of the thread's.
    pub(crate) cache: state_stores::CacheBudget,
    /// Where the instance lists its stores for queries (none under the test driver).
    pub(crate) registry: Option<Arc<StoreRegistry>>,
    /// A standby copy: no cache, no changelog writes, kept current by [`TaskStores::update`].
    pub(crate) standby: bool,
}

pub(crate) struct TaskStores {
    task: TaskId,
    task_dir: PathBuf,
    pub(crate) stores: Vec<OpenStore>,
    standby: bool,
    registry: Option<Arc<StoreRegistry>>,
    /// Set by every changelog write, cleared when they are drained: lets the per-record check
    /// for changelog writes skip the stores' queues when nothing was written.
    written: Arc<AtomicBool>,
}

fn io(what: &str, path: &Path, e: std::io::Error) -> StreamsError {
    StreamsError::State(format!("{what} {}: {e}", path.display()))
}

impl TaskStores {
    /// Opens the task's stores, restoring each logged one from its changelog (`backend`; `None`:
    /// nothing to restore from, as under the test driver) up to the changelog's current end.
    pub(crate) fn open(
        specs: &[StoreSpec],
        ctx: &StoreContext<'_>,
        backend: Option<&dyn Backend>,
        listener: &dyn StateRestoreListener,
    ) -> Result<Self, StreamsError> {
        std::fs::create_dir_all(&ctx.task_dir).map_err(|e| io("creating", &ctx.task_dir, e))?;
        let checkpoint_path = ctx.task_dir.join(".checkpoint");
        let checkpoint = match checkpoint::read(&checkpoint_path) {
            Ok(c) => c,
            Err(why) => {
                tracing::warn!(task = %ctx.task, %why, "invalid checkpoint; wiping the task's state");
                None
            }
        };
        let mut stores = Vec::new();
        let written = Arc::new(AtomicBool::new(false));
        for spec in specs {
            let dir = ctx.task_dir.join("rocksdb").join(&spec.name);
            let changelog_topic = spec.changelog_topic(ctx.application_id);
            let checkpointed = checkpoint
                .as_ref()
                .and_then(|c| c.get(&(changelog_topic.clone(), ctx.task.partition)).copied());
            if spec.backing == Backing::RocksDb && checkpointed.is_none() && dir.exists() {
                // Without a checkpoint the local files cannot be trusted: start empty.
                std::fs::remove_dir_all(&dir).map_err(|e| io("wiping", &dir, e))?;
            }
            let mut backing = backing_store(spec, &dir, ctx.rocks);
            backing
                .init()
                .map_err(|e| StreamsError::State(format!("opening store `{}`: {e}", spec.name)))?;
            let mut changelog = None;
            let from = if spec.backing == Backing::InMemory { None } else { checkpointed };
            let mut position = from.unwrap_or(-1);
            if spec.logging {
                let topic: Arc<str> = Arc::from(changelog_topic.as_str());
                if let Some(backend) = backend {
                    position = restore(
                        &mut *backing,
                        backend,
                        &topic,
                        ctx.task,
                        spec,
                        from,
                        Some(listener),
                    )?;
                }
                changelog = Some(Changelog {
                    topic,
                    partition: ctx.task.partition,
                    pending: Arc::new(Mutex::new(Vec::new())),
                });
            }
            let mut builder = KeyValueStoreBuilder::from_boxed(backing);
            if let Some(c) = changelog.as_ref().filter(|_| !ctx.standby) {
                let pending = c.pending.clone();
                let written = written.clone();
                builder = builder.with_logging(move |k: &Bytes, v: Option<&Bytes>| {
                    pending.lock().push((k.clone(), v.cloned()));
                    written.store(true, Ordering::Release);
                });
            }
            // A zero budget caches nothing: leave the layer out (every write goes through, and
            // the processors forward each update themselves).
            if spec.caching && !ctx.standby && ctx.cache.max_bytes() > 0 {
                builder = builder.with_cache_budget(ctx.cache.clone());
            }
            let mut store = builder.build();
            store
                .init()
                .map_err(|e| StreamsError::State(format!("opening store `{}`: {e}", spec.name)))?;
            let store: SharedStore =
                Arc::new(parking_lot::ReentrantMutex::new(RefCell::new(store)));
            let entry = Arc::new(LocalStore {
                task: ctx.task,
                standby: ctx.standby,
                spec: spec.clone(),
                store: store.clone(),
                changelog: changelog.as_ref().map(|c| (c.topic.clone(), c.partition)),
                position: AtomicI64::new(position),
            });
            stores.push(OpenStore { spec: spec.clone(), store, changelog, dir, entry });
        }
        if let Some(registry) = &ctx.registry {
            for s in &stores {
                registry.register(s.entry.clone());
            }
        }
        Ok(Self {
            task: ctx.task,
            task_dir: ctx.task_dir.clone(),
            stores,
            standby: ctx.standby,
            registry: ctx.registry.clone(),
            written,
        })
    }

    /// A standby's step: applies what its changelogs gained since the last update, at most
    /// `max_records` per store. Returns how many records it applied.
    pub(crate) fn update(
        &self,
        backend: &dyn Backend,
        max_records: usize,
    ) -> Result<usize, StreamsError> {
        let mut applied = 0;
        for s in &self.stores {
            let Some(c) = &s.changelog else { continue };
            let from = Some(s.entry.position()).filter(|p| *p >= 0);
            let guard = s.store.lock();
            let mut store = guard.borrow_mut();
            let (next, n) = apply_changelog(
                &mut **store,
                backend,
                &c.topic,
                self.task,
                &s.spec,
                from,
                None,
                max_records,
            )?;
            s.entry.set_position(next);
            applied += n;
        }
        Ok(applied)
    }

    /// Flushes every store (a caching layer writes its dirty entries down and tells its listener).
    pub(crate) fn flush(&self) -> Result<(), StreamsError> {
        for s in &self.stores {
            s.store.lock().borrow_mut().flush().map_err(|e| {
                StreamsError::State(format!("flushing store `{}`: {e}", s.spec.name))
            })?;
        }
        Ok(())
    }

    /// Moves the changelog writes made so far into `out`, stamped `timestamp`.
    pub(crate) fn drain_changelogs(&self, timestamp: i64, out: &mut dyn FnMut(OutgoingRecord)) {
        if !self.written.swap(false, Ordering::AcqRel) {
            return;
        }
        for s in &self.stores {
            let Some(c) = &s.changelog else { continue };
            let pending = std::mem::take(&mut *c.pending.lock());
            for (key, value) in pending {
                // A timestamped store's changelog record holds the plain value, stamped with
                // the value's timestamp (Kafka's format).
                let (value, timestamp) = match value {
                    Some(v) if s.spec.timestamped => match timestamped::split(&v) {
                        Some((ts, plain)) => (Some(plain), ts),
                        None => (Some(v), timestamp),
                    },
                    v => (v, timestamp),
                };
                out(OutgoingRecord {
                    topic: c.topic.clone(),
                    partition: Some(c.partition),
                    key: Some(key),
                    value,
                    timestamp,
                    headers: Vec::new(),
                });
            }
        }
    }

    /// Whether any changelog write waits to be sent.
    pub(crate) fn has_pending(&self) -> bool {
        self.written.load(Ordering::Acquire)
    }

    /// Writes the checkpoint: for each logged persistent store, the changelog's end offset (every
    /// write was flushed and acknowledged before this is called).
    pub(crate) fn checkpoint(&self, backend: &dyn Backend) -> Result<(), StreamsError> {
        let mut offsets = Offsets::new();
        for s in &self.stores {
            let (Some(c), Backing::RocksDb) = (&s.changelog, s.spec.backing) else { continue };
            let end = if self.standby {
                match s.entry.position() {
                    p if p >= 0 => p,
                    _ => continue,
                }
            } else {
                let end = backend.end_offset(&c.topic, c.partition)?;
                s.entry.set_position(end);
                end
            };
            offsets.insert((c.topic.to_string(), c.partition), end);
        }
        if offsets.is_empty() {
            return Ok(());
        }
        let path = self.task_dir.join(".checkpoint");
        checkpoint::write(&path, &offsets).map_err(|e| io("writing", &path, e))
    }

    /// Closes every store (each flushes first) and withdraws them from queries.
    pub(crate) fn close(&mut self) {
        if let Some(registry) = &self.registry {
            registry.deregister(self.task, self.standby);
        }
        for s in &self.stores {
            if let Err(e) = s.store.lock().borrow_mut().close() {
                tracing::warn!(task = %self.task, store = %s.spec.name, dir = %s.dir.display(), error = %e, "closing a store failed");
            }
        }
    }
}

/// The bottom of a store's stack: the backend its spec asks for (a window store is seen through
/// its windowed changelog keys, so every key-value layer and the restore path serve it too).
pub(crate) fn backing_store(
    spec: &StoreSpec,
    dir: &Path,
    rocks: &RocksDbConfig,
) -> Box<dyn BytesStore> {
    use state_stores::{InMemoryWindowStore, RocksDbWindowStore, WindowKeyValueStore};
    let ms = |v: i64| std::time::Duration::from_millis(u64::try_from(v).unwrap_or(0));
    match (spec.kind, spec.backing) {
        (StoreKind::KeyValue, Backing::RocksDb) => {
            Box::new(RocksDbKeyValueStore::new(&spec.name, dir, rocks))
        }
        (StoreKind::KeyValue, Backing::InMemory) => {
            Box::new(InMemoryKeyValueStore::new(&spec.name))
        }
        (StoreKind::Window { retention_ms, size_ms }, Backing::RocksDb) => {
            Box::new(WindowKeyValueStore::new(RocksDbWindowStore::new(
                &spec.name,
                dir,
                rocks,
                ms(retention_ms),
                ms(size_ms),
                false,
            )))
        }
        (StoreKind::Window { retention_ms, size_ms }, Backing::InMemory) => {
            Box::new(WindowKeyValueStore::new(InMemoryWindowStore::new(
                &spec.name,
                ms(retention_ms),
                ms(size_ms),
                false,
            )))
        }
    }
}

/// Replays `topic`-`task.partition` from `from` (or from its start) to its current end into
/// `store`, in batches. Returns the next offset to read.
fn restore(
    store: &mut dyn BytesStore,
    backend: &dyn Backend,
    topic: &str,
    task: TaskId,
    spec: &StoreSpec,
    from: Option<i64>,
    listener: Option<&dyn StateRestoreListener>,
) -> Result<i64, StreamsError> {
    Ok(apply_changelog(store, backend, topic, task, spec, from, listener, usize::MAX)?.0)
}

/// Applies `topic`-`task.partition` from `from` (a checkpoint or standby position; `None`: the
/// start, into an emptied store) towards its current end, at most about `max_records` records.
/// A position outside the changelog (it was truncated or recreated) empties the store and starts
/// over. Returns the next offset to read and how many records were applied. A timestamped store
/// gets each record's timestamp back in front of its value.
#[allow(clippy::too_many_arguments)]
pub(crate) fn apply_changelog(
    store: &mut dyn BytesStore,
    backend: &dyn Backend,
    topic: &str,
    task: TaskId,
    spec: &StoreSpec,
    from: Option<i64>,
    listener: Option<&dyn StateRestoreListener>,
    max_records: usize,
) -> Result<(i64, usize), StreamsError> {
    let name = spec.name.as_str();
    let (start_offset, end) = backend.offset_range(topic, task.partition)?;
    let start = match from {
        Some(f) if (start_offset..=end).contains(&f) => f,
        Some(f) => {
            tracing::warn!(%task, store = name, checkpoint = f, start_offset, end, "position outside the changelog; restoring from its start");
            let existing: Vec<Bytes> = store
                .all()
                .map_err(|e| StreamsError::State(e.to_string()))?
                .filter_map(|r| r.ok().map(|(k, _)| k))
                .collect();
            let wipe: Vec<(Bytes, Option<Bytes>)> =
                existing.into_iter().map(|k| (k, None)).collect();
            store.put_all(&wipe).map_err(|e| StreamsError::State(e.to_string()))?;
            start_offset
        }
        None => start_offset,
    };
    if start >= end {
        return Ok((start, 0));
    }
    if let Some(l) = listener {
        l.on_restore_start(task, name, topic, task.partition, start, end);
    }
    let mut reader = backend.changelog_reader(topic, task.partition, start, end)?;
    let mut total = 0usize;
    let mut next = start;
    while total < max_records {
        let batch = reader.next_batch()?;
        if batch.is_empty() {
            // The reader reached `end` (offsets compacted away at the tail are skipped too).
            next = end;
            break;
        }
        let batch_end = batch.last().map_or(next, |e| e.offset + 1);
        let entries = if spec.timestamped {
            timestamped::join_batch(batch)
        } else {
            batch.into_iter().filter_map(|e| e.key.map(|k| (k, e.value))).collect()
        };
        store
            .put_all(&entries)
            .map_err(|e| StreamsError::State(format!("restoring `{name}`: {e}")))?;
        total += entries.len();
        next = batch_end;
        if let Some(l) = listener {
            l.on_batch_restored(task, name, batch_end, entries.len());
        }
    }
    if let Some(l) = listener {
        l.on_restore_end(task, name, total as u64);
    }
    Ok((next, total))
}

/// Calls `f` with the declaration and the open store `name` of the task behind `shared` (its
/// own stores first, then the global ones).
fn with_store<T>(
    shared: &crate::task::shared::TaskShared,
    name: &str,
    f: impl FnOnce(
        &StoreSpec,
        &crate::state::registry::SharedStore,
    ) -> Result<T, crate::processor::ProcessError>,
) -> Result<T, crate::processor::ProcessError> {
    let stores = shared.stores.borrow();
    let globals = shared.globals.borrow();
    let found = stores
        .as_ref()
        .and_then(|t| t.stores.iter().find(|s| s.spec.name == name))
        .map(|s| (&s.spec, &s.store))
        .or_else(|| globals.iter().find(|(spec, _)| spec.name == name).map(|(sp, st)| (sp, st)));
    let Some((spec, store)) = found else {
        return Err(format!("task {} has no store `{name}`", shared.id).into());
    };
    f(spec, store)
}

/// The typed handle (a plain view) of store `name` of the task behind `shared`.
pub(crate) fn typed_store<K: 'static, V: 'static>(
    shared: &crate::task::shared::TaskShared,
    name: &str,
) -> Result<crate::state::KeyValueStore<K, V>, crate::processor::ProcessError> {
    with_store(shared, name, |spec, store| typed_handle(spec, store, &shared.serdes, name))
}

/// The timestamped handle of store `name` of the task behind `shared`.
pub(crate) fn typed_timestamped_store<K: 'static, V: 'static>(
    shared: &crate::task::shared::TaskShared,
    name: &str,
) -> Result<crate::state::TimestampedKeyValueStore<K, V>, crate::processor::ProcessError> {
    with_store(shared, name, |spec, store| timestamped_handle(spec, store, &shared.serdes, name))
}

/// The typed handle of store `name` (declared as `spec`, open as `store`): a plain view.
pub(crate) fn typed_handle<K: 'static, V: 'static>(
    spec: &StoreSpec,
    store: &crate::state::registry::SharedStore,
    registry: &crate::serde::SerdeRegistry,
    name: &str,
) -> Result<crate::state::KeyValueStore<K, V>, crate::processor::ProcessError> {
    let (key_serde, value_serde) = spec.plain_serdes::<K, V>(registry)?;
    Ok(crate::state::KeyValueStore {
        name: Arc::from(name),
        inner: store.clone(),
        key_serde,
        value_serde,
    })
}

/// The timestamped handle of store `name` (declared as `spec`, open as `store`).
pub(crate) fn timestamped_handle<K: 'static, V: 'static>(
    spec: &StoreSpec,
    store: &crate::state::registry::SharedStore,
    registry: &crate::serde::SerdeRegistry,
    name: &str,
) -> Result<crate::state::TimestampedKeyValueStore<K, V>, crate::processor::ProcessError> {
    let (key_serde, value_serde) = spec.timestamped_serdes::<K, V>(registry)?;
    Ok(crate::state::KeyValueStore {
        name: Arc::from(name),
        inner: store.clone(),
        key_serde,
        value_serde,
    })
}

/// The typed window-store handle (a plain view) of store `name` of the task behind `shared`.
pub(crate) fn typed_window_store<K: 'static, V: 'static>(
    shared: &crate::task::shared::TaskShared,
    name: &str,
) -> Result<crate::state::WindowStore<K, V>, crate::processor::ProcessError> {
    let size_ms = window_size(shared, name)?;
    Ok(crate::state::WindowStore::over(typed_store::<K, V>(shared, name)?, size_ms))
}

/// The timestamped window-store handle of store `name` of the task behind `shared`.
pub(crate) fn typed_timestamped_window_store<K: 'static, V: 'static>(
    shared: &crate::task::shared::TaskShared,
    name: &str,
) -> Result<crate::state::TimestampedWindowStore<K, V>, crate::processor::ProcessError> {
    let size_ms = window_size(shared, name)?;
    Ok(crate::state::WindowStore::over(typed_timestamped_store::<K, V>(shared, name)?, size_ms))
}

/// The window size of window store `name` of the task behind `shared`; an error if it has no
/// such store or it is a key-value store.
fn window_size(
    shared: &crate::task::shared::TaskShared,
    name: &str,
) -> Result<i64, crate::processor::ProcessError> {
    with_store(shared, name, |spec, _| match spec.kind {
        StoreKind::Window { size_ms, .. } => Ok(size_ms),
        StoreKind::KeyValue => {
            Err(format!("store `{name}` is a key-value store, not a window store").into())
        }
    })
}
