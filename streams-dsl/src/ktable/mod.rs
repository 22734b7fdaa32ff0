//! `KTable`: a changelog stream seen as a table, one value per key; updates flow as [`Change`]s.

mod change;
mod filter;
pub(crate) mod flushed;
pub(crate) mod group_by;
mod map_values;
pub(crate) mod source;
mod to_stream;

use std::marker::PhantomData;

use streams_core::SharedSerde;

pub use change::Change;

use crate::builder::Shared;

/// A table: the latest value per key (Kafka's `KTable`). Built by aggregations and by
/// `StreamsBuilder::table`. A `None` new value in a [`Change`] is a delete (a tombstone).
pub struct KTable<K, V> {
    pub(crate) builder: Shared,
    pub(crate) node: String,
    /// The store holding the table, if it is materialized (its name is what queries use).
    pub(crate) store: Option<String>,
    pub(crate) key_serde: Option<SharedSerde<K>>,
    pub(crate) value_serde: Option<SharedSerde<V>>,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Clone for KTable<K, V> {
    fn clone(&self) -> Self {
        Self {
            builder: self.builder.clone(),
            node: self.node.clone(),
            store: self.store.clone(),
            key_serde: self.key_serde.clone(),
            value_serde: self.value_serde.clone(),
            _types: PhantomData,
        }
    }
}

impl<K, V> std::fmt::Debug for KTable<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KTable").field("node", &self.node).field("store", &self.store).finish()
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KTable<K, V> {
    pub(crate) fn new(
        builder: Shared,
        node: String,
        store: Option<String>,
        key_serde: Option<SharedSerde<K>>,
        value_serde: Option<SharedSerde<V>>,
    ) -> Self {
        Self { builder, node, store, key_serde, value_serde, _types: PhantomData }
    }

    /// The name of the store holding this table, when it is materialized.
    pub fn queryable_store_name(&self) -> Option<&str> {
        self.store.as_deref()
    }

    /// A name for a new processor, drawn as Kafka draws it.
    pub(crate) fn name(&self, named: Option<crate::config::Named>, prefix: &str) -> String {
        let generated = self.builder.borrow_mut().new_name(prefix);
        named.map_or(generated, |n| n.0)
    }

    /// Adds a processor fed by this table's changes.
    pub(crate) fn then<KR, VR, P>(
        &self,
        name: String,
        supplier: impl Fn() -> P + Send + Sync + 'static,
    ) -> String
    where
        KR: Clone + 'static,
        VR: Clone + 'static,
        P: streams_core::Processor<K, Change<V>, KR, VR>,
    {
        let mut st = self.builder.borrow_mut();
        let result = st.topology.add_processor(&name, supplier, &[&self.node]).map(|_| ());
        st.record(result);
        name
    }
}
