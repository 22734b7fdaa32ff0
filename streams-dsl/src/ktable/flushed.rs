//! Updates a store's record cache wrote down, waiting to be forwarded as table changes: how
//! aggregations and table sources forward one merged update per key per commit.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;
use streams_core::{
    KeyValueStore, ProcessError, ProcessorContext, Record, TimestampedKeyValueStore,
};

use crate::ktable::Change;

/// One update as a cache reports it: key, new value, old value.
pub(crate) type Update = (Bytes, Option<Bytes>, Option<Bytes>);

/// The updates a cache reported, in the order it wrote them down.
#[derive(Default)]
pub(crate) struct Flushed {
    pending: Arc<Mutex<Vec<Update>>>,
    /// Set when the cache reports an update: the per-record check for updates to forward
    /// costs one atomic load while there are none.
    reported: Arc<AtomicBool>,
}

impl Flushed {
    /// Listens to `store`'s cache; false if it has none (then every update is forwarded at once).
    pub(crate) fn listen<K: 'static, V: 'static>(&self, store: &KeyValueStore<K, V>) -> bool {
        store.set_flush_listener(self.listener(), true)
    }

    /// A cache flush listener that queues what it is told here.
    pub(crate) fn listener(
        &self,
    ) -> impl FnMut(&Bytes, Option<&Bytes>, Option<&Bytes>) + Send + 'static {
        let sink = self.pending.clone();
        let reported = self.reported.clone();
        move |k: &Bytes, new: Option<&Bytes>, old: Option<&Bytes>| {
            sink.lock().push((k.clone(), new.cloned(), old.cloned()));
            reported.store(true, Ordering::Release);
        }
    }

    /// The updates reported since the last call, in order (no lock taken when there are none).
    pub(crate) fn take(&self) -> Vec<Update> {
        if !self.reported.swap(false, Ordering::AcqRel) {
            return Vec::new();
        }
        std::mem::take(&mut *self.pending.lock())
    }

    /// Forwards what the cache wrote down since the last call, each update stamped with its new
    /// value's timestamp (a delete with the stream time), as Kafka's
    /// `TimestampedCacheFlushListener`.
    pub(crate) fn forward<K: Clone + 'static, V: Clone + 'static>(
        &self,
        store: &TimestampedKeyValueStore<K, V>,
        ctx: &mut ProcessorContext<K, Change<V>>,
    ) -> Result<(), ProcessError> {
        let flushed = self.take();
        if flushed.is_empty() {
            return Ok(());
        }
        let now = ctx.current_stream_time_ms().max(0);
        for (k, new, old) in flushed {
            let key = store.key_from_bytes(&k)?;
            let new = new.map(|b| store.value_from_bytes(&b)).transpose()?;
            let old = old.map(|b| store.value_from_bytes(&b)).transpose()?;
            let ts = new.as_ref().map_or(now, |n| n.timestamp);
            let change = Change::new(new.map(|n| n.value), old.map(|o| o.value));
            ctx.forward(Record::new(key, change, ts));
        }
        Ok(())
    }
}
