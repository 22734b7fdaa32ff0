//! `StreamsBuilder`: where a DSL topology starts, and the name counter every operator draws from.

use std::cell::RefCell;
use std::rc::Rc;

use streams_core::{Source, Topology, TopologyError};

use crate::config::Consumed;
use crate::kstream::KStream;

/// What the builder and every stream built from it share.
pub(crate) struct BuilderState {
    pub(crate) topology: Topology,
    /// Kafka's one counter per builder for generated processor and store names.
    index: usize,
    /// The first error; `build` returns it.
    pub(crate) error: Option<TopologyError>,
}

impl BuilderState {
    /// The next generated name: `prefix` and the counter, zero-padded to ten digits
    /// (`KSTREAM-MAPVALUES-0000000001`).
    pub(crate) fn new_name(&mut self, prefix: &str) -> String {
        let name = format!("{prefix}{:010}", self.index);
        self.index += 1;
        name
    }

    /// Keeps the first error of a topology call.
    pub(crate) fn record<T>(&mut self, result: Result<T, TopologyError>) {
        if let Err(e) = result {
            self.error.get_or_insert(e);
        }
    }
}

pub(crate) type Shared = Rc<RefCell<BuilderState>>;

/// Builds a topology with the DSL (Kafka's `StreamsBuilder`).
///
/// ```
/// use streams_dsl::prelude::*;
///
/// let builder = StreamsBuilder::new();
/// builder
///     .stream::<Option<String>, String>("sentences")
///     .flat_map_values(|line| line.split(' ').map(str::to_string).collect::<Vec<_>>())
///     .filter(|_, word| !word.is_empty())
///     .to("words");
/// let topology = builder.build().unwrap();
/// assert_eq!(topology.describe().subtopologies.len(), 1);
/// ```
pub struct StreamsBuilder {
    state: Shared,
}

impl std::fmt::Debug for StreamsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamsBuilder").finish_non_exhaustive()
    }
}

impl Default for StreamsBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl StreamsBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self {
            state: Rc::new(RefCell::new(BuilderState {
                topology: Topology::new(),
                index: 0,
                error: None,
            })),
        }
    }

    /// A stream of the records of `topic`, with the default serdes for `K` and `V`.
    pub fn stream<K: Clone + 'static, V: Clone + 'static>(&self, topic: &str) -> KStream<K, V> {
        self.stream_with(&[topic], Consumed::default())
    }

    /// A stream of the records of several topics.
    pub fn stream_from<K: Clone + 'static, V: Clone + 'static>(
        &self,
        topics: &[&str],
    ) -> KStream<K, V> {
        self.stream_with(topics, Consumed::default())
    }

    /// A stream of the records of every topic whose whole name matches the regular expression
    /// `pattern`, including topics created later.
    pub fn stream_pattern<K: Clone + 'static, V: Clone + 'static>(
        &self,
        pattern: &str,
        consumed: Consumed<K, V>,
    ) -> KStream<K, V> {
        self.add_source(Source::pattern(pattern), consumed)
    }

    /// A stream of `topics` with serdes, a name or a timestamp extractor from `consumed`.
    pub fn stream_with<K: Clone + 'static, V: Clone + 'static>(
        &self,
        topics: &[&str],
        consumed: Consumed<K, V>,
    ) -> KStream<K, V> {
        self.add_source(Source::topics(topics), consumed)
    }

    fn add_source<K: Clone + 'static, V: Clone + 'static>(
        &self,
        source: Source<K, V>,
        consumed: Consumed<K, V>,
    ) -> KStream<K, V> {
        let mut st = self.state.borrow_mut();
        let generated = st.new_name("KSTREAM-SOURCE-");
        let name = consumed.name.clone().unwrap_or(generated);
        let (source, key_serde, value_serde) = consumed.apply(source);
        let result = st.topology.add_source_with(&name, source).map(|_| ());
        st.record(result);
        drop(st);
        KStream::new(self.state.clone(), name, key_serde, value_serde)
    }

    /// The topic `topic` read as a table (Kafka's `builder.table`): each record upserts its key,
    /// a null value deletes it. Materialized in a store named `<topic>-STATE-STORE-<n>` unless
    /// `materialized` names it.
    pub fn table<K: Clone + 'static, V: Clone + 'static>(
        &self,
        topic: &str,
        consumed: Consumed<K, Option<V>>,
        materialized: crate::materialized::Materialized<K, V>,
    ) -> crate::ktable::KTable<K, V> {
        let store_name = match &materialized.name {
            Some(n) => n.clone(),
            None => self.state.borrow_mut().new_name(&format!("{topic}-STATE-STORE-")),
        };
        let source = self.add_source(Source::topics(&[topic]), consumed);
        let processor = self.state.borrow_mut().new_name("KTABLE-SOURCE-");
        let key_serde = materialized.key_serde.clone().or_else(|| source.key_serde.clone());
        {
            let mut st = self.state.borrow_mut();
            let mut m = materialized;
            m.key_serde = key_serde.clone();
            let r = st.topology.add_state_store(m.store(&store_name), &[]).map(|_| ());
            st.record(r);
        }
        let name: std::sync::Arc<str> = std::sync::Arc::from(store_name.as_str());
        let node: KStream<K, crate::ktable::Change<V>> = source
            .then(processor.clone(), move || {
                crate::ktable::source::TableSource::<K, V>::new(name.clone())
            });
        {
            let mut st = self.state.borrow_mut();
            let r = st.topology.connect_store(&processor, &store_name).map(|_| ());
            st.record(r);
        }
        crate::ktable::KTable::new(self.state.clone(), node.node, Some(store_name), key_serde, None)
    }

    /// The topic `topic` read in full by every instance as a [`GlobalKTable`](crate::GlobalKTable)
    /// (Kafka's `builder.globalTable`): each record upserts its key, a null value deletes it. The
    /// table is materialized in a store named `<topic>-STATE-STORE-<n>` unless `materialized`
    /// names it; the store has no changelog (the topic is one), so `materialized`'s logging
    /// settings are ignored.
    pub fn global_table<K: Clone + 'static, V: Clone + 'static>(
        &self,
        topic: &str,
        consumed: Consumed<K, Option<V>>,
        materialized: crate::materialized::Materialized<K, V>,
    ) -> crate::GlobalKTable<K, V> {
        let mut st = self.state.borrow_mut();
        let store_name = match &materialized.name {
            Some(n) => n.clone(),
            None => st.new_name(&format!("{topic}-STATE-STORE-")),
        };
        let generated = st.new_name("KSTREAM-SOURCE-");
        let source_name = consumed.name.clone().unwrap_or(generated);
        let (source, key_serde, _) = consumed.apply(Source::topics(&[topic]));
        let processor = st.new_name("KTABLE-SOURCE-");
        let mut m = materialized;
        m.key_serde = m.key_serde.or(key_serde);
        let store = m.store(&store_name).with_logging_disabled();
        let r = st.topology.add_global_store(store, &source_name, source, &processor).map(|_| ());
        st.record(r);
        crate::GlobalKTable::new(store_name)
    }

    /// The topology built so far, or the first error any operation met (a duplicate name, say).
    pub fn build(self) -> Result<Topology, TopologyError> {
        let mut st = self.state.borrow_mut();
        if let Some(e) = st.error.take() {
            return Err(e);
        }
        Ok(std::mem::take(&mut st.topology))
    }
}
