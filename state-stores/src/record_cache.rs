//! The record cache behind the caching layer: a byte-bounded map with least-recently-used
//! eviction and a list of dirty entries in the order they were last written. Kafka's `NamedCache`.
//!
//! This module does no I/O and makes no decisions about the store below: it says which entries are
//! dirty and which one to evict, and the caching layer writes them down. Every entry is on the LRU
//! list; dirty entries are also on the dirty list. Both are intrusive doubly linked lists over a
//! slab of nodes, so a touch, a write and an eviction cost one ordered-map lookup plus O(1) list
//! work.
//!
//! Invariants (checked by `check_invariants` in tests): `index` and the LRU list hold the same
//! live nodes; the dirty list holds exactly the live nodes marked dirty, in last-write order;
//! `bytes` is the sum of [`entry_size`] over live nodes.

use std::collections::HashMap;
use std::ops::RangeBounds;

use bytes::Bytes;

use crate::bounds;
use crate::cache_budget::CacheBudget;

/// Bytes charged per cache entry on top of its key and value: the node, its links and its index
/// entry, roughly. Kafka charges a similar fixed overhead per `LRUCacheEntry`.
pub(crate) const ENTRY_OVERHEAD: usize = 64;

/// What an entry costs against the cache's budget.
pub(crate) fn entry_size(key: &[u8], value: Option<&Bytes>) -> usize {
    key.len() + value.map_or(0, Bytes::len) + ENTRY_OVERHEAD
}

const NIL: usize = usize::MAX;

#[derive(Clone, Copy, Debug)]
struct Links {
    prev: usize,
    next: usize,
}

const UNLINKED: Links = Links { prev: NIL, next: NIL };

#[derive(Clone, Copy, Debug)]
struct Ends {
    head: usize,
    tail: usize,
}

const EMPTY: Ends = Ends { head: NIL, tail: NIL };

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum List {
    Lru,
    Dirty,
}

#[derive(Debug)]
struct Node {
    key: Bytes,
    /// `None` is a pending delete (only ever dirty).
    value: Option<Bytes>,
    dirty: bool,
    lru: Links,
    dirty_links: Links,
}

/// An entry taken out of the cache by eviction.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Evicted {
    pub(crate) key: Bytes,
    pub(crate) value: Option<Bytes>,
    /// Whether it still has to be written to the store below.
    pub(crate) dirty: bool,
}

/// A byte-bounded write-back cache of one store's records.
#[derive(Debug)]
pub(crate) struct RecordCache {
    /// Key → node. Hashed: every read and write looks a key up, while only scans need order
    /// (they sort what they collect).
    /// Keys come from outside the process: the hasher is seeded per cache (foldhash, as
    /// hashbrown's default), and much cheaper than SipHash on the short keys of a stream.
    index: HashMap<Bytes, usize, foldhash::fast::RandomState>,
    nodes: Vec<Node>,
    free: Vec<usize>,
    lru: Ends,
    dirty: Ends,
    dirty_count: usize,
    bytes: usize,
    max_bytes: usize,
    /// A budget shared with other caches; `charged` is what this cache counts against it.
    shared: Option<CacheBudget>,
    charged: usize,
}

impl RecordCache {
    /// An empty cache that evicts once it holds more than `max_bytes`.
    pub(crate) fn new(max_bytes: usize) -> Self {
        Self {
            index: HashMap::with_hasher(foldhash::fast::RandomState::default()),
            nodes: Vec::new(),
            free: Vec::new(),
            lru: EMPTY,
            dirty: EMPTY,
            dirty_count: 0,
            bytes: 0,
            max_bytes,
            shared: None,
            charged: 0,
        }
    }

    /// An empty cache that evicts once the caches sharing `budget` hold more than its limit.
    pub(crate) fn with_budget(budget: CacheBudget) -> Self {
        let mut cache = Self::new(budget.max_bytes());
        cache.shared = Some(budget);
        cache
    }

    /// Brings the shared budget's count in line with this cache's size.
    fn settle(&mut self) {
        if self.charged == self.bytes {
            return;
        }
        if let Some(b) = &self.shared {
            b.recharge(self.charged, self.bytes);
            self.charged = self.bytes;
        }
    }

    /// Entries held, clean and dirty.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    /// Entries not yet written to the store below.
    pub(crate) fn dirty_len(&self) -> usize {
        self.dirty_count
    }

    /// Bytes charged against the budget.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Looks `key` up and marks it most recently used: `Some(Some(v))` a cached value,
    /// `Some(None)` a pending delete, `None` not cached.
    pub(crate) fn get(&mut self, key: &[u8]) -> Option<Option<Bytes>> {
        let idx = *self.index.get(key)?;
        self.unlink(List::Lru, idx);
        self.push_back(List::Lru, idx);
        Some(self.nodes[idx].value.clone())
    }

    /// The slot of `key` if it is cached, marked most recently used: a handle for
    /// [`value_at`](Self::value_at) and [`put_at`](Self::put_at) that saves looking the key up
    /// again (valid until the next call that adds or removes an entry).
    pub(crate) fn slot(&mut self, key: &[u8]) -> Option<usize> {
        let idx = *self.index.get(key)?;
        self.unlink(List::Lru, idx);
        self.push_back(List::Lru, idx);
        Some(idx)
    }

    /// The value in `slot` (`None`: a pending delete).
    pub(crate) fn value_at(&self, slot: usize) -> Option<&Bytes> {
        self.nodes[slot].value.as_ref()
    }

    /// Overwrites the value in `slot` (from [`slot`](Self::slot), which made it most recently
    /// used), as [`put`](Self::put) does for a key that is cached.
    pub(crate) fn put_at(&mut self, slot: usize, value: Option<Bytes>) {
        let size = entry_size(&self.nodes[slot].key, value.as_ref());
        let node = &mut self.nodes[slot];
        self.bytes = self.bytes - entry_size(&node.key, node.value.as_ref()) + size;
        node.value = value;
        let was_dirty = std::mem::replace(&mut node.dirty, true);
        if was_dirty {
            self.unlink(List::Dirty, slot);
        } else {
            self.dirty_count += 1;
        }
        self.push_back(List::Dirty, slot);
    }

    /// Records a write of `key` (a `None` value is a delete): the entry becomes dirty, most
    /// recently used and last in flush order. The caller then evicts while
    /// [`over_budget`](Self::over_budget).
    pub(crate) fn put(&mut self, key: Bytes, value: Option<Bytes>) {
        if let Some(&idx) = self.index.get(&key) {
            self.unlink(List::Lru, idx);
            self.push_back(List::Lru, idx);
            self.put_at(idx, value);
            return;
        }
        let size = entry_size(&key, value.as_ref());
        // The key may be a slice of a much larger buffer (a consumer's fetch): keep a copy of
        // its own, so a cached entry holds only what it is charged for.
        let key = Bytes::copy_from_slice(&key);
        let node =
            Node { key: key.clone(), value, dirty: true, lru: UNLINKED, dirty_links: UNLINKED };
        let idx = match self.free.pop() {
            Some(idx) => {
                self.nodes[idx] = node;
                idx
            }
            None => {
                self.nodes.push(node);
                self.nodes.len() - 1
            }
        };
        self.index.insert(key, idx);
        self.push_back(List::Lru, idx);
        self.push_back(List::Dirty, idx);
        self.dirty_count += 1;
        self.bytes += size;
    }

    /// Whether the cache holds more than its budget (and so must evict). With a shared budget:
    /// whether the caches sharing it hold more than its limit while this one holds anything.
    pub(crate) fn over_budget(&mut self) -> bool {
        self.settle();
        let over = match &self.shared {
            Some(b) => b.over(),
            None => self.bytes > self.max_bytes,
        };
        over && !self.index.is_empty()
    }

    /// Removes the least recently used entry. A dirty one must then be written down by the caller.
    pub(crate) fn evict_lru(&mut self) -> Option<Evicted> {
        let idx = self.lru.head;
        if idx == NIL {
            return None;
        }
        let key = self.nodes[idx].key.clone();
        Some(self.remove_node(idx, &key))
    }

    /// The dirty entries, in the order they were last written (the order to write them down).
    pub(crate) fn dirty_entries(&self) -> Vec<(Bytes, Option<Bytes>)> {
        let mut entries = Vec::with_capacity(self.dirty_count);
        let mut idx = self.dirty.head;
        while idx != NIL {
            let node = &self.nodes[idx];
            entries.push((node.key.clone(), node.value.clone()));
            idx = node.dirty_links.next;
        }
        entries
    }

    /// Marks every dirty entry clean after the caller wrote them down. Pending deletes leave the
    /// cache (as in Kafka, a flushed tombstone is not kept as a negative entry).
    pub(crate) fn mark_all_clean(&mut self) {
        let mut idx = self.dirty.head;
        while idx != NIL {
            let next = self.nodes[idx].dirty_links.next;
            let node = &mut self.nodes[idx];
            node.dirty = false;
            node.dirty_links = UNLINKED;
            if node.value.is_none() {
                let key = node.key.clone();
                self.unlink(List::Lru, idx);
                self.index.remove(&key);
                self.release(idx, &key);
            }
            idx = next;
        }
        self.dirty = EMPTY;
        self.dirty_count = 0;
        self.settle();
    }

    /// Cached entries (pending deletes included, as `None`) with `from <= key <= to`, in
    /// ascending key order; does not change recency. The caller has rejected inverted ranges.
    pub(crate) fn range(
        &self,
        from: Option<&[u8]>,
        to: Option<&[u8]>,
    ) -> Vec<(Bytes, Option<Bytes>)> {
        let range = bounds::inclusive(from, to);
        self.collect(|k| RangeBounds::<&[u8]>::contains(&range, &k))
    }

    /// Cached entries whose key starts with `prefix`, in ascending key order.
    pub(crate) fn prefix(&self, prefix: &[u8]) -> Vec<(Bytes, Option<Bytes>)> {
        let (start, end) = bounds::prefix_bounds(prefix);
        let range = (start.as_ref().map(Vec::as_slice), end.as_ref().map(Vec::as_slice));
        self.collect(|k| RangeBounds::<&[u8]>::contains(&range, &k))
    }

    /// Drops every entry, dirty ones included.
    pub(crate) fn clear(&mut self) {
        self.index.clear();
        self.nodes.clear();
        self.free.clear();
        self.lru = EMPTY;
        self.dirty = EMPTY;
        self.dirty_count = 0;
        self.bytes = 0;
        self.settle();
    }

    /// The entries whose key `keep` accepts, in ascending key order.
    fn collect(&self, keep: impl Fn(&[u8]) -> bool) -> Vec<(Bytes, Option<Bytes>)> {
        let mut out: Vec<(Bytes, Option<Bytes>)> = self
            .index
            .iter()
            .filter(|(key, _)| keep(key))
            .map(|(key, &idx)| (key.clone(), self.nodes[idx].value.clone()))
            .collect();
        out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        out
    }

    fn remove_node(&mut self, idx: usize, key: &Bytes) -> Evicted {
        self.unlink(List::Lru, idx);
        let dirty = self.nodes[idx].dirty;
        if dirty {
            self.unlink(List::Dirty, idx);
            self.dirty_count -= 1;
        }
        self.index.remove(key);
        let value = self.nodes[idx].value.take();
        self.bytes -= entry_size(key, value.as_ref());
        self.nodes[idx] = Node {
            key: Bytes::new(),
            value: None,
            dirty: false,
            lru: UNLINKED,
            dirty_links: UNLINKED,
        };
        self.free.push(idx);
        Evicted { key: key.clone(), value, dirty }
    }

    /// Frees a node already taken off both lists and the index.
    fn release(&mut self, idx: usize, key: &Bytes) {
        let node = &mut self.nodes[idx];
        self.bytes -= entry_size(key, node.value.as_ref());
        node.key = Bytes::new();
        node.value = None;
        self.free.push(idx);
    }

    fn links(&mut self, list: List, idx: usize) -> &mut Links {
        match list {
            List::Lru => &mut self.nodes[idx].lru,
            List::Dirty => &mut self.nodes[idx].dirty_links,
        }
    }

    fn ends(&mut self, list: List) -> &mut Ends {
        match list {
            List::Lru => &mut self.lru,
            List::Dirty => &mut self.dirty,
        }
    }

    fn unlink(&mut self, list: List, idx: usize) {
        let Links { prev, next } = *self.links(list, idx);
        if prev == NIL {
            self.ends(list).head = next;
        } else {
            self.links(list, prev).next = next;
        }
        if next == NIL {
            self.ends(list).tail = prev;
        } else {
            self.links(list, next).prev = prev;
        }
        *self.links(list, idx) = UNLINKED;
    }

    fn push_back(&mut self, list: List, idx: usize) {
        let tail = self.ends(list).tail;
        *self.links(list, idx) = Links { prev: tail, next: NIL };
        if tail == NIL {
            self.ends(list).head = idx;
        } else {
            self.links(list, tail).next = idx;
        }
        self.ends(list).tail = idx;
    }

    #[cfg(test)]
    fn list_keys(&self, list: List) -> Vec<Bytes> {
        let mut keys = Vec::new();
        let mut idx = match list {
            List::Lru => self.lru.head,
            List::Dirty => self.dirty.head,
        };
        while idx != NIL {
            keys.push(self.nodes[idx].key.clone());
            idx = match list {
                List::Lru => self.nodes[idx].lru.next,
                List::Dirty => self.nodes[idx].dirty_links.next,
            };
        }
        keys
    }

    #[cfg(test)]
    fn check_invariants(&self) {
        let lru = self.list_keys(List::Lru);
        assert_eq!(lru.len(), self.index.len(), "LRU list and index disagree");
        for key in &lru {
            assert!(self.index.contains_key(key));
        }
        let dirty = self.list_keys(List::Dirty);
        assert_eq!(dirty.len(), self.dirty_count);
        let marked: usize = self.index.values().filter(|&&idx| self.nodes[idx].dirty).count();
        assert_eq!(marked, self.dirty_count);
        for key in &dirty {
            assert!(self.nodes[self.index[key]].dirty);
        }
        let bytes: usize = self
            .index
            .iter()
            .map(|(key, &idx)| entry_size(key, self.nodes[idx].value.as_ref()))
            .sum();
        assert_eq!(bytes, self.bytes);
    }
}

impl Drop for RecordCache {
    fn drop(&mut self) {
        if let Some(b) = &self.shared {
            b.recharge(self.charged, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn repeated_writes_keep_one_dirty_entry_in_last_write_order() {
        let mut cache = RecordCache::new(10_000);
        cache.put(b("a"), Some(b("1")));
        cache.put(b("b"), Some(b("1")));
        cache.put(b("a"), Some(b("2")));
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.dirty_entries(), vec![(b("b"), Some(b("1"))), (b("a"), Some(b("2")))]);
        cache.check_invariants();
    }

    #[test]
    fn eviction_takes_the_least_recently_used_entry_and_reads_count_as_use() {
        let size = entry_size(b"a", Some(&b("1")));
        let mut cache = RecordCache::new(2 * size);
        cache.put(b("a"), Some(b("1")));
        cache.put(b("b"), Some(b("1")));
        assert_eq!(cache.get(b"a"), Some(Some(b("1"))));
        cache.put(b("c"), Some(b("1")));
        assert!(cache.over_budget());
        let evicted = cache.evict_lru();
        assert_eq!(evicted, Some(Evicted { key: b("b"), value: Some(b("1")), dirty: true }));
        assert!(!cache.over_budget());
        assert_eq!(cache.dirty_entries(), vec![(b("a"), Some(b("1"))), (b("c"), Some(b("1")))]);
        cache.check_invariants();
    }

    #[test]
    fn marking_clean_keeps_values_and_drops_pending_deletes() {
        let mut cache = RecordCache::new(10_000);
        cache.put(b("a"), Some(b("1")));
        cache.put(b("b"), None);
        cache.mark_all_clean();
        assert_eq!(cache.dirty_len(), 0);
        assert_eq!(cache.get(b"a"), Some(Some(b("1"))));
        assert_eq!(cache.get(b"b"), None);
        assert_eq!(
            cache.evict_lru(),
            Some(Evicted { key: b("a"), value: Some(b("1")), dirty: false })
        );
        assert_eq!(cache.bytes(), 0);
        cache.check_invariants();
    }

    #[test]
    fn a_zero_budget_is_over_budget_after_any_write() {
        let mut cache = RecordCache::new(0);
        assert!(!cache.over_budget());
        cache.put(b("a"), Some(b("1")));
        assert!(cache.over_budget());
        assert!(cache.evict_lru().is_some_and(|e| e.dirty));
        assert!(!cache.over_budget());
    }

    #[test]
    fn range_and_prefix_include_pending_deletes_in_key_order() {
        let mut cache = RecordCache::new(10_000);
        for (k, v) in [("b", Some("2")), ("a", Some("1")), ("ab", None), ("c", Some("3"))] {
            cache.put(b(k), v.map(b));
        }
        assert_eq!(
            cache.range(Some(b"a"), Some(b"b")),
            vec![(b("a"), Some(b("1"))), (b("ab"), None), (b("b"), Some(b("2")))]
        );
        assert_eq!(cache.prefix(b"a"), vec![(b("a"), Some(b("1"))), (b("ab"), None)]);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Put(u8, Option<u8>),
        Update(u8, Option<u8>),
        Get(u8),
        Evict,
        Clean,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u8..8, proptest::option::of(any::<u8>())).prop_map(|(k, v)| Op::Put(k, v)),
            2 => (0u8..8, proptest::option::of(any::<u8>())).prop_map(|(k, v)| Op::Update(k, v)),
            2 => (0u8..8).prop_map(Op::Get),
            1 => Just(Op::Evict),
            1 => Just(Op::Clean),
        ]
    }

    #[derive(Debug, Clone)]
    struct ModelEntry {
        value: Option<u8>,
        dirty: bool,
        /// When the entry was last used (read or written) and last written, on one clock.
        used: u64,
        written: u64,
    }

    proptest! {
        /// The cache agrees with a model that keeps, per key, the latest write, whether it is
        /// dirty, and when it was last used and last written: reads see the latest write,
        /// eviction takes exactly the least recently used entry, the dirty entries come in
        /// exactly the order of their last writes, and the invariants hold after every step.
        #[test]
        fn the_cache_follows_the_model_under_random_operations(
            ops in proptest::collection::vec(op(), 1..300)
        ) {
            let mut cache = RecordCache::new(5 * entry_size(b"k", Some(&b("v"))));
            let mut model: BTreeMap<u8, ModelEntry> = BTreeMap::new();
            let mut clock = 0u64;
            let bytes = |v: Option<u8>| v.map(|v| Bytes::from(vec![v]));
            for op in ops {
                clock += 1;
                match op {
                    Op::Put(k, v) => {
                        cache.put(Bytes::from(vec![k]), bytes(v));
                        let entry = ModelEntry { value: v, dirty: true, used: clock, written: clock };
                        model.insert(k, entry);
                    }
                    Op::Update(k, v) => {
                        // The read-modify-write path: look the slot up, read it, overwrite it.
                        let slot = cache.slot(&[k]);
                        prop_assert_eq!(slot.is_some(), model.contains_key(&k));
                        if let (Some(slot), Some(entry)) = (slot, model.get_mut(&k)) {
                            prop_assert_eq!(cache.value_at(slot).cloned(), bytes(entry.value));
                            cache.put_at(slot, bytes(v));
                            *entry = ModelEntry { value: v, dirty: true, used: clock, written: clock };
                        }
                    }
                    Op::Get(k) => {
                        let got = cache.get(&[k]);
                        prop_assert_eq!(got, model.get(&k).map(|e| bytes(e.value)));
                        if let Some(entry) = model.get_mut(&k) {
                            entry.used = clock;
                        }
                    }
                    Op::Evict => {
                        let expected = model.iter().min_by_key(|(_, e)| e.used).map(|(&k, _)| k);
                        let evicted = cache.evict_lru();
                        prop_assert_eq!(evicted.as_ref().map(|e| e.key[0]), expected);
                        if let (Some(evicted), Some(k)) = (evicted, expected) {
                            let entry = model.remove(&k).expect("present");
                            prop_assert_eq!(evicted.value, bytes(entry.value));
                            prop_assert_eq!(evicted.dirty, entry.dirty);
                        }
                    }
                    Op::Clean => {
                        let mut dirty: Vec<(u64, u8, Option<u8>)> = model
                            .iter()
                            .filter(|(_, e)| e.dirty)
                            .map(|(&k, e)| (e.written, k, e.value))
                            .collect();
                        dirty.sort_unstable();
                        let expected: Vec<(Bytes, Option<Bytes>)> =
                            dirty.into_iter().map(|(_, k, v)| (Bytes::from(vec![k]), bytes(v))).collect();
                        prop_assert_eq!(cache.dirty_entries(), expected);
                        prop_assert_eq!(cache.dirty_len(), model.values().filter(|e| e.dirty).count());
                        cache.mark_all_clean();
                        model.retain(|_, e| e.value.is_some());
                        for entry in model.values_mut() {
                            entry.dirty = false;
                        }
                    }
                }
                cache.check_invariants();
                prop_assert_eq!(cache.len(), model.len());
            }
        }
    }
}
