//! `KStream`: a typed stream of records, and its operators, one per file.

mod filter;
mod flat_map;
mod flat_map_values;
mod foreach;
mod map;
mod map_values;
mod merge;
mod peek;
mod print;
mod process;
mod repartition;
mod select_key;
mod split;
mod to;

use std::marker::PhantomData;

use streams_core::{Processor, SharedSerde};

use crate::builder::Shared;
use crate::config::Named;

pub use split::{Branched, BranchedKStream};

/// A stream of records with keys `K` and values `V` (Kafka's `KStream`).
///
/// Operators add nodes to the builder's topology and return the stream of their output; the
/// topology runs once built and started. Closures must be `Send + Sync` because every task
/// instantiates the topology on its own thread.
pub struct KStream<K, V> {
    pub(crate) builder: Shared,
    /// The node whose output this stream is.
    pub(crate) node: String,
    /// Set by key-changing operations: a grouping or join must repartition first.
    pub(crate) repartition_required: bool,
    pub(crate) key_serde: Option<SharedSerde<K>>,
    pub(crate) value_serde: Option<SharedSerde<V>>,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Clone for KStream<K, V> {
    fn clone(&self) -> Self {
        Self {
            builder: self.builder.clone(),
            node: self.node.clone(),
            repartition_required: self.repartition_required,
            key_serde: self.key_serde.clone(),
            value_serde: self.value_serde.clone(),
            _types: PhantomData,
        }
    }
}

impl<K, V> std::fmt::Debug for KStream<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KStream")
            .field("node", &self.node)
            .field("repartition_required", &self.repartition_required)
            .finish()
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    pub(crate) fn new(
        builder: Shared,
        node: String,
        key_serde: Option<SharedSerde<K>>,
        value_serde: Option<SharedSerde<V>>,
    ) -> Self {
        Self {
            builder,
            node,
            repartition_required: false,
            key_serde,
            value_serde,
            _types: PhantomData,
        }
    }

    /// The name of the node whose output this stream is.
    pub fn node_name(&self) -> &str {
        &self.node
    }

    /// A name for a new processor: the user's, or a generated one. Kafka draws from the counter
    /// either way, so generated names do not depend on which operations were named.
    pub(crate) fn name(&self, named: Option<Named>, prefix: &str) -> String {
        let generated = self.builder.borrow_mut().new_name(prefix);
        named.map_or(generated, |n| n.0)
    }

    /// Adds a processor fed by this stream, called `name`; returns its output stream.
    pub(crate) fn then<KR, VR, P>(
        &self,
        name: String,
        supplier: impl Fn() -> P + Send + Sync + 'static,
    ) -> KStream<KR, VR>
    where
        KR: Clone + 'static,
        VR: Clone + 'static,
        P: Processor<K, V, KR, VR>,
    {
        let mut st = self.builder.borrow_mut();
        let result = st.topology.add_processor(&name, supplier, &[&self.node]).map(|_| ());
        st.record(result);
        drop(st);
        KStream::new(self.builder.clone(), name, None, None)
    }

    /// This stream's output stream of a type-preserving operation: serdes and the repartition
    /// flag carry over.
    pub(crate) fn same_shape(&self, next: KStream<K, V>) -> KStream<K, V> {
        KStream {
            repartition_required: self.repartition_required,
            key_serde: self.key_serde.clone(),
            value_serde: self.value_serde.clone(),
            ..next
        }
    }
}
