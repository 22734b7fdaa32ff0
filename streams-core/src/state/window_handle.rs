//! The typed view of a window store that processors use, and its read-only view for queries.

use std::marker::PhantomData;
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::StreamsError;
use crate::processor::ProcessError;
use crate::serde::SharedSerde;
use crate::state::query::ReadOnlyKeyValueStore;
use crate::state::registry::SharedStore;

/// `[key][window start BE][seq 0]`: how a window store keys its records and its changelog.
pub(crate) fn windowed_key(key: &[u8], window_start: i64) -> Bytes {
    let mut b = BytesMut::with_capacity(key.len() + 12);
    b.put_slice(key);
    b.put_i64(window_start);
    b.put_u32(0);
    b.freeze()
}

/// Splits a windowed key into the key's bytes and the window start.
pub(crate) fn split_windowed_key(raw: &Bytes) -> Option<(Bytes, i64)> {
    let n = raw.len().checked_sub(12)?;
    let start = i64::from_be_bytes(raw[n..n + 8].try_into().ok()?);
    Some((raw.slice(..n), start))
}

/// A window store of one task, seen with its key and value types (Kafka's `WindowStore<K, V>`):
/// one value per key and window, the window named by its start. Get it with
/// [`ProcessorContext::window_store`](crate::ProcessorContext::window_store).
///
/// Records older than the store's retention (in stream time, past their window start) are
/// dropped by the store and no longer returned.
pub struct WindowStore<K, V> {
    pub(crate) name: Arc<str>,
    pub(crate) inner: SharedStore,
    pub(crate) key_serde: SharedSerde<K>,
    pub(crate) value_serde: SharedSerde<V>,
    pub(crate) size_ms: i64,
}

impl<K, V> std::fmt::Debug for WindowStore<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WindowStore").field("name", &self.name).finish()
    }
}

impl<K: 'static, V: 'static> WindowStore<K, V> {
    /// The window-store view of `kv` (a handle on a window store's key-value face).
    pub(crate) fn over(kv: crate::state::KeyValueStore<K, V>, size_ms: i64) -> Self {
        Self {
            name: kv.name,
            inner: kv.inner,
            key_serde: kv.key_serde,
            value_serde: kv.value_serde,
            size_ms,
        }
    }

    /// The store's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The size of the store's windows, in milliseconds.
    pub fn window_size_ms(&self) -> i64 {
        self.size_ms
    }

    fn key_bytes(&self, key: &K) -> Result<Bytes, ProcessError> {
        self.key_serde
            .serialize(&self.name, key)?
            .ok_or_else(|| format!("store `{}`: a key serialized to null", self.name).into())
    }

    /// Whether `key` serializes to null (aggregations skip such records).
    pub fn is_null_key(&self, key: &K) -> Result<bool, ProcessError> {
        Ok(self.key_serde.serialize(&self.name, key)?.is_none())
    }

    /// The value of `key`'s window starting at `window_start`.
    pub fn fetch(&self, key: &K, window_start: i64) -> Result<Option<V>, ProcessError> {
        let k = windowed_key(&self.key_bytes(key)?, window_start);
        match self.inner.lock().borrow().get(&k)? {
            Some(v) => Ok(Some(self.value_serde.deserialize(&self.name, Some(&v))?)),
            None => Ok(None),
        }
    }

    /// Sets `key`'s window starting at `window_start` to `value` (`None` deletes it).
    pub fn put(&self, key: &K, value: Option<V>, window_start: i64) -> Result<(), ProcessError> {
        let k = windowed_key(&self.key_bytes(key)?, window_start);
        let v = match value {
            Some(v) => self.value_serde.serialize_owned(&self.name, v)?,
            None => None,
        };
        self.inner.lock().borrow_mut().put(k, v)?;
        Ok(())
    }

    /// `key`'s windows starting in `[from, to]`, as `(window start, value)` in start order.
    pub fn fetch_range(&self, key: &K, from: i64, to: i64) -> Result<Vec<(i64, V)>, ProcessError> {
        let k = self.key_bytes(key)?;
        let (lo, hi) = (windowed_key(&k, from), windowed_key(&k, to.saturating_add(1)));
        let guard = self.inner.lock();
        let store = guard.borrow();
        let mut out = Vec::new();
        for entry in store.range(Some(&lo), Some(&hi))? {
            let (raw, v) = entry?;
            match split_windowed_key(&raw) {
                Some((rk, start)) if rk == k && (from..=to).contains(&start) => {
                    out.push((start, self.value_serde.deserialize(&self.name, Some(&v))?));
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// Registers `listener` to hear of each update the store's record cache writes down:
    /// `(windowed key bytes, new value, old value)`; false when the store has no cache. Decode
    /// the key with [`windowed_key_from_bytes`](Self::windowed_key_from_bytes).
    pub fn set_flush_listener(
        &self,
        listener: impl FnMut(&Bytes, Option<&Bytes>, Option<&Bytes>) + Send + 'static,
        send_old_values: bool,
    ) -> bool {
        self.inner.lock().borrow_mut().set_flush_listener(Box::new(listener), send_old_values)
    }

    /// The key and window start of a windowed key this store reported.
    pub fn windowed_key_from_bytes(&self, raw: &Bytes) -> Result<(K, i64), ProcessError> {
        let (k, start) = split_windowed_key(raw).ok_or_else(|| {
            format!("store `{}`: a windowed key of {} bytes", self.name, raw.len())
        })?;
        Ok((self.key_serde.deserialize(&self.name, Some(&k))?, start))
    }

    /// Deserializes a value of this store.
    pub fn value_from_bytes(&self, raw: &Bytes) -> Result<V, ProcessError> {
        Ok(self.value_serde.deserialize(&self.name, Some(raw))?)
    }
}

/// A read-only view of one window store across this instance's tasks (Kafka's
/// `ReadOnlyWindowStore`, as `KafkaStreams.store` returns it for a window store). The same rules
/// as for [`ReadOnlyKeyValueStore`] apply.
pub struct ReadOnlyWindowStore<K, V> {
    pub(crate) raw: ReadOnlyKeyValueStore<Bytes, V>,
    pub(crate) key_serde: SharedSerde<K>,
    pub(crate) _types: PhantomData<fn() -> K>,
}

impl<K, V> std::fmt::Debug for ReadOnlyWindowStore<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadOnlyWindowStore").field("params", &self.raw.params).finish()
    }
}

impl<K: 'static, V: 'static> ReadOnlyWindowStore<K, V> {
    /// The window-store view of `kv` (a query view of a window store's key-value face).
    pub(crate) fn over(kv: ReadOnlyKeyValueStore<K, V>) -> Self {
        Self {
            raw: ReadOnlyKeyValueStore {
                params: kv.params,
                registry: kv.registry,
                app: kv.app,
                key_serde: Arc::new(crate::serde::BytesSerde),
                value_serde: kv.value_serde,
                _types: PhantomData,
            },
            key_serde: kv.key_serde,
            _types: PhantomData,
        }
    }

    fn key_bytes(&self, key: &K) -> Result<Bytes, StreamsError> {
        let name = &self.raw.params.name;
        self.key_serde
            .serialize(name, key)
            .map_err(|e| StreamsError::InvalidStateStore(format!("store `{name}`: {e}")))?
            .ok_or_else(|| {
                StreamsError::InvalidStateStore(format!(
                    "store `{name}`: the key serializes to null"
                ))
            })
    }

    /// The value of `key`'s window starting at `window_start`.
    pub fn fetch(&self, key: &K, window_start: i64) -> Result<Option<V>, StreamsError> {
        self.raw.get(&windowed_key(&self.key_bytes(key)?, window_start))
    }

    /// `key`'s windows starting in `[from, to]`, as `(window start, value)` in start order.
    pub fn fetch_range(&self, key: &K, from: i64, to: i64) -> Result<Vec<(i64, V)>, StreamsError> {
        let k = self.key_bytes(key)?;
        let lo = windowed_key(&k, from);
        let hi = windowed_key(&k, to.saturating_add(1));
        let mut out: Vec<(i64, V)> = self
            .raw
            .range(Some(&lo), Some(&hi))?
            .into_iter()
            .filter_map(|(raw, v)| match split_windowed_key(&raw) {
                Some((rk, start)) if rk == k && (from..=to).contains(&start) => Some((start, v)),
                _ => None,
            })
            .collect();
        out.sort_by_key(|(start, _)| *start);
        Ok(out)
    }

    /// Every window of every key, as `(key, window start, value)`.
    pub fn all(&self) -> Result<Vec<(K, i64, V)>, StreamsError> {
        let name = self.raw.params.name.clone();
        let mut out = Vec::new();
        for (raw, v) in self.raw.all()? {
            let Some((k, start)) = split_windowed_key(&raw) else { continue };
            let key = self
                .key_serde
                .deserialize(&name, Some(&k))
                .map_err(|e| StreamsError::InvalidStateStore(e.to_string()))?;
            out.push((key, start, v));
        }
        Ok(out)
    }
}
