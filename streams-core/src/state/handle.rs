//! The typed view of a key-value store that processors and queries use.

use std::sync::Arc;

use bytes::Bytes;

use crate::processor::ProcessError;
use crate::serde::{SerdeRegistry, SharedSerde};
use crate::state::registry::SharedStore;

/// Serdes declared with a store (either may be missing: then the default for the type is used).
pub(crate) struct TypedSerdes<K, V> {
    pub(crate) key: Option<SharedSerde<K>>,
    pub(crate) value: Option<SharedSerde<V>>,
}

thread_local! {
    /// The buffer [`KeyValueStore::update`] serializes keys into, kept between calls.
    static KEY_BUFFER: std::cell::Cell<bytes::BytesMut> = std::cell::Cell::new(bytes::BytesMut::new());
}

/// What one step of [`KeyValueStore::update`]'s closure yields: the old value (if wanted) and
/// the new one, plus the new value's bytes (`None`: the value serializes to null).
type UpdateStep<V> = Result<((Option<V>, V), Option<Bytes>), ProcessError>;

impl<K: 'static, V: 'static> TypedSerdes<K, V> {
    pub(crate) fn resolve(
        &self,
        registry: &SerdeRegistry,
    ) -> Option<(SharedSerde<K>, SharedSerde<V>)> {
        let key = self.key.clone().or_else(|| registry.get::<K>())?;
        let value = self.value.clone().or_else(|| registry.get::<V>())?;
        Some((key, value))
    }
}

/// A store's declared key serde alone (for locating keys without knowing the value type).
pub(crate) struct KeySerde<K>(pub(crate) Option<SharedSerde<K>>);

impl<K: 'static> KeySerde<K> {
    pub(crate) fn resolve(&self, registry: &SerdeRegistry) -> Option<SharedSerde<K>> {
        self.0.clone().or_else(|| registry.get::<K>())
    }
}

/// A key-value store of one task, seen with its key and value types (Kafka's
/// `KeyValueStore<K, V>`). Get it with
/// [`ProcessorContext::key_value_store`](crate::ProcessorContext::key_value_store).
///
/// Keys are ordered by their serialized bytes (unsigned, lexicographic), which for the built-in
/// serdes of strings and big-endian integers is the natural order of non-negative values.
pub struct KeyValueStore<K, V> {
    pub(crate) name: Arc<str>,
    pub(crate) inner: SharedStore,
    pub(crate) key_serde: SharedSerde<K>,
    pub(crate) value_serde: SharedSerde<V>,
}

impl<K, V> Clone for KeyValueStore<K, V> {
    fn clone(&self) -> Self {
        Self {
            name: self.name.clone(),
            inner: self.inner.clone(),
            key_serde: self.key_serde.clone(),
            value_serde: self.value_serde.clone(),
        }
    }
}

impl<K, V> std::fmt::Debug for KeyValueStore<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyValueStore").field("name", &self.name).finish()
    }
}

impl<K: 'static, V: 'static> KeyValueStore<K, V> {
    /// The store's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn key_bytes(&self, key: &K) -> Result<Bytes, ProcessError> {
        self.key_serde
            .serialize(&self.name, key)?
            .ok_or_else(|| format!("store `{}`: a key serialized to null", self.name).into())
    }

    fn value_of(&self, bytes: Option<&Bytes>) -> Result<V, ProcessError> {
        Ok(self.value_serde.deserialize(&self.name, bytes)?)
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &K) -> Result<Option<V>, ProcessError> {
        let k = self.key_bytes(key)?;
        match self.inner.lock().borrow().get(&k)? {
            Some(v) => Ok(Some(self.value_of(Some(&v))?)),
            None => Ok(None),
        }
    }

    /// Sets `key` to `value`.
    pub fn put(&self, key: &K, value: V) -> Result<(), ProcessError> {
        let k = self.key_bytes(key)?;
        let v = self.value_serde.serialize_owned(&self.name, value)?;
        self.inner.lock().borrow_mut().put(k, v)?;
        Ok(())
    }

    /// Reads `key`, computes its new value from the old one with `f`, and writes it, serializing
    /// the key once and holding the store for the whole step (what an aggregation does per
    /// record). Returns the old value (only if `want_old`) and the new one; `None` if the key
    /// serializes to null (nothing is read or written).
    pub fn update(
        &self,
        key: &K,
        want_old: bool,
        f: impl FnOnce(Option<V>) -> V,
    ) -> Result<Option<(Option<V>, V)>, ProcessError>
    where
        V: Clone,
    {
        // The key's bytes go into a reused buffer: the store copies them only if it keeps a new
        // entry. (A nested update, from `f`, takes a fresh buffer.)
        let mut k = KEY_BUFFER.take();
        k.clear();
        if !self.key_serde.serialize_into(&self.name, key, &mut k)? {
            KEY_BUFFER.set(k);
            return Ok(None);
        }
        let guard = self.inner.lock();
        let mut f = Some(f);
        let mut result: Option<Result<(Option<V>, V), ProcessError>> = None;
        let done = guard.borrow_mut().read_modify_write(&k, &mut |old_bytes: Option<&Bytes>| {
            let mut step = || -> UpdateStep<V> {
                let old = match old_bytes {
                    Some(b) => Some(self.value_of(Some(b))?),
                    None => None,
                };
                let kept = if want_old { old.clone() } else { None };
                let f = f.take().ok_or("the update function ran twice")?;
                let new = f(old);
                let bytes = self.value_serde.serialize(&self.name, &new)?;
                Ok(((kept, new), bytes))
            };
            match step() {
                Ok((out, bytes)) => {
                    result = Some(Ok(out));
                    Some(bytes)
                }
                Err(e) => {
                    result = Some(Err(e));
                    None
                }
            }
        });
        KEY_BUFFER.set(k);
        done?;
        match result {
            Some(r) => r.map(Some),
            None => Err(format!("store `{}`: the update did not run", self.name).into()),
        }
    }

    /// Deletes `key`; returns its value, if it had one.
    pub fn delete(&self, key: &K) -> Result<Option<V>, ProcessError> {
        let k = self.key_bytes(key)?;
        match self.inner.lock().borrow_mut().delete(&k)? {
            Some(v) => Ok(Some(self.value_of(Some(&v))?)),
            None => Ok(None),
        }
    }

    /// The entries with `from <= key <= to` in key order (`None` leaves an end open).
    pub fn range(&self, from: Option<&K>, to: Option<&K>) -> Result<Vec<(K, V)>, ProcessError> {
        let from = from.map(|k| self.key_bytes(k)).transpose()?;
        let to = to.map(|k| self.key_bytes(k)).transpose()?;
        let guard = self.inner.lock();
        let store = guard.borrow();
        let mut out = Vec::new();
        for entry in store.range(from.as_deref(), to.as_deref())? {
            let (k, v) = entry?;
            out.push((self.key_serde.deserialize(&self.name, Some(&k))?, self.value_of(Some(&v))?));
        }
        Ok(out)
    }

    /// Every entry, in key order.
    pub fn all(&self) -> Result<Vec<(K, V)>, ProcessError> {
        self.range(None, None)
    }

    /// Registers `listener` to hear of each update the store's record cache writes down:
    /// `(key, new value, old value)` as bytes (`None` new value: a delete). Returns `false` when
    /// the store has no cache: then every `put` goes straight through and the caller forwards its
    /// own updates. The DSL's aggregations forward their results this way.
    pub fn set_flush_listener(
        &self,
        listener: impl FnMut(&Bytes, Option<&Bytes>, Option<&Bytes>) + Send + 'static,
        send_old_values: bool,
    ) -> bool {
        self.inner.lock().borrow_mut().set_flush_listener(Box::new(listener), send_old_values)
    }

    /// Whether `key` serializes to null (such records are skipped by aggregations, as Kafka skips
    /// null keys).
    pub fn is_null_key(&self, key: &K) -> Result<bool, ProcessError> {
        Ok(self.key_serde.serialize(&self.name, key)?.is_none())
    }

    /// Deserializes a key of this store.
    pub fn key_from_bytes(&self, bytes: &Bytes) -> Result<K, ProcessError> {
        Ok(self.key_serde.deserialize(&self.name, Some(bytes))?)
    }

    /// Deserializes a value of this store.
    pub fn value_from_bytes(&self, bytes: &Bytes) -> Result<V, ProcessError> {
        self.value_of(Some(bytes))
    }

    /// An estimate of the number of entries (exact for in-memory stores).
    pub fn approximate_num_entries(&self) -> Result<u64, ProcessError> {
        Ok(self.inner.lock().borrow().approximate_num_entries()?)
    }
}
