//! Byte-exact emulation of the orders in which Kafka Streams' `TopologyDescription` prints names.
//!
//! Kafka builds the `-->` (successors) and `<--` (predecessors) lists of a sub-topology in
//! `InternalTopologyBuilder.describeSubtopology`:
//!
//! * the group's node names sit in a `java.util.HashSet<String>` filled in `nodeFactories`
//!   insertion order, and are copied in that set's iteration order into a
//!   `HashMap<String, AbstractNode>` (`nodesByName`);
//! * for every node, in `nodesByName` iteration order, and for every predecessor name in the
//!   order given to `addProcessor`/`addSink`, Kafka calls `node.addPredecessor(predecessor)`,
//!   `predecessor.addSuccessor(node)` and `updateSize(predecessor, node.size)`;
//! * both lists are `TreeSet`s ordered by `NodeComparator` (size descending, then
//!   `String.compareTo`), but the sizes keep growing while elements are inserted, so the final
//!   iteration order depends on the exact red-black tree shape built by `java.util.TreeMap`.
//!
//! This module re-implements, without any Java code, the parts of `java.util.HashMap` (table
//! growth, bucket order, tree bins) and `java.util.TreeMap` (insertion and rebalancing) that
//! decide those orders, plus the `HashSet` orders of multi-element `[a, b]` lists.

use std::cmp::Ordering;
use std::collections::HashMap;

/// `java.util.HashMap.DEFAULT_INITIAL_CAPACITY`.
const DEFAULT_CAPACITY: usize = 16;
/// `java.util.HashMap.MAXIMUM_CAPACITY`.
const MAXIMUM_CAPACITY: usize = 1 << 30;
/// `java.util.HashMap.TREEIFY_THRESHOLD`: a chain that already holds this many entries is
/// turned into a tree bin (or the table grows) when one more entry is appended to it.
const TREEIFY_THRESHOLD: usize = 8;
/// `java.util.HashMap.UNTREEIFY_THRESHOLD`: a split tree half this small becomes a chain again.
const UNTREEIFY_THRESHOLD: usize = 6;
/// `java.util.HashMap.MIN_TREEIFY_CAPACITY`: smaller tables grow instead of treeifying a bin.
const MIN_TREEIFY_CAPACITY: usize = 64;

/// Java's `String.compareTo`: lexicographic over UTF-16 code units (which differs from Rust's
/// `str` order for characters outside the Basic Multilingual Plane).
pub(crate) fn java_compare(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Java's String.hashCode (over UTF-16 code units, wrapping i32 arithmetic).
pub(crate) fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |hash, unit| hash.wrapping_mul(31).wrapping_add(i32::from(unit)))
}

/// `HashMap.hash(key)`: the hash code with its upper half folded into the lower half.
fn spread(hash: i32) -> i32 {
    hash ^ ((hash as u32) >> 16) as i32
}

/// `tableSizeFor(cap)`: the smallest power of two that is at least `cap` (at least 1, at most
/// [`MAXIMUM_CAPACITY`]).
fn table_size_for(cap: usize) -> usize {
    cap.max(1).checked_next_power_of_two().unwrap_or(MAXIMUM_CAPACITY).min(MAXIMUM_CAPACITY)
}

/// A string key as the Java collections see it.
struct JavaKey<'a> {
    /// The text, used for `equals`.
    text: &'a str,
    /// The UTF-16 code units, used for `String.compareTo`.
    utf16: Vec<u16>,
    /// `HashMap.hash(key)`.
    spread: i32,
}

impl<'a> JavaKey<'a> {
    /// Prepares `text` for use as a key.
    fn new(text: &'a str) -> Self {
        Self { text, utf16: text.encode_utf16().collect(), spread: spread(java_string_hash(text)) }
    }

    /// `String.compareTo`: lexicographic over UTF-16 code units (a proper prefix sorts first).
    fn compare_to(&self, other: &Self) -> Ordering {
        self.utf16.cmp(&other.utf16)
    }

    /// The bucket of this key in a table of `capacity` (a power of two) slots.
    fn bucket(&self, capacity: usize) -> usize {
        (self.spread as u32 as usize) & (capacity - 1)
    }
}

/// Builds the [`JavaKey`] of every name.
fn java_keys<'a>(names: &[&'a str]) -> Vec<JavaKey<'a>> {
    names.iter().map(|name| JavaKey::new(name)).collect()
}

/// Where [`RbTree::insert`] put a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Insertion {
    /// The descent met an element comparing equal (0): nothing was inserted.
    Existing,
    /// The tree was empty: the key became the root.
    Root,
    /// The key was attached as a leaf below the element holding this key (before rebalancing).
    Below(usize),
}

/// A node of [`RbTree`].
#[derive(Clone, Debug)]
struct RbNode {
    /// The element (an index chosen by the caller).
    key: usize,
    /// Left child (arena index).
    left: Option<usize>,
    /// Right child (arena index).
    right: Option<usize>,
    /// Parent (arena index).
    parent: Option<usize>,
    /// Colour: `true` for red.
    red: bool,
}

/// An arena-based red-black tree that performs exactly the steps of `java.util.TreeMap.put`
/// (descent, leaf attachment, `fixAfterInsertion` with its rotations). `HashMap.TreeNode`'s
/// `treeify`/`putTreeVal` + `balanceInsertion` run the same algorithm, so tree bins use it too.
#[derive(Clone, Debug, Default)]
struct RbTree {
    /// All nodes; arena indices never change.
    nodes: Vec<RbNode>,
    /// Arena index of the root.
    root: Option<usize>,
}

impl RbTree {
    /// Inserts `key` like `TreeMap.put`, with `compare(new_key, existing_key)` called on the
    /// way down exactly as Java calls `comparator.compare(key, t.key)`.
    fn insert(
        &mut self,
        key: usize,
        mut compare: impl FnMut(usize, usize) -> Ordering,
    ) -> Insertion {
        let Some(mut at) = self.root else {
            self.nodes.push(RbNode { key, left: None, right: None, parent: None, red: false });
            self.root = Some(self.nodes.len() - 1);
            return Insertion::Root;
        };
        let to_left = loop {
            let node = &self.nodes[at];
            let next = match compare(key, node.key) {
                Ordering::Less => (node.left, true),
                Ordering::Greater => (node.right, false),
                Ordering::Equal => return Insertion::Existing,
            };
            match next {
                (Some(child), _) => at = child,
                (None, to_left) => break to_left,
            }
        };
        let new = self.nodes.len();
        self.nodes.push(RbNode { key, left: None, right: None, parent: Some(at), red: false });
        if to_left {
            self.nodes[at].left = Some(new);
        } else {
            self.nodes[at].right = Some(new);
        }
        self.fix_after_insertion(new);
        Insertion::Below(self.nodes[at].key)
    }

    /// The key at the root, if any.
    fn root_key(&self) -> Option<usize> {
        self.root.map(|root| self.nodes[root].key)
    }

    /// The keys in iteration (in-order) order.
    fn in_order(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.nodes.len());
        let mut stack = Vec::new();
        let mut current = self.root;
        loop {
            while let Some(node) = current {
                stack.push(node);
                current = self.nodes[node].left;
            }
            let Some(node) = stack.pop() else { break };
            out.push(self.nodes[node].key);
            current = self.nodes[node].right;
        }
        out
    }

    /// `parentOf(x)`.
    fn parent_of(&self, x: Option<usize>) -> Option<usize> {
        x.and_then(|x| self.nodes[x].parent)
    }

    /// `leftOf(x)`.
    fn left_of(&self, x: Option<usize>) -> Option<usize> {
        x.and_then(|x| self.nodes[x].left)
    }

    /// `rightOf(x)`.
    fn right_of(&self, x: Option<usize>) -> Option<usize> {
        x.and_then(|x| self.nodes[x].right)
    }

    /// `colorOf(x) == RED` (absent nodes are black).
    fn is_red(&self, x: Option<usize>) -> bool {
        x.is_some_and(|x| self.nodes[x].red)
    }

    /// `setColor(x, red ? RED : BLACK)` (no effect on absent nodes).
    fn set_red(&mut self, x: Option<usize>, red: bool) {
        if let Some(x) = x {
            self.nodes[x].red = red;
        }
    }

    /// `TreeMap.fixAfterInsertion`.
    fn fix_after_insertion(&mut self, x: usize) {
        let mut x = Some(x);
        self.set_red(x, true);
        while x.is_some() && x != self.root && self.is_red(self.parent_of(x)) {
            let parent = self.parent_of(x);
            let grandparent = self.parent_of(parent);
            if parent == self.left_of(grandparent) {
                let uncle = self.right_of(grandparent);
                if self.is_red(uncle) {
                    self.set_red(parent, false);
                    self.set_red(uncle, false);
                    self.set_red(grandparent, true);
                    x = grandparent;
                } else {
                    if x == self.right_of(parent) {
                        x = parent;
                        self.rotate_left(x);
                    }
                    let parent = self.parent_of(x);
                    self.set_red(parent, false);
                    self.set_red(self.parent_of(parent), true);
                    self.rotate_right(self.parent_of(parent));
                }
            } else {
                let uncle = self.left_of(grandparent);
                if self.is_red(uncle) {
                    self.set_red(parent, false);
                    self.set_red(uncle, false);
                    self.set_red(grandparent, true);
                    x = grandparent;
                } else {
                    if x == self.left_of(parent) {
                        x = parent;
                        self.rotate_right(x);
                    }
                    let parent = self.parent_of(x);
                    self.set_red(parent, false);
                    self.set_red(self.parent_of(parent), true);
                    self.rotate_left(self.parent_of(parent));
                }
            }
        }
        let root = self.root;
        self.set_red(root, false);
    }

    /// Replaces `old` by `new` in the child slot of `old`'s parent (or as root).
    fn replace_child(&mut self, parent: Option<usize>, old: usize, new: usize) {
        match parent {
            None => self.root = Some(new),
            Some(parent) if self.nodes[parent].left == Some(old) => {
                self.nodes[parent].left = Some(new);
            }
            Some(parent) => self.nodes[parent].right = Some(new),
        }
    }

    /// `TreeMap.rotateLeft`.
    fn rotate_left(&mut self, p: Option<usize>) {
        let Some(p) = p else { return };
        let Some(r) = self.nodes[p].right else { return };
        let r_left = self.nodes[r].left;
        self.nodes[p].right = r_left;
        if let Some(r_left) = r_left {
            self.nodes[r_left].parent = Some(p);
        }
        let p_parent = self.nodes[p].parent;
        self.nodes[r].parent = p_parent;
        self.replace_child(p_parent, p, r);
        self.nodes[r].left = Some(p);
        self.nodes[p].parent = Some(r);
    }

    /// `TreeMap.rotateRight`.
    fn rotate_right(&mut self, p: Option<usize>) {
        let Some(p) = p else { return };
        let Some(l) = self.nodes[p].left else { return };
        let l_right = self.nodes[l].right;
        self.nodes[p].left = l_right;
        if let Some(l_right) = l_right {
            self.nodes[l_right].parent = Some(p);
        }
        let p_parent = self.nodes[p].parent;
        self.nodes[l].parent = p_parent;
        self.replace_child(p_parent, p, l);
        self.nodes[l].right = Some(p);
        self.nodes[p].parent = Some(l);
    }
}

/// The order of two keys inside a `HashMap` tree bin: `hash` as signed int, then
/// `compareComparables` (`String.compareTo`). `tieBreakOrder` is never reached because
/// distinct strings never compare equal.
fn tree_bin_order(keys: &[JavaKey<'_>], a: usize, b: usize) -> Ordering {
    keys[a].spread.cmp(&keys[b].spread).then_with(|| keys[a].compare_to(&keys[b]))
}

/// One slot of the emulated `HashMap` table.
#[derive(Clone, Debug, Default)]
struct Bin {
    /// The entries (key indices) in `next`-link order, which is the iteration order.
    chain: Vec<usize>,
    /// The red-black tree once the bin is a tree bin (`TreeNode`s).
    tree: Option<RbTree>,
}

impl Bin {
    /// `TreeNode.treeify` over the current chain, then `moveRootToFront`.
    fn treeify(&mut self, keys: &[JavaKey<'_>]) {
        let mut tree = RbTree::default();
        for &key in &self.chain {
            tree.insert(key, |a, b| tree_bin_order(keys, a, b));
        }
        self.tree = Some(tree);
        self.move_root_to_front();
    }

    /// `TreeNode.putTreeVal` for a key known to be absent: the new node is linked right after
    /// its tree parent in the chain, then the (new) root is moved to the front.
    fn put_tree_val(&mut self, keys: &[JavaKey<'_>], key: usize) {
        let Some(tree) = self.tree.as_mut() else {
            self.chain.push(key);
            return;
        };
        match tree.insert(key, |a, b| tree_bin_order(keys, a, b)) {
            Insertion::Existing => return,
            Insertion::Root => self.chain.insert(0, key),
            Insertion::Below(parent) => {
                let at = self
                    .chain
                    .iter()
                    .position(|&e| e == parent)
                    .map_or(self.chain.len(), |p| p + 1);
                self.chain.insert(at, key);
            }
        }
        self.move_root_to_front();
    }

    /// `TreeNode.moveRootToFront`: the tree root becomes the first entry of the chain.
    fn move_root_to_front(&mut self) {
        let Some(root) = self.tree.as_ref().and_then(RbTree::root_key) else {
            return;
        };
        if let Some(at) = self.chain.iter().position(|&e| e == root).filter(|&at| at != 0) {
            let root = self.chain.remove(at);
            self.chain.insert(0, root);
        }
    }

    /// One half of `TreeNode.split` during a resize: `chain` keeps its order; it becomes a
    /// plain chain when small, is re-treeified when the other half is not empty, and otherwise
    /// keeps the old tree unchanged (every node moved together).
    fn split_half(
        keys: &[JavaKey<'_>],
        chain: Vec<usize>,
        other_half_empty: bool,
        old_tree: &RbTree,
    ) -> Self {
        if chain.len() <= UNTREEIFY_THRESHOLD {
            return Self { chain, tree: None };
        }
        if other_half_empty {
            return Self { chain, tree: Some(old_tree.clone()) };
        }
        let mut bin = Self { chain, tree: None };
        bin.treeify(keys);
        bin
    }
}

/// The key set of a `java.util.HashMap<String, _>` (or `HashSet<String>`), with the table
/// growth, bucket order and tree bins of OpenJDK 8 and later (checked against Java 17).
struct JavaHashMap<'k, 'a> {
    /// All keys that may be inserted; entries are indices into this slice.
    keys: &'k [JavaKey<'a>],
    /// The table (empty until the first insertion, like Java's lazily allocated table).
    table: Vec<Bin>,
    /// Number of entries.
    size: usize,
    /// Resize threshold; before the table exists, the initial capacity (0 = default).
    threshold: usize,
}

impl<'k, 'a> JavaHashMap<'k, 'a> {
    /// `new HashMap<>()`.
    fn new(keys: &'k [JavaKey<'a>]) -> Self {
        Self { keys, table: Vec::new(), size: 0, threshold: 0 }
    }

    /// `new HashMap<>(initialCapacity)`.
    fn with_initial_capacity(keys: &'k [JavaKey<'a>], initial_capacity: usize) -> Self {
        Self { keys, table: Vec::new(), size: 0, threshold: table_size_for(initial_capacity) }
    }

    /// `HashMap.put(key, value)` as far as the key structure is concerned (`putVal`).
    fn put(&mut self, key: usize) {
        if self.table.is_empty() {
            self.resize();
        }
        let keys = self.keys;
        let index = keys[key].bucket(self.table.len());
        let bin = &mut self.table[index];
        if bin.chain.iter().any(|&e| keys[e].text == keys[key].text) {
            return;
        }
        let mut treeify = false;
        if bin.tree.is_some() {
            bin.put_tree_val(keys, key);
        } else {
            treeify = bin.chain.len() >= TREEIFY_THRESHOLD;
            bin.chain.push(key);
        }
        if treeify {
            self.treeify_bin(index);
        }
        self.size += 1;
        if self.size > self.threshold {
            self.resize();
        }
    }

    /// `HashMap.treeifyBin`: small tables grow instead.
    fn treeify_bin(&mut self, index: usize) {
        if self.table.len() < MIN_TREEIFY_CAPACITY {
            self.resize();
        } else {
            let keys = self.keys;
            self.table[index].treeify(keys);
        }
    }

    /// `HashMap.resize`.
    fn resize(&mut self) {
        let old_capacity = self.table.len();
        let (capacity, threshold) = if old_capacity > 0 {
            if old_capacity >= MAXIMUM_CAPACITY {
                self.threshold = usize::MAX;
                return;
            }
            let capacity = old_capacity * 2;
            if capacity < MAXIMUM_CAPACITY && old_capacity >= DEFAULT_CAPACITY {
                (capacity, self.threshold * 2)
            } else {
                (capacity, load_threshold(capacity))
            }
        } else if self.threshold > 0 {
            (self.threshold, load_threshold(self.threshold))
        } else {
            (DEFAULT_CAPACITY, load_threshold(DEFAULT_CAPACITY))
        };
        let keys = self.keys;
        let old = std::mem::take(&mut self.table);
        let mut table = vec![Bin::default(); capacity];
        for (j, bin) in old.into_iter().enumerate() {
            match bin.chain.len() {
                0 => {}
                1 => {
                    let key = bin.chain[0];
                    table[keys[key].bucket(capacity)] = Bin { chain: bin.chain, tree: None };
                }
                _ => {
                    let (lo, hi): (Vec<usize>, Vec<usize>) = bin
                        .chain
                        .iter()
                        .partition(|&&e| (keys[e].spread as u32 as usize) & old_capacity == 0);
                    match &bin.tree {
                        Some(tree) => {
                            let (lo_empty, hi_empty) = (lo.is_empty(), hi.is_empty());
                            if !lo_empty {
                                table[j] = Bin::split_half(keys, lo, hi_empty, tree);
                            }
                            if !hi_empty {
                                table[j + old_capacity] = Bin::split_half(keys, hi, lo_empty, tree);
                            }
                        }
                        None => {
                            table[j].chain = lo;
                            table[j + old_capacity].chain = hi;
                        }
                    }
                }
            }
        }
        self.table = table;
        self.threshold = threshold;
    }

    /// The iteration order of the keys: buckets ascending, each bin in `next`-link order.
    fn iteration_order(&self) -> Vec<usize> {
        self.table.iter().flat_map(|bin| bin.chain.iter().copied()).collect()
    }
}

/// `(int) (capacity * 0.75f)` (or `Integer.MAX_VALUE` at the maximum capacity).
fn load_threshold(capacity: usize) -> usize {
    if capacity >= MAXIMUM_CAPACITY { usize::MAX } else { (capacity as f32 * 0.75f32) as usize }
}

/// Inserts `insertion_order` (indices into `keys`) into an emulated hash map and returns its
/// iteration order; `initial_capacity` is `None` for `new HashMap<>()`.
fn hash_map_order(
    keys: &[JavaKey<'_>],
    insertion_order: impl IntoIterator<Item = usize>,
    initial_capacity: Option<usize>,
) -> Vec<usize> {
    let mut map = match initial_capacity {
        Some(capacity) => JavaHashMap::with_initial_capacity(keys, capacity),
        None => JavaHashMap::new(keys),
    };
    for key in insertion_order {
        map.put(key);
    }
    map.iteration_order()
}

/// The iteration order (as indices into `names`) of a java.util.HashSet<String> created with
/// `new HashSet<>()` and filled with `names` in slice order (capacity 16, doubling when
/// size > 0.75*capacity, HashMap.hash spreading, buckets ascending, insertion order within a
/// bucket).
///
/// Bins that reach 9 entries are handled like Java: the table grows while it is smaller than
/// 64 slots, and the bin becomes a red-black tree bin otherwise (whose iteration order is then
/// no longer the insertion order). A repeated name is kept once, at its first index.
#[cfg(test)]
pub(crate) fn hash_set_order(names: &[&str]) -> Vec<usize> {
    let keys = java_keys(names);
    hash_map_order(&keys, 0..names.len(), None)
}

/// The same for `new HashSet<>(collection)` copy construction of `names` (initial capacity
/// tableSizeFor(max((int)(n/.75f)+1, 16))).
///
/// This is the Java 8–18 constructor. Java 19 and later size the copy with
/// `HashMap.newHashMap(max(n, 12))` instead, which differs for some `n` (e.g. 12 names give
/// 16 slots there and 32 here).
pub(crate) fn hash_set_copy_order(names: &[&str]) -> Vec<usize> {
    let keys = java_keys(names);
    let capacity = ((names.len() as f32 / 0.75f32) as usize + 1).max(DEFAULT_CAPACITY);
    hash_map_order(&keys, 0..names.len(), Some(capacity))
}

/// `NodeComparator.compare(a, b)` with the sizes current at the time of the call: `equals`
/// (the same node), then `size2 - size1` (int arithmetic), then `String.compareTo`.
fn node_order(keys: &[JavaKey<'_>], sizes: &[i32], a: usize, b: usize) -> Ordering {
    if a == b {
        Ordering::Equal
    } else if sizes[a] != sizes[b] {
        sizes[b].wrapping_sub(sizes[a]).cmp(&0)
    } else {
        keys[a].compare_to(&keys[b])
    }
}

/// The state of `describeSubtopology` after its loop.
struct Described {
    /// Per node, its `successors` TreeSet.
    successors: Vec<RbTree>,
    /// Per node, its `predecessors` TreeSet.
    predecessors: Vec<RbTree>,
    /// Per node, the exact number of paths (saturating), i.e. Kafka's `size` without overflow.
    sizes: Vec<usize>,
}

/// `updateSize(start, delta)`: adds `delta` to `start` and, recursively, to every predecessor
/// once per path. Instead of walking every path, it counts paths per ancestor (predecessors
/// always have smaller indices) and adds `delta * paths`; Java's `int` wrapping is reproduced
/// in `java_sizes`, while `exact` saturates.
fn update_size(
    start: usize,
    delta: (i32, usize),
    predecessor_entries: &[Vec<usize>],
    java_sizes: &mut [i32],
    exact: &mut [usize],
) {
    let mut wrapped_paths = vec![0u32; start + 1];
    let mut paths = vec![0usize; start + 1];
    wrapped_paths[start] = 1;
    paths[start] = 1;
    for node in (0..=start).rev() {
        if paths[node] == 0 {
            continue;
        }
        java_sizes[node] =
            java_sizes[node].wrapping_add(delta.0.wrapping_mul(wrapped_paths[node] as i32));
        exact[node] = exact[node].saturating_add(delta.1.saturating_mul(paths[node]));
        for &predecessor in &predecessor_entries[node] {
            if predecessor < node {
                wrapped_paths[predecessor] =
                    wrapped_paths[predecessor].wrapping_add(wrapped_paths[node]);
                paths[predecessor] = paths[predecessor].saturating_add(paths[node]);
            }
        }
    }
}

/// Runs `describeSubtopology`'s loop on `nodes` (see [`arrow_orders`] for the input).
///
/// Inputs Kafka rejects are skipped instead of failing: a parent index out of range, and a
/// parent that is not an earlier node (`addProcessor` requires existing predecessors, so the
/// slice order is always a topological order). A repeated name is represented by its first
/// node only (Kafka rejects duplicates); later nodes with that name get empty lists.
fn describe(nodes: &[(&str, Vec<usize>)]) -> Described {
    let count = nodes.len();
    let names: Vec<&str> = nodes.iter().map(|(name, _)| *name).collect();
    let keys = java_keys(&names);
    let group = hash_map_order(&keys, 0..count, None);
    let nodes_by_name = hash_map_order(&keys, group, None);
    let mut first_index: HashMap<&str, usize> = HashMap::with_capacity(count);
    for (index, name) in names.iter().enumerate() {
        first_index.entry(*name).or_insert(index);
    }

    let mut java_sizes = vec![1i32; count];
    let mut exact = vec![1usize; count];
    let mut successors = vec![RbTree::default(); count];
    let mut predecessors = vec![RbTree::default(); count];
    // The multiset of entries of each predecessors TreeSet (what `updateSize` iterates).
    let mut predecessor_entries: Vec<Vec<usize>> = vec![Vec::new(); count];
    for &node in &nodes_by_name {
        for &parent in &nodes[node].1 {
            let Some(&parent) = nodes.get(parent).and_then(|(name, _)| first_index.get(name))
            else {
                continue;
            };
            if parent >= node {
                continue;
            }
            let sizes = &java_sizes;
            let order = |a: usize, b: usize| node_order(&keys, sizes, a, b);
            if predecessors[node].insert(parent, order) != Insertion::Existing {
                predecessor_entries[node].push(parent);
            }
            successors[parent].insert(node, order);
            let delta = (java_sizes[node], exact[node]);
            update_size(parent, delta, &predecessor_entries, &mut java_sizes, &mut exact);
        }
    }
    Described { successors, predecessors, sizes: exact }
}

/// For one sub-topology: `nodes[i] = (name, parents)` where parents are indices into `nodes`,
/// in the order the parents were given to addProcessor/addSink, and the slice order is the
/// order nodes were added to the topology (nodeFactories insertion order; the group HashSet is
/// filled in that order). Returns, per node, (successors, predecessors) as indices in the exact
/// order Kafka's TreeSets iterate them after describeSubtopology's loop (nodesByName HashMap
/// iteration order, addPredecessor then addSuccessor then updateSize per edge, TreeMap
/// red-black insertion comparing with the sizes current at insertion time, NodeComparator =
/// size descending then String.compareTo on UTF-16 units; equal nodes (same name) are not
/// inserted twice).
///
/// Like Java, a node is inserted again if the descent through an (by then inconsistently
/// ordered) TreeSet misses its earlier entry; this can only happen when the same parent is
/// listed twice. Sizes use Java's wrapping `int` arithmetic. Parents that are out of range or
/// not earlier in the slice (both rejected by Kafka) are ignored; for a repeated name only the
/// first node takes part.
pub(crate) fn arrow_orders(nodes: &[(&str, Vec<usize>)]) -> Vec<(Vec<usize>, Vec<usize>)> {
    let described = describe(nodes);
    described
        .successors
        .iter()
        .zip(&described.predecessors)
        .map(|(successors, predecessors)| (successors.in_order(), predecessors.in_order()))
        .collect()
}

/// Final sizes (1 + sum of successors' sizes, counting paths), for the node order of the
/// sub-topology.
///
/// The node list of a sub-topology is a clean sort by (size descending, then name by
/// `String.compareTo`, i.e. UTF-16 order, not Rust's `str` order) with these sizes. They are
/// exact path counts (saturating at `usize::MAX`); Java keeps them in an `int`, so above
/// `i32::MAX` paths Java's value is this one truncated to 32 bits, and Java's node list order
/// then may depend on identity hash codes (it sorts a `HashSet` of nodes with a comparator
/// that overflow makes inconsistent), which cannot be reproduced. A parent listed twice counts
/// twice, as in Java.
pub(crate) fn subtree_sizes(nodes: &[(&str, Vec<usize>)]) -> Vec<usize> {
    describe(nodes).sizes
}

/// Tests against Kafka's own expected strings and against ground truth from Java 17.
#[cfg(test)]
mod tests {
    use super::*;

    // ----- Begin of the output of ground_truth.jsh (Java 17, real java.util collections). -----
    // Generated by ground_truth.jsh on OpenJDK 64-Bit Server VM 17.0.15.
    /// Names whose String.hashCode was taken from Java.
    const HASH_NAMES: &[&str] = &[
        "KSTREAM-SOURCE-0000000000",
        "KSTREAM-MAP-0000000001",
        "KSTREAM-FILTER-0000000002",
        "KSTREAM-MAPVALUES-0000000003",
        "KSTREAM-PROCESSOR-0000000004",
        "count-stream-repartition-filter",
        "count-stream-repartition-sink",
        "aggregate-stream-repartition-filter",
        "aggregate-stream-repartition-sink",
        "KSTREAM-FILTER-0000000020",
        "KSTREAM-PEEK-0000000021",
        "reduced-stream-repartition-filter",
        "reduced-stream-repartition-sink",
        "KSTREAM-FILTER-0000000029",
        "joined-stream-left-repartition-filter",
        "joined-stream-left-repartition-sink",
        "KTABLE-TOSTREAM-0000000011",
        "KSTREAM-AGGREGATE-STATE-STORE-0000000006",
        "input-topic",
        "\u{f1}and\u{fa}-\u{e9}",
        "\u{1f600}-emoji",
        "\u{ff5e}wide",
        "",
    ];
    /// `String.hashCode()` of HASH_NAMES (Java 17).
    const HASH_VALUES: &[i32] = &[
        1861603632,
        -492164684,
        -386227787,
        714310356,
        1234472769,
        -1026127843,
        1344569464,
        -849561395,
        517938472,
        -386227727,
        -265915473,
        -1394744820,
        1455917607,
        -386227718,
        -1428042965,
        1688284934,
        1837603560,
        -924153250,
        -1393968788,
        2021858256,
        -1200436388,
        248368945,
        0,
    ];
    /// Signs of `a.compareTo(b)` for consecutive pairs of HASH_NAMES (Java 17).
    const COMPARE_SIGNS: &[i32] =
        &[1, 1, -1, -1, -1, -1, 1, -1, 1, -1, -1, -1, 1, -1, -1, 1, 1, -1, -1, -1, -1, 1];
    /// Names of case REAL.
    const REAL_NAMES: &[&str] = &[
        "KSTREAM-SOURCE-0000000000",
        "KSTREAM-MAP-0000000001",
        "KSTREAM-FILTER-0000000002",
        "KSTREAM-MAPVALUES-0000000003",
        "KSTREAM-PROCESSOR-0000000004",
        "count-stream-repartition-filter",
        "count-stream-repartition-sink",
        "aggregate-stream-repartition-filter",
        "aggregate-stream-repartition-sink",
        "KSTREAM-FILTER-0000000020",
        "KSTREAM-PEEK-0000000021",
        "reduced-stream-repartition-filter",
        "reduced-stream-repartition-sink",
        "KSTREAM-FILTER-0000000029",
        "joined-stream-left-repartition-filter",
        "joined-stream-left-repartition-sink",
        "KTABLE-TOSTREAM-0000000011",
        "KSTREAM-AGGREGATE-STATE-STORE-0000000006",
        "input-topic",
        "\u{f1}and\u{fa}-\u{e9}",
        "\u{1f600}-emoji",
        "\u{ff5e}wide",
        "",
    ];
    /// `new HashSet<>()` + `add` in order, iterated (Java 17).
    const REAL_SET: &[usize] =
        &[12, 13, 22, 0, 18, 3, 15, 10, 14, 5, 9, 20, 2, 16, 7, 11, 19, 17, 4, 8, 6, 21, 1];
    /// `new HashSet<>(names)`, iterated (Java 17).
    const REAL_COPY: &[usize] =
        &[12, 13, 22, 0, 18, 3, 15, 10, 14, 5, 9, 20, 2, 16, 7, 11, 19, 17, 4, 8, 6, 21, 1];
    /// Names of case REAL3.
    const REAL3_NAMES: &[&str] =
        &["KSTREAM-SOURCE-0000000000", "KSTREAM-MAP-0000000001", "KSTREAM-FILTER-0000000002"];
    /// `new HashSet<>()` + `add` in order, iterated (Java 17).
    const REAL3_SET: &[usize] = &[0, 1, 2];
    /// `new HashSet<>(names)`, iterated (Java 17).
    const REAL3_COPY: &[usize] = &[0, 1, 2];
    /// Names of case REAL12.
    const REAL12_NAMES: &[&str] = &[
        "KSTREAM-SOURCE-0000000000",
        "KSTREAM-MAP-0000000001",
        "KSTREAM-FILTER-0000000002",
        "KSTREAM-MAPVALUES-0000000003",
        "KSTREAM-PROCESSOR-0000000004",
        "count-stream-repartition-filter",
        "count-stream-repartition-sink",
        "aggregate-stream-repartition-filter",
        "aggregate-stream-repartition-sink",
        "KSTREAM-FILTER-0000000020",
        "KSTREAM-PEEK-0000000021",
        "reduced-stream-repartition-filter",
    ];
    /// `new HashSet<>()` + `add` in order, iterated (Java 17).
    const REAL12_SET: &[usize] = &[7, 11, 0, 4, 3, 8, 10, 5, 9, 6, 1, 2];
    /// `new HashSet<>(names)`, iterated (Java 17).
    const REAL12_COPY: &[usize] = &[0, 3, 10, 5, 9, 2, 7, 11, 4, 8, 6, 1];
    /// Names of case REAL13.
    const REAL13_NAMES: &[&str] = &[
        "KSTREAM-SOURCE-0000000000",
        "KSTREAM-MAP-0000000001",
        "KSTREAM-FILTER-0000000002",
        "KSTREAM-MAPVALUES-0000000003",
        "KSTREAM-PROCESSOR-0000000004",
        "count-stream-repartition-filter",
        "count-stream-repartition-sink",
        "aggregate-stream-repartition-filter",
        "aggregate-stream-repartition-sink",
        "KSTREAM-FILTER-0000000020",
        "KSTREAM-PEEK-0000000021",
        "reduced-stream-repartition-filter",
        "reduced-stream-repartition-sink",
    ];
    /// `new HashSet<>()` + `add` in order, iterated (Java 17).
    const REAL13_SET: &[usize] = &[12, 0, 3, 10, 5, 9, 2, 7, 11, 4, 8, 6, 1];
    /// `new HashSet<>(names)`, iterated (Java 17).
    const REAL13_COPY: &[usize] = &[12, 0, 3, 10, 5, 9, 2, 7, 11, 4, 8, 6, 1];
    /// Names of case DUP.
    const DUP_NAMES: &[&str] =
        &["KSTREAM-SINK-0000000003", "KSTREAM-SOURCE-0000000000", "KSTREAM-SINK-0000000003", "x"];
    /// `new HashSet<>()` + `add` in order, iterated (Java 17).
    const DUP_SET: &[usize] = &[0, 1, 3];
    /// `new HashSet<>(names)`, iterated (Java 17).
    const DUP_COPY: &[usize] = &[0, 1, 3];
    /// Names of case TREE1.
    const TREE1_NAMES: &[&str] = &[
        "f0",
        "f1",
        "f2",
        "f3",
        "f4",
        "f5",
        "f6",
        "f7",
        "f8",
        "f9",
        "f10",
        "f11",
        "f12",
        "f13",
        "f14",
        "f15",
        "f16",
        "f17",
        "f18",
        "f19",
        "f20",
        "f21",
        "f22",
        "f23",
        "f24",
        "f25",
        "f26",
        "f27",
        "f28",
        "f29",
        "node-AaAaAaAa",
        "node-BBAaAaAa",
        "node-AaBBAaAa",
        "node-BBBBAaAa",
        "node-AaAaBBAa",
        "node-BBAaBBAa",
        "node-AaBBBBAa",
        "node-BBBBBBAa",
        "node-AaAaAaBB",
        "node-BBAaAaBB",
        "node-AaBBAaBB",
        "node-BBBBAaBB",
        "node-AaAaBBBB",
        "node-BBAaBBBB",
        "node-AaBBBBBB",
        "node-BBBBBBBB",
    ];
    /// `new HashSet<>()` + `add` in order, iterated (Java 17).
    const TREE1_SET: &[usize] = &[
        10, 12, 11, 14, 13, 0, 16, 1, 15, 2, 18, 3, 17, 4, 5, 19, 6, 7, 8, 9, 31, 32, 30, 39, 33,
        43, 34, 42, 35, 36, 44, 40, 37, 45, 41, 38, 21, 20, 23, 22, 25, 24, 27, 26, 29, 28,
    ];
    /// `new HashSet<>(names)`, iterated (Java 17).
    const TREE1_COPY: &[usize] = &[
        10, 12, 11, 14, 13, 0, 16, 1, 15, 2, 18, 3, 17, 4, 5, 19, 6, 7, 8, 9, 31, 32, 30, 39, 33,
        43, 34, 42, 35, 36, 44, 40, 37, 45, 41, 38, 21, 20, 23, 22, 25, 24, 27, 26, 29, 28,
    ];
    /// Names of case TREE2.
    const TREE2_NAMES: &[&str] = &[
        "f0",
        "f1",
        "f2",
        "f3",
        "f4",
        "f5",
        "f6",
        "f7",
        "f8",
        "f9",
        "f10",
        "f11",
        "f12",
        "f13",
        "f14",
        "f15",
        "f16",
        "f17",
        "f18",
        "f19",
        "f20",
        "f21",
        "f22",
        "f23",
        "f24",
        "f25",
        "node-AaAaAaAa",
        "node-BBAaAaAa",
        "node-AaBBAaAa",
        "node-BBBBAaAa",
        "node-AaAaBBAa",
        "node-BBAaBBAa",
        "node-AaBBBBAa",
        "node-BBBBBBAa",
        "grp47-AaAaAaAa",
        "grp47-BBAaAaAa",
        "grp47-AaBBAaAa",
        "grp47-BBBBAaAa",
        "grp47-AaAaBBAa",
        "grp47-BBAaBBAa",
        "grp47-AaBBBBAa",
        "grp47-BBBBBBAa",
        "g0",
        "g1",
        "g2",
        "g3",
        "g4",
        "g5",
        "g6",
        "g7",
        "g8",
        "g9",
        "g10",
        "g11",
        "g12",
        "g13",
        "g14",
        "g15",
        "g16",
        "g17",
        "g18",
        "g19",
    ];
    /// `new HashSet<>()` + `add` in order, iterated (Java 17).
    const TREE2_SET: &[usize] = &[
        10, 12, 11, 14, 13, 0, 16, 1, 15, 2, 18, 3, 17, 4, 5, 19, 6, 7, 8, 9, 28, 26, 27, 29, 30,
        31, 32, 33, 21, 20, 23, 22, 25, 24, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 53, 52, 55, 54,
        57, 56, 59, 58, 61, 60, 38, 34, 35, 40, 37, 41, 39, 36,
    ];
    /// `new HashSet<>(names)`, iterated (Java 17).
    const TREE2_COPY: &[usize] = &[
        10, 12, 11, 14, 13, 0, 16, 1, 15, 2, 18, 3, 17, 4, 5, 19, 6, 7, 8, 9, 26, 27, 28, 29, 30,
        31, 32, 33, 21, 20, 23, 22, 25, 24, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 53, 52, 55, 54,
        57, 56, 59, 58, 61, 60, 34, 35, 36, 37, 38, 39, 40, 41,
    ];
    /// Names of case TREE3.
    const TREE3_NAMES: &[&str] = &[
        "f0",
        "f1",
        "f2",
        "f3",
        "f4",
        "f5",
        "f6",
        "f7",
        "f8",
        "f9",
        "f10",
        "f11",
        "f12",
        "f13",
        "f14",
        "f15",
        "f16",
        "f17",
        "f18",
        "f19",
        "f20",
        "f21",
        "f22",
        "f23",
        "f24",
        "f25",
        "node-AaAaAaAa",
        "node-BBAaAaAa",
        "node-AaBBAaAa",
        "node-BBBBAaAa",
        "node-AaAaBBAa",
        "node-BBAaBBAa",
        "node-AaBBBBAa",
        "node-BBBBBBAa",
        "node-AaAaAaBB",
        "node-BBAaAaBB",
        "node-AaBBAaBB",
        "node-BBBBAaBB",
        "grp47-AaAaAaAa",
        "grp47-BBAaAaAa",
        "grp47-AaBBAaAa",
        "grp47-BBBBAaAa",
        "g0",
        "g1",
        "g2",
        "g3",
        "g4",
        "g5",
        "g6",
        "g7",
        "g8",
        "g9",
        "g10",
        "g11",
        "g12",
        "g13",
        "g14",
        "g15",
        "g16",
        "g17",
        "g18",
        "g19",
    ];
    /// `new HashSet<>()` + `add` in order, iterated (Java 17).
    const TREE3_SET: &[usize] = &[
        10, 12, 11, 14, 13, 0, 16, 1, 15, 2, 18, 3, 17, 4, 5, 19, 6, 7, 8, 9, 35, 27, 28, 26, 29,
        30, 31, 32, 36, 33, 37, 34, 21, 20, 23, 22, 25, 24, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51,
        53, 52, 55, 54, 57, 56, 59, 58, 61, 60, 41, 38, 40, 39,
    ];
    /// `new HashSet<>(names)`, iterated (Java 17).
    const TREE3_COPY: &[usize] = &[
        10, 12, 11, 14, 13, 0, 16, 1, 15, 2, 18, 3, 17, 4, 5, 19, 6, 7, 8, 9, 27, 28, 26, 35, 29,
        30, 31, 32, 36, 33, 37, 34, 21, 20, 23, 22, 25, 24, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51,
        53, 52, 55, 54, 57, 56, 59, 58, 61, 60, 38, 39, 40, 41,
    ];
    /// Names of case TREE4.
    const TREE4_NAMES: &[&str] = &[
        "node-AaAaAaAa",
        "node-BBAaAaAa",
        "node-AaBBAaAa",
        "node-BBBBAaAa",
        "node-AaAaBBAa",
        "node-BBAaBBAa",
        "node-AaBBBBAa",
        "node-BBBBBBAa",
        "node-AaAaAaBB",
        "node-BBAaAaBB",
        "node-AaBBAaBB",
        "node-BBBBAaBB",
        "node-AaAaBBBB",
        "node-BBAaBBBB",
        "node-AaBBBBBB",
        "node-BBBBBBBB",
        "f0",
        "f1",
        "f2",
        "f3",
        "f4",
        "f5",
        "f6",
        "f7",
        "f8",
        "f9",
        "f10",
        "f11",
        "f12",
        "f13",
        "f14",
        "f15",
        "f16",
        "f17",
        "f18",
        "f19",
        "f20",
        "f21",
        "f22",
        "f23",
        "f24",
        "f25",
        "f26",
        "f27",
        "f28",
        "f29",
        "f30",
        "f31",
        "f32",
        "f33",
        "f34",
        "f35",
        "f36",
        "f37",
        "f38",
        "f39",
    ];
    /// `new HashSet<>()` + `add` in order, iterated (Java 17).
    const TREE4_SET: &[usize] = &[
        26, 28, 27, 30, 29, 16, 32, 17, 31, 18, 34, 19, 33, 20, 21, 35, 22, 23, 24, 25, 1, 0, 2, 3,
        13, 4, 12, 5, 6, 14, 7, 15, 11, 8, 9, 10, 37, 36, 39, 38, 41, 40, 43, 42, 45, 44, 46, 48,
        47, 50, 49, 52, 51, 54, 53, 55,
    ];
    /// `new HashSet<>(names)`, iterated (Java 17).
    const TREE4_COPY: &[usize] = &[
        26, 28, 27, 30, 29, 16, 32, 17, 31, 18, 34, 19, 33, 20, 21, 35, 22, 23, 24, 25, 1, 2, 0, 9,
        3, 13, 4, 12, 5, 6, 14, 10, 7, 15, 11, 8, 37, 36, 39, 38, 41, 40, 43, 42, 45, 44, 46, 48,
        47, 50, 49, 52, 51, 54, 53, 55,
    ];
    /// Names of case TREE5.
    const TREE5_NAMES: &[&str] = &[
        "grp47-AaAaAaAa",
        "h0",
        "node-BBBBBBBB",
        "KSTREAM-MAP-0000000010",
        "grp47-BBAaAaAa",
        "h1",
        "node-AaBBBBBB",
        "KSTREAM-MAP-0000000011",
        "grp47-AaBBAaAa",
        "h2",
        "node-BBAaBBBB",
        "KSTREAM-MAP-0000000012",
        "grp47-BBBBAaAa",
        "h3",
        "node-AaAaBBBB",
        "KSTREAM-MAP-0000000013",
        "grp47-AaAaBBAa",
        "h4",
        "node-BBBBAaBB",
        "KSTREAM-MAP-0000000014",
        "grp47-BBAaBBAa",
        "h5",
        "node-AaBBAaBB",
        "KSTREAM-MAP-0000000015",
        "grp47-AaBBBBAa",
        "h6",
        "node-BBAaAaBB",
        "KSTREAM-MAP-0000000016",
        "grp47-BBBBBBAa",
        "h7",
        "node-AaAaAaBB",
        "KSTREAM-MAP-0000000017",
        "grp47-AaAaAaBB",
        "h8",
        "node-BBBBBBAa",
        "KSTREAM-MAP-0000000018",
        "grp47-BBAaAaBB",
        "h9",
        "node-AaBBBBAa",
        "KSTREAM-MAP-0000000019",
        "grp47-AaBBAaBB",
        "h10",
        "node-BBAaBBAa",
        "KSTREAM-MAP-0000000020",
        "grp47-BBBBAaBB",
        "h11",
        "node-AaAaBBAa",
        "KSTREAM-MAP-0000000021",
        "grp47-AaAaBBBB",
        "h12",
        "node-BBBBAaAa",
        "KSTREAM-MAP-0000000022",
        "grp47-BBAaBBBB",
        "h13",
        "node-AaBBAaAa",
        "KSTREAM-MAP-0000000023",
        "grp47-AaBBBBBB",
        "h14",
        "node-BBAaAaAa",
        "KSTREAM-MAP-0000000024",
        "grp47-BBBBBBBB",
        "h15",
        "node-AaAaAaAa",
        "KSTREAM-MAP-0000000025",
    ];
    /// `new HashSet<>()` + `add` in order, iterated (Java 17).
    const TREE5_SET: &[usize] = &[
        41, 49, 45, 57, 53, 61, 6, 14, 54, 2, 18, 34, 26, 58, 42, 22, 38, 10, 50, 30, 62, 46, 1, 5,
        9, 13, 17, 21, 25, 29, 33, 37, 47, 51, 43, 63, 55, 8, 4, 56, 0, 59, 32, 48, 24, 40, 12, 28,
        60, 44, 20, 52, 36, 16, 35, 39, 27, 31, 3, 7, 19, 23, 11, 15,
    ];
    /// `new HashSet<>(names)`, iterated (Java 17).
    const TREE5_COPY: &[usize] = &[
        41, 49, 45, 57, 53, 61, 6, 10, 2, 38, 14, 54, 18, 50, 22, 26, 58, 42, 30, 62, 46, 34, 1, 5,
        9, 13, 17, 21, 25, 29, 33, 37, 47, 51, 43, 63, 55, 4, 8, 0, 59, 36, 12, 52, 16, 48, 20, 24,
        56, 40, 28, 60, 44, 32, 35, 39, 27, 31, 3, 7, 19, 23, 11, 15,
    ];
    // ----- End of the output of ground_truth.jsh. -----

    /// Renders a node list the way Kafka's `nodeNames` does.
    fn render(names: &[&str], indices: &[usize]) -> String {
        if indices.is_empty() {
            return "none".to_owned();
        }
        indices.iter().map(|&i| names[i]).collect::<Vec<_>>().join(", ")
    }

    /// Number of tree bins left in the emulated table after inserting `names`.
    fn tree_bins(names: &[&str], copy: bool) -> usize {
        let keys = java_keys(names);
        let mut map = if copy {
            let capacity = ((names.len() as f32 / 0.75f32) as usize + 1).max(DEFAULT_CAPACITY);
            JavaHashMap::with_initial_capacity(&keys, capacity)
        } else {
            JavaHashMap::new(&keys)
        };
        for key in 0..names.len() {
            map.put(key);
        }
        map.table.iter().filter(|bin| bin.tree.is_some()).count()
    }

    /// `java_string_hash` equals Java's `String.hashCode`, including non-BMP and empty strings.
    #[test]
    fn string_hash_matches_java() {
        let ours: Vec<i32> = HASH_NAMES.iter().map(|name| java_string_hash(name)).collect();
        assert_eq!(ours, HASH_VALUES);
    }

    /// `JavaKey::compare_to` has the sign of Java's `String.compareTo` (UTF-16 order, where
    /// an emoji's surrogates sort before U+FF5E although its code point is larger).
    #[test]
    fn compare_to_matches_java() {
        let keys = java_keys(HASH_NAMES);
        let ours: Vec<i32> = keys
            .windows(2)
            .map(|pair| match pair[0].compare_to(&pair[1]) {
                Ordering::Less => -1,
                Ordering::Equal => 0,
                Ordering::Greater => 1,
            })
            .collect();
        assert_eq!(ours, COMPARE_SIGNS);
        assert_eq!(JavaKey::new("\u{1f600}").compare_to(&JavaKey::new("\u{ff5e}")), Ordering::Less);
    }

    /// Both `HashSet` orders match Java for realistic names, across the 13th-element resize,
    /// the copy constructor's 32-slot table for 12 names, and repeated names.
    #[test]
    fn hash_set_orders_match_java() {
        let cases = [
            (REAL_NAMES, REAL_SET, REAL_COPY),
            (REAL3_NAMES, REAL3_SET, REAL3_COPY),
            (REAL12_NAMES, REAL12_SET, REAL12_COPY),
            (REAL13_NAMES, REAL13_SET, REAL13_COPY),
            (DUP_NAMES, DUP_SET, DUP_COPY),
        ];
        for (names, set, copy) in cases {
            assert_eq!(hash_set_order(names), set, "new HashSet<>() of {names:?}");
            assert_eq!(hash_set_copy_order(names), copy, "new HashSet<>(c) of {names:?}");
        }
        // The 12-name case is the one where the copy constructor's capacity (32) differs from
        // the default growth (16), so the two orders must differ.
        assert_ne!(REAL12_SET, REAL12_COPY);
        assert!(hash_set_order(&[]).is_empty());
        assert!(hash_set_copy_order(&[]).is_empty());
    }

    /// Colliding names: bins that grow the table, tree bins, tree bins split on resize (both
    /// halves re-treeified, or one turned back into a chain) and a tree bin moved whole.
    #[test]
    fn tree_bins_match_java() {
        let cases = [
            (TREE1_NAMES, TREE1_SET, TREE1_COPY, (1, 1)),
            (TREE2_NAMES, TREE2_SET, TREE2_COPY, (2, 0)),
            (TREE3_NAMES, TREE3_SET, TREE3_COPY, (1, 1)),
            (TREE4_NAMES, TREE4_SET, TREE4_COPY, (1, 1)),
            (TREE5_NAMES, TREE5_SET, TREE5_COPY, (2, 2)),
        ];
        for (names, set, copy, (set_trees, copy_trees)) in cases {
            assert_eq!(hash_set_order(names), set, "new HashSet<>() of {names:?}");
            assert_eq!(hash_set_copy_order(names), copy, "new HashSet<>(c) of {names:?}");
            assert_eq!(tree_bins(names, false), set_trees, "tree bins, {names:?}");
            assert_eq!(tree_bins(names, true), copy_trees, "tree bins (copy), {names:?}");
        }
    }

    /// Builds `nodes` from `(name, parent names)`.
    fn topology<'a>(spec: &[(&'a str, &[&str])]) -> Vec<(&'a str, Vec<usize>)> {
        spec.iter()
            .map(|(name, parents)| {
                let parents = parents
                    .iter()
                    .map(|parent| {
                        spec.iter()
                            .position(|(candidate, _)| candidate == parent)
                            .unwrap_or_else(|| panic!("unknown parent {parent}"))
                    })
                    .collect();
                (*name, parents)
            })
            .collect()
    }

    /// Checks every `-->`/`<--` line and the node order of a sub-topology block printed by
    /// Kafka (`expected`, without the `Sub-topology: N` header).
    fn check_subtopology(spec: &[(&str, &[&str])], expected: &str) {
        let nodes = topology(spec);
        let names: Vec<&str> = nodes.iter().map(|(name, _)| *name).collect();
        let arrows = arrow_orders(&nodes);
        let sizes = subtree_sizes(&nodes);
        let mut printed_order = Vec::new();
        let mut lines = expected.lines().peekable();
        while let Some(header) = lines.next() {
            let (kind, rest) = header.trim_start().split_once(": ").expect("node header");
            let name = rest.split(" (").next().expect("node name");
            let index = names.iter().position(|n| *n == name).expect("node in spec");
            printed_order.push(index);
            let (successors, predecessors) = &arrows[index];
            let mut saw_successors = false;
            let mut saw_predecessors = false;
            while let Some(line) = lines.peek().filter(|line| line.starts_with("      ")) {
                if let Some(list) = line.strip_prefix("      --> ") {
                    assert_eq!(render(&names, successors), list, "--> of {name}");
                    saw_successors = true;
                } else if let Some(list) = line.strip_prefix("      <-- ") {
                    assert_eq!(render(&names, predecessors), list, "<-- of {name}");
                    saw_predecessors = true;
                } else {
                    panic!("unexpected line {line:?}");
                }
                lines.next();
            }
            assert_eq!(saw_successors, kind != "Sink", "{name}");
            assert_eq!(saw_predecessors, kind != "Source", "{name}");
            assert!(saw_successors || successors.is_empty());
            assert!(saw_predecessors || predecessors.is_empty());
        }
        let mut sorted: Vec<usize> = (0..nodes.len()).collect();
        let utf16 = |i: usize| names[i].encode_utf16().collect::<Vec<u16>>();
        sorted.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]).then_with(|| utf16(a).cmp(&utf16(b))));
        assert_eq!(printed_order, sorted, "node order");
    }

    /// RepartitionTopicNamingTest EXPECTED_UNOPTIMIZED_TOPOLOGY, sub-topology 0 (the E9 line).
    #[test]
    fn repartition_naming_unoptimized_subtopology_0() {
        let spec: &[(&str, &[&str])] = &[
            ("KSTREAM-SOURCE-0000000000", &[]),
            ("KSTREAM-MAP-0000000001", &["KSTREAM-SOURCE-0000000000"]),
            ("KSTREAM-FILTER-0000000002", &["KSTREAM-MAP-0000000001"]),
            ("KSTREAM-MAPVALUES-0000000003", &["KSTREAM-FILTER-0000000002"]),
            ("KSTREAM-PROCESSOR-0000000004", &["KSTREAM-MAPVALUES-0000000003"]),
            ("count-stream-repartition-filter", &["KSTREAM-MAP-0000000001"]),
            ("count-stream-repartition-sink", &["count-stream-repartition-filter"]),
            ("aggregate-stream-repartition-filter", &["KSTREAM-MAP-0000000001"]),
            ("aggregate-stream-repartition-sink", &["aggregate-stream-repartition-filter"]),
            ("KSTREAM-FILTER-0000000020", &["KSTREAM-MAP-0000000001"]),
            ("KSTREAM-PEEK-0000000021", &["KSTREAM-FILTER-0000000020"]),
            ("reduced-stream-repartition-filter", &["KSTREAM-PEEK-0000000021"]),
            ("reduced-stream-repartition-sink", &["reduced-stream-repartition-filter"]),
            ("KSTREAM-FILTER-0000000029", &["KSTREAM-MAP-0000000001"]),
            ("joined-stream-left-repartition-filter", &["KSTREAM-FILTER-0000000029"]),
            ("joined-stream-left-repartition-sink", &["joined-stream-left-repartition-filter"]),
        ];
        let expected = "    Source: KSTREAM-SOURCE-0000000000 (topics: [input])
      --> KSTREAM-MAP-0000000001
    Processor: KSTREAM-MAP-0000000001 (stores: [])
      --> KSTREAM-FILTER-0000000029, KSTREAM-FILTER-0000000002, KSTREAM-FILTER-0000000020, aggregate-stream-repartition-filter, count-stream-repartition-filter
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-FILTER-0000000020 (stores: [])
      --> KSTREAM-PEEK-0000000021
      <-- KSTREAM-MAP-0000000001
    Processor: KSTREAM-FILTER-0000000002 (stores: [])
      --> KSTREAM-MAPVALUES-0000000003
      <-- KSTREAM-MAP-0000000001
    Processor: KSTREAM-FILTER-0000000029 (stores: [])
      --> joined-stream-left-repartition-filter
      <-- KSTREAM-MAP-0000000001
    Processor: KSTREAM-PEEK-0000000021 (stores: [])
      --> reduced-stream-repartition-filter
      <-- KSTREAM-FILTER-0000000020
    Processor: KSTREAM-MAPVALUES-0000000003 (stores: [])
      --> KSTREAM-PROCESSOR-0000000004
      <-- KSTREAM-FILTER-0000000002
    Processor: aggregate-stream-repartition-filter (stores: [])
      --> aggregate-stream-repartition-sink
      <-- KSTREAM-MAP-0000000001
    Processor: count-stream-repartition-filter (stores: [])
      --> count-stream-repartition-sink
      <-- KSTREAM-MAP-0000000001
    Processor: joined-stream-left-repartition-filter (stores: [])
      --> joined-stream-left-repartition-sink
      <-- KSTREAM-FILTER-0000000029
    Processor: reduced-stream-repartition-filter (stores: [])
      --> reduced-stream-repartition-sink
      <-- KSTREAM-PEEK-0000000021
    Processor: KSTREAM-PROCESSOR-0000000004 (stores: [])
      --> none
      <-- KSTREAM-MAPVALUES-0000000003
    Sink: aggregate-stream-repartition-sink (topic: aggregate-stream-repartition)
      <-- aggregate-stream-repartition-filter
    Sink: count-stream-repartition-sink (topic: count-stream-repartition)
      <-- count-stream-repartition-filter
    Sink: joined-stream-left-repartition-sink (topic: joined-stream-left-repartition)
      <-- joined-stream-left-repartition-filter
    Sink: reduced-stream-repartition-sink (topic: reduced-stream-repartition)
      <-- reduced-stream-repartition-filter
";
        check_subtopology(spec, expected);
        // The fan-out is not a plain sort: final sizes are 3, 3, 4, 2, 2.
        let nodes = topology(spec);
        let sizes = subtree_sizes(&nodes);
        assert_eq!([sizes[13], sizes[2], sizes[9], sizes[7], sizes[5]], [3, 3, 4, 2, 2]);
    }

    /// RepartitionTopicNamingTest EXPECTED_UNOPTIMIZED_TOPOLOGY, sub-topology 1 (join merge).
    #[test]
    fn repartition_naming_unoptimized_subtopology_1() {
        let spec: &[(&str, &[&str])] = &[
            ("count-stream-repartition-source", &[]),
            ("KSTREAM-AGGREGATE-0000000007", &["count-stream-repartition-source"]),
            ("KTABLE-TOSTREAM-0000000011", &["KSTREAM-AGGREGATE-0000000007"]),
            ("KSTREAM-SINK-0000000012", &["KTABLE-TOSTREAM-0000000011"]),
            ("joined-stream-left-repartition-source", &[]),
            ("joined-stream-this-windowed", &["joined-stream-left-repartition-source"]),
            ("joined-stream-other-windowed", &["KTABLE-TOSTREAM-0000000011"]),
            ("joined-stream-this-join", &["joined-stream-this-windowed"]),
            ("joined-stream-other-join", &["joined-stream-other-windowed"]),
            ("joined-stream-merge", &["joined-stream-this-join", "joined-stream-other-join"]),
            ("KSTREAM-SINK-0000000038", &["joined-stream-merge"]),
        ];
        let expected =
            "    Source: count-stream-repartition-source (topics: [count-stream-repartition])
      --> KSTREAM-AGGREGATE-0000000007
    Processor: KSTREAM-AGGREGATE-0000000007 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000006])
      --> KTABLE-TOSTREAM-0000000011
      <-- count-stream-repartition-source
    Processor: KTABLE-TOSTREAM-0000000011 (stores: [])
      --> KSTREAM-SINK-0000000012, joined-stream-other-windowed
      <-- KSTREAM-AGGREGATE-0000000007
    Source: joined-stream-left-repartition-source (topics: [joined-stream-left-repartition])
      --> joined-stream-this-windowed
    Processor: joined-stream-other-windowed (stores: [joined-stream-other-join-store])
      --> joined-stream-other-join
      <-- KTABLE-TOSTREAM-0000000011
    Processor: joined-stream-this-windowed (stores: [joined-stream-this-join-store])
      --> joined-stream-this-join
      <-- joined-stream-left-repartition-source
    Processor: joined-stream-other-join (stores: [joined-stream-this-join-store])
      --> joined-stream-merge
      <-- joined-stream-other-windowed
    Processor: joined-stream-this-join (stores: [joined-stream-other-join-store])
      --> joined-stream-merge
      <-- joined-stream-this-windowed
    Processor: joined-stream-merge (stores: [])
      --> KSTREAM-SINK-0000000038
      <-- joined-stream-this-join, joined-stream-other-join
    Sink: KSTREAM-SINK-0000000012 (topic: outputTopic_0)
      <-- KTABLE-TOSTREAM-0000000011
    Sink: KSTREAM-SINK-0000000038 (topic: outputTopicForJoin)
      <-- joined-stream-merge
";
        check_subtopology(spec, expected);
    }

    /// RepartitionTopicNamingTest EXPECTED_OPTIMIZED_TOPOLOGY, both sub-topologies.
    #[test]
    fn repartition_naming_optimized() {
        let spec: &[(&str, &[&str])] = &[
            ("KSTREAM-SOURCE-0000000000", &[]),
            ("KSTREAM-MAP-0000000001", &["KSTREAM-SOURCE-0000000000"]),
            ("KSTREAM-FILTER-0000000002", &["KSTREAM-MAP-0000000001"]),
            ("KSTREAM-MAPVALUES-0000000003", &["KSTREAM-FILTER-0000000002"]),
            ("KSTREAM-PROCESSOR-0000000004", &["KSTREAM-MAPVALUES-0000000003"]),
            ("count-stream-repartition-filter", &["KSTREAM-MAP-0000000001"]),
            ("count-stream-repartition-sink", &["count-stream-repartition-filter"]),
        ];
        let expected = "    Source: KSTREAM-SOURCE-0000000000 (topics: [input])
      --> KSTREAM-MAP-0000000001
    Processor: KSTREAM-MAP-0000000001 (stores: [])
      --> KSTREAM-FILTER-0000000002, count-stream-repartition-filter
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-FILTER-0000000002 (stores: [])
      --> KSTREAM-MAPVALUES-0000000003
      <-- KSTREAM-MAP-0000000001
    Processor: KSTREAM-MAPVALUES-0000000003 (stores: [])
      --> KSTREAM-PROCESSOR-0000000004
      <-- KSTREAM-FILTER-0000000002
    Processor: count-stream-repartition-filter (stores: [])
      --> count-stream-repartition-sink
      <-- KSTREAM-MAP-0000000001
    Processor: KSTREAM-PROCESSOR-0000000004 (stores: [])
      --> none
      <-- KSTREAM-MAPVALUES-0000000003
    Sink: count-stream-repartition-sink (topic: count-stream-repartition)
      <-- count-stream-repartition-filter
";
        check_subtopology(spec, expected);

        let spec: &[(&str, &[&str])] = &[
            ("count-stream-repartition-source", &[]),
            ("KSTREAM-AGGREGATE-0000000007", &["count-stream-repartition-source"]),
            ("KTABLE-TOSTREAM-0000000011", &["KSTREAM-AGGREGATE-0000000007"]),
            ("KSTREAM-SINK-0000000012", &["KTABLE-TOSTREAM-0000000011"]),
            ("KSTREAM-AGGREGATE-0000000014", &["count-stream-repartition-source"]),
            ("KTABLE-TOSTREAM-0000000018", &["KSTREAM-AGGREGATE-0000000014"]),
            ("KSTREAM-SINK-0000000019", &["KTABLE-TOSTREAM-0000000018"]),
            ("KSTREAM-FILTER-0000000020", &["count-stream-repartition-source"]),
            ("KSTREAM-PEEK-0000000021", &["KSTREAM-FILTER-0000000020"]),
            ("KSTREAM-REDUCE-0000000023", &["KSTREAM-PEEK-0000000021"]),
            ("KTABLE-TOSTREAM-0000000027", &["KSTREAM-REDUCE-0000000023"]),
            ("KSTREAM-SINK-0000000028", &["KTABLE-TOSTREAM-0000000027"]),
            ("KSTREAM-FILTER-0000000029", &["count-stream-repartition-source"]),
            ("joined-stream-this-windowed", &["KSTREAM-FILTER-0000000029"]),
            ("joined-stream-other-windowed", &["KTABLE-TOSTREAM-0000000011"]),
            ("joined-stream-this-join", &["joined-stream-this-windowed"]),
            ("joined-stream-other-join", &["joined-stream-other-windowed"]),
            ("joined-stream-merge", &["joined-stream-this-join", "joined-stream-other-join"]),
            ("KSTREAM-SINK-0000000038", &["joined-stream-merge"]),
        ];
        let expected = "    Source: count-stream-repartition-source (topics: [count-stream-repartition])
      --> KSTREAM-FILTER-0000000020, KSTREAM-AGGREGATE-0000000007, KSTREAM-AGGREGATE-0000000014, KSTREAM-FILTER-0000000029
    Processor: KSTREAM-AGGREGATE-0000000007 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000006])
      --> KTABLE-TOSTREAM-0000000011
      <-- count-stream-repartition-source
    Processor: KTABLE-TOSTREAM-0000000011 (stores: [])
      --> joined-stream-other-windowed, KSTREAM-SINK-0000000012
      <-- KSTREAM-AGGREGATE-0000000007
    Processor: KSTREAM-FILTER-0000000020 (stores: [])
      --> KSTREAM-PEEK-0000000021
      <-- count-stream-repartition-source
    Processor: KSTREAM-FILTER-0000000029 (stores: [])
      --> joined-stream-this-windowed
      <-- count-stream-repartition-source
    Processor: KSTREAM-PEEK-0000000021 (stores: [])
      --> KSTREAM-REDUCE-0000000023
      <-- KSTREAM-FILTER-0000000020
    Processor: joined-stream-other-windowed (stores: [joined-stream-other-join-store])
      --> joined-stream-other-join
      <-- KTABLE-TOSTREAM-0000000011
    Processor: joined-stream-this-windowed (stores: [joined-stream-this-join-store])
      --> joined-stream-this-join
      <-- KSTREAM-FILTER-0000000029
    Processor: KSTREAM-AGGREGATE-0000000014 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000013])
      --> KTABLE-TOSTREAM-0000000018
      <-- count-stream-repartition-source
    Processor: KSTREAM-REDUCE-0000000023 (stores: [KSTREAM-REDUCE-STATE-STORE-0000000022])
      --> KTABLE-TOSTREAM-0000000027
      <-- KSTREAM-PEEK-0000000021
    Processor: joined-stream-other-join (stores: [joined-stream-this-join-store])
      --> joined-stream-merge
      <-- joined-stream-other-windowed
    Processor: joined-stream-this-join (stores: [joined-stream-other-join-store])
      --> joined-stream-merge
      <-- joined-stream-this-windowed
    Processor: KTABLE-TOSTREAM-0000000018 (stores: [])
      --> KSTREAM-SINK-0000000019
      <-- KSTREAM-AGGREGATE-0000000014
    Processor: KTABLE-TOSTREAM-0000000027 (stores: [])
      --> KSTREAM-SINK-0000000028
      <-- KSTREAM-REDUCE-0000000023
    Processor: joined-stream-merge (stores: [])
      --> KSTREAM-SINK-0000000038
      <-- joined-stream-this-join, joined-stream-other-join
    Sink: KSTREAM-SINK-0000000012 (topic: outputTopic_0)
      <-- KTABLE-TOSTREAM-0000000011
    Sink: KSTREAM-SINK-0000000019 (topic: outputTopic_1)
      <-- KTABLE-TOSTREAM-0000000018
    Sink: KSTREAM-SINK-0000000028 (topic: outputTopic_2)
      <-- KTABLE-TOSTREAM-0000000027
    Sink: KSTREAM-SINK-0000000038 (topic: outputTopicForJoin)
      <-- joined-stream-merge
";
        check_subtopology(spec, expected);
    }

    /// StreamsGraphTest expectedFullTopology (E5): the merge lists JOINTHIS before JOINOTHER
    /// although their final sizes are equal and name order would put JOINOTHER first.
    #[test]
    fn stream_stream_join_merge() {
        let spec: &[(&str, &[&str])] = &[
            ("KSTREAM-SOURCE-0000000000", &[]),
            ("KSTREAM-SOURCE-0000000001", &[]),
            ("KSTREAM-WINDOWED-0000000002", &["KSTREAM-SOURCE-0000000000"]),
            ("KSTREAM-WINDOWED-0000000003", &["KSTREAM-SOURCE-0000000001"]),
            ("KSTREAM-JOINTHIS-0000000004", &["KSTREAM-WINDOWED-0000000002"]),
            ("KSTREAM-JOINOTHER-0000000005", &["KSTREAM-WINDOWED-0000000003"]),
            (
                "KSTREAM-MERGE-0000000006",
                &["KSTREAM-JOINTHIS-0000000004", "KSTREAM-JOINOTHER-0000000005"],
            ),
            ("KSTREAM-FILTER-0000000007", &["KSTREAM-MERGE-0000000006"]),
            ("KSTREAM-MAPVALUES-0000000008", &["KSTREAM-FILTER-0000000007"]),
            ("KSTREAM-SINK-0000000009", &["KSTREAM-MAPVALUES-0000000008"]),
        ];
        let expected = "    Source: KSTREAM-SOURCE-0000000000 (topics: [topic])
      --> KSTREAM-WINDOWED-0000000002
    Source: KSTREAM-SOURCE-0000000001 (topics: [other-topic])
      --> KSTREAM-WINDOWED-0000000003
    Processor: KSTREAM-WINDOWED-0000000002 (stores: [KSTREAM-JOINTHIS-0000000004-store])
      --> KSTREAM-JOINTHIS-0000000004
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-WINDOWED-0000000003 (stores: [KSTREAM-JOINOTHER-0000000005-store])
      --> KSTREAM-JOINOTHER-0000000005
      <-- KSTREAM-SOURCE-0000000001
    Processor: KSTREAM-JOINOTHER-0000000005 (stores: [KSTREAM-JOINTHIS-0000000004-store])
      --> KSTREAM-MERGE-0000000006
      <-- KSTREAM-WINDOWED-0000000003
    Processor: KSTREAM-JOINTHIS-0000000004 (stores: [KSTREAM-JOINOTHER-0000000005-store])
      --> KSTREAM-MERGE-0000000006
      <-- KSTREAM-WINDOWED-0000000002
    Processor: KSTREAM-MERGE-0000000006 (stores: [])
      --> KSTREAM-FILTER-0000000007
      <-- KSTREAM-JOINTHIS-0000000004, KSTREAM-JOINOTHER-0000000005
    Processor: KSTREAM-FILTER-0000000007 (stores: [])
      --> KSTREAM-MAPVALUES-0000000008
      <-- KSTREAM-MERGE-0000000006
    Processor: KSTREAM-MAPVALUES-0000000008 (stores: [])
      --> KSTREAM-SINK-0000000009
      <-- KSTREAM-FILTER-0000000007
    Sink: KSTREAM-SINK-0000000009 (topic: output-topic)
      <-- KSTREAM-MAPVALUES-0000000008
";
        check_subtopology(spec, expected);
    }

    /// StreamsGraphTest expectedMergeOptimizedTopology (E6): three-way fan-out and two merges.
    #[test]
    fn three_branch_merge() {
        let spec: &[(&str, &[&str])] = &[
            ("KSTREAM-SOURCE-0000000000", &[]),
            ("KSTREAM-KEY-SELECT-0000000001", &["KSTREAM-SOURCE-0000000000"]),
            ("KSTREAM-MAPVALUES-0000000002", &["KSTREAM-KEY-SELECT-0000000001"]),
            ("KSTREAM-MAPVALUES-0000000003", &["KSTREAM-KEY-SELECT-0000000001"]),
            ("KSTREAM-MAPVALUES-0000000004", &["KSTREAM-KEY-SELECT-0000000001"]),
            (
                "KSTREAM-MERGE-0000000005",
                &["KSTREAM-MAPVALUES-0000000002", "KSTREAM-MAPVALUES-0000000003"],
            ),
            (
                "KSTREAM-MERGE-0000000006",
                &["KSTREAM-MERGE-0000000005", "KSTREAM-MAPVALUES-0000000004"],
            ),
            ("KSTREAM-SINK-0000000007", &["KSTREAM-MERGE-0000000006"]),
        ];
        let nodes = topology(spec);
        let names: Vec<&str> = nodes.iter().map(|(name, _)| *name).collect();
        let arrows = arrow_orders(&nodes);
        assert_eq!(
            render(&names, &arrows[1].0),
            "KSTREAM-MAPVALUES-0000000002, KSTREAM-MAPVALUES-0000000003, KSTREAM-MAPVALUES-0000000004"
        );
        assert_eq!(
            render(&names, &arrows[5].1),
            "KSTREAM-MAPVALUES-0000000002, KSTREAM-MAPVALUES-0000000003"
        );
        assert_eq!(
            render(&names, &arrows[6].1),
            "KSTREAM-MERGE-0000000005, KSTREAM-MAPVALUES-0000000004"
        );
    }

    /// A plain chain: SuppressTopologyTest (E4), sub-topology 1.
    #[test]
    fn plain_chain() {
        let spec: &[(&str, &[&str])] = &[
            ("counts-repartition-source", &[]),
            ("KSTREAM-AGGREGATE-0000000002", &["counts-repartition-source"]),
            ("KTABLE-SUPPRESS-0000000006", &["KSTREAM-AGGREGATE-0000000002"]),
            ("KTABLE-TOSTREAM-0000000008", &["KTABLE-SUPPRESS-0000000006"]),
            ("KSTREAM-MAP-0000000009", &["KTABLE-TOSTREAM-0000000008"]),
            ("KSTREAM-SINK-0000000010", &["KSTREAM-MAP-0000000009"]),
        ];
        let expected = "    Source: counts-repartition-source (topics: [counts-repartition])
      --> KSTREAM-AGGREGATE-0000000002
    Processor: KSTREAM-AGGREGATE-0000000002 (stores: [counts])
      --> KTABLE-SUPPRESS-0000000006
      <-- counts-repartition-source
    Processor: KTABLE-SUPPRESS-0000000006 (stores: [KTABLE-SUPPRESS-STATE-STORE-0000000007])
      --> KTABLE-TOSTREAM-0000000008
      <-- KSTREAM-AGGREGATE-0000000002
    Processor: KTABLE-TOSTREAM-0000000008 (stores: [])
      --> KSTREAM-MAP-0000000009
      <-- KTABLE-SUPPRESS-0000000006
    Processor: KSTREAM-MAP-0000000009 (stores: [])
      --> KSTREAM-SINK-0000000010
      <-- KTABLE-TOSTREAM-0000000008
    Sink: KSTREAM-SINK-0000000010 (topic: output-suppressed)
      <-- KSTREAM-MAP-0000000009
";
        check_subtopology(spec, expected);
        assert_eq!(subtree_sizes(&topology(spec)), [6, 5, 4, 3, 2, 1]);
    }

    /// Degenerate inputs do not panic: no nodes, out-of-range and forward parents (ignored).
    #[test]
    fn degenerate_inputs() {
        assert!(arrow_orders(&[]).is_empty());
        assert!(subtree_sizes(&[]).is_empty());
        let nodes = [("a", vec![7]), ("b", vec![0, 2]), ("c", vec![1])];
        assert_eq!(
            arrow_orders(&nodes),
            [(vec![1], vec![]), (vec![2], vec![0]), (vec![], vec![1])]
        );
        assert_eq!(subtree_sizes(&nodes), [3, 2, 1]);
    }

    /// Path to the Java-generated fixture of the random cross-check.
    const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/random_dags.txt");
    /// One DAG of the fixture with Java's answers.
    #[derive(Default)]
    struct FixtureDag {
        /// The `dag` line.
        id: String,
        /// `(name, parents)`.
        nodes: Vec<(String, Vec<usize>)>,
        /// `String.hashCode()` per node.
        hashes: Vec<i32>,
        /// `new HashSet<>()` order.
        set: Vec<usize>,
        /// `new HashSet<>(names)` order.
        copy: Vec<usize>,
        /// Java's final `size` per node.
        sizes: Vec<i32>,
        /// Successor order per node.
        successors: Vec<Vec<usize>>,
        /// Predecessor order per node.
        predecessors: Vec<Vec<usize>>,
    }

    /// Parses a list of numbers separated by `separator`.
    fn numbers<T: std::str::FromStr>(text: &str, separator: char) -> Vec<T> {
        text.split(separator)
            .filter(|part| !part.is_empty())
            .map(|part| part.parse().ok().expect("a number"))
            .collect()
    }

    /// Parses the output of `Check.java`.
    fn parse_fixture(text: &str) -> Vec<FixtureDag> {
        let mut dags = Vec::new();
        let mut dag = FixtureDag::default();
        for line in text.lines() {
            let (tag, rest) = line.split_once(' ').unwrap_or((line, ""));
            match tag {
                "dag" => dag.id = rest.to_owned(),
                "node" => {
                    let (name, parents) = rest.split_once('\t').expect("node line");
                    dag.nodes.push((name.to_owned(), numbers(parents, ',')));
                }
                "hash" => dag.hashes = numbers(rest, ' '),
                "set" => dag.set = numbers(rest, ' '),
                "copy" => dag.copy = numbers(rest, ' '),
                "size" => dag.sizes = numbers(rest, ' '),
                "succ" => dag.successors.push(numbers(rest.split_once('\t').expect("succ").1, ',')),
                "pred" => {
                    dag.predecessors.push(numbers(rest.split_once('\t').expect("pred").1, ','))
                }
                "end" => dags.push(std::mem::take(&mut dag)),
                _ => panic!("unexpected fixture line {line:?}"),
            }
        }
        dags
    }

    /// 200 random DAGs (plus one whose sizes overflow `int`) against Java's answers from
    /// `Check.java` (real `HashSet`/`HashMap`/`TreeSet`, Kafka's loop and comparator).
    #[test]
    fn random_dags_match_java() {
        let text = std::fs::read_to_string(FIXTURE).expect("fixtures/random_dags.txt");
        let dags = parse_fixture(&text);
        assert_eq!(dags.len(), 201);
        let mut mismatches = Vec::new();
        let (mut with_tree_bins, mut overflowing, mut repeated_parents) = (0, 0, 0);
        let mut duplicated_entries = 0;
        for dag in &dags {
            let nodes: Vec<(&str, Vec<usize>)> =
                dag.nodes.iter().map(|(name, parents)| (name.as_str(), parents.clone())).collect();
            let names: Vec<&str> = nodes.iter().map(|(name, _)| *name).collect();
            let hashes: Vec<i32> = names.iter().map(|name| java_string_hash(name)).collect();
            let sizes: Vec<i32> = subtree_sizes(&nodes).iter().map(|&s| s as u32 as i32).collect();
            let (successors, predecessors): (Vec<_>, Vec<_>) =
                arrow_orders(&nodes).into_iter().unzip();
            let checks = [
                ("hash", hashes == dag.hashes),
                ("set", hash_set_order(&names) == dag.set),
                ("copy", hash_set_copy_order(&names) == dag.copy),
                ("size", sizes == dag.sizes),
                ("succ", successors == dag.successors),
                ("pred", predecessors == dag.predecessors),
            ];
            for (what, ok) in checks {
                if !ok {
                    mismatches.push(format!("dag {}: {what}", dag.id));
                }
            }
            with_tree_bins += usize::from(tree_bins(&names, false) > 0);
            overflowing += usize::from(dag.sizes.iter().any(|&s| s < 0));
            duplicated_entries += successors
                .iter()
                .chain(&predecessors)
                .filter(|list| list.iter().enumerate().any(|(i, x)| list[..i].contains(x)))
                .count();
            repeated_parents += usize::from(
                nodes.iter().any(|(_, p)| p.iter().enumerate().any(|(i, x)| p[..i].contains(x))),
            );
        }
        assert!(mismatches.is_empty(), "{} mismatches: {mismatches:?}", mismatches.len());
        // The fixture really exercises tree bins, int overflow and repeated parents.
        assert!(with_tree_bins >= 5, "{with_tree_bins} DAGs with tree bins");
        assert!(overflowing >= 1);
        assert!(repeated_parents >= 3, "{repeated_parents} DAGs with a repeated parent");
        // Java's TreeSet holding one node twice (a repeated parent met an inconsistent order).
        assert!(duplicated_entries >= 1, "{duplicated_entries} lists with a node twice");
    }
}
