//! `GlobalKTable`: a table every instance holds completely.

use std::marker::PhantomData;

/// A topic read as a table by every application instance in full, from all its partitions
/// (Kafka's `GlobalKTable`), made with [`StreamsBuilder::global_table`](crate::StreamsBuilder::global_table).
///
/// The table is loaded completely before any task processes a record and kept current while the
/// application runs. Processors read it through its store
/// ([`ProcessorContext::key_value_store`](streams_core::ProcessorContext::key_value_store) with
/// [`queryable_store_name`](Self::queryable_store_name)); interactive queries read it with
/// [`KafkaStreams::store`](streams_core::KafkaStreams::store) on any instance.
///
/// ```
/// use streams_dsl::prelude::*;
///
/// let builder = StreamsBuilder::new();
/// let countries = builder.global_table::<String, String>(
///     "countries",
///     Consumed::default(),
///     Materialized::as_("country-names"),
/// );
/// assert_eq!(countries.queryable_store_name(), "country-names");
/// let description = builder.build()?.describe().to_string();
/// assert!(description.contains("Sub-topology: 0 for global store (will not generate tasks)"));
/// # Ok::<(), streams_dsl::prelude::TopologyError>(())
/// ```
pub struct GlobalKTable<K, V> {
    store_name: String,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> std::fmt::Debug for GlobalKTable<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlobalKTable").field("store_name", &self.store_name).finish()
    }
}

impl<K, V> GlobalKTable<K, V> {
    pub(crate) fn new(store_name: String) -> Self {
        Self { store_name, _types: PhantomData }
    }

    /// The name of the store holding the table (Kafka's `queryableStoreName`).
    pub fn queryable_store_name(&self) -> &str {
        &self.store_name
    }
}
