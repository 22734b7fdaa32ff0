//! `KGroupedStream`: a stream grouped by key, ready to aggregate into a table.

mod aggregate;
mod window_aggregate;
mod windowed;

pub use windowed::TimeWindowedKStream;

use std::sync::Arc;

use crate::config::Produced;
use crate::kstream::KStream;
use crate::ktable::KTable;
use crate::materialized::{Grouped, Materialized};

/// A stream grouped by key (Kafka's `KGroupedStream`). Records with a null key (a key that
/// serializes to null) are ignored by its aggregations, as Kafka ignores them.
pub struct KGroupedStream<K, V> {
    pub(crate) stream: KStream<K, V>,
    pub(crate) grouped: Grouped<K, V>,
}

impl<K, V> std::fmt::Debug for KGroupedStream<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KGroupedStream").field("stream", &self.stream).finish()
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Groups by the current key. After a key-changing operation the aggregation first
    /// repartitions through `<application.id>-<name>-repartition`.
    pub fn group_by_key(&self) -> KGroupedStream<K, V> {
        self.group_by_key_with(Grouped::default())
    }

    /// [`KStream::group_by_key`] with a repartition name or serdes.
    pub fn group_by_key_with(&self, grouped: Grouped<K, V>) -> KGroupedStream<K, V> {
        KGroupedStream { stream: self.clone(), grouped }
    }

    /// Groups by a new key (`KSTREAM-KEY-SELECT-`); the aggregation repartitions first.
    pub fn group_by<KR: Clone + 'static>(
        &self,
        key: impl Fn(&K, &V) -> KR + Send + Sync + 'static,
    ) -> KGroupedStream<KR, V> {
        self.group_by_with(key, Grouped::default())
    }

    /// [`KStream::group_by`] with a repartition name or serdes; a name also names the key-select
    /// processor, as in Kafka.
    pub fn group_by_with<KR: Clone + 'static>(
        &self,
        key: impl Fn(&K, &V) -> KR + Send + Sync + 'static,
        grouped: Grouped<KR, V>,
    ) -> KGroupedStream<KR, V> {
        let named = grouped.name.clone().map(crate::config::Named);
        let selected = match named {
            Some(n) => self.select_key_named(n, key),
            None => self.select_key(key),
        };
        KGroupedStream { stream: selected, grouped }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KGroupedStream<K, V> {
    /// Counts the records per key (`KSTREAM-AGGREGATE-`), into a store named
    /// `KSTREAM-AGGREGATE-STATE-STORE-<n>`.
    ///
    /// ```
    /// use streams_dsl::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder
    ///     .stream::<Option<String>, String>("words")
    ///     .group_by(|_, word| word.clone())
    ///     .count_with(Materialized::as_("counts").with_caching_disabled())
    ///     .to_stream()
    ///     .to("counts");
    /// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
    /// let mut input = driver.input_topic::<Option<String>, String>("words");
    /// input.pipe_key_values([(None, "a".to_string()), (None, "b".to_string()), (None, "a".to_string())])?;
    /// let out = driver.output_topic::<String, Option<i64>>("counts").read_key_values_to_list();
    /// assert_eq!(out, vec![("a".into(), Some(1)), ("b".into(), Some(1)), ("a".into(), Some(2))]);
    /// let store = driver.key_value_store::<String, i64>("counts")?.unwrap();
    /// assert_eq!(store.get(&"a".to_string())?, Some(2));
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn count(&self) -> KTable<K, i64> {
        self.count_with(Materialized::default())
    }

    /// [`KGroupedStream::count`] into a store configured by `materialized`.
    pub fn count_with(&self, materialized: Materialized<K, i64>) -> KTable<K, i64> {
        self.aggregate_impl(
            "KSTREAM-AGGREGATE-",
            materialized,
            Arc::new(|_: &K, _: V, old: Option<i64>| old.unwrap_or(0) + 1),
        )
    }

    /// Combines each key's values with `reducer(aggregate, value)`; the first value of a key is its
    /// first aggregate (`KSTREAM-REDUCE-`).
    pub fn reduce(&self, reducer: impl Fn(V, V) -> V + Send + Sync + 'static) -> KTable<K, V> {
        self.reduce_with(reducer, Materialized::default())
    }

    /// [`KGroupedStream::reduce`] into a store configured by `materialized`.
    pub fn reduce_with(
        &self,
        reducer: impl Fn(V, V) -> V + Send + Sync + 'static,
        materialized: Materialized<K, V>,
    ) -> KTable<K, V> {
        self.aggregate_impl(
            "KSTREAM-REDUCE-",
            materialized,
            Arc::new(move |_: &K, v: V, old: Option<V>| match old {
                Some(agg) => reducer(agg, v),
                None => v,
            }),
        )
    }

    /// Folds each key's values into an aggregate that starts as `initializer()`
    /// (`KSTREAM-AGGREGATE-`).
    pub fn aggregate<VA: Clone + 'static>(
        &self,
        initializer: impl Fn() -> VA + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
    ) -> KTable<K, VA> {
        self.aggregate_with(initializer, aggregator, Materialized::default())
    }

    /// [`KGroupedStream::aggregate`] into a store configured by `materialized`.
    pub fn aggregate_with<VA: Clone + 'static>(
        &self,
        initializer: impl Fn() -> VA + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
        materialized: Materialized<K, VA>,
    ) -> KTable<K, VA> {
        self.aggregate_impl(
            "KSTREAM-AGGREGATE-",
            materialized,
            Arc::new(move |k: &K, v: V, old: Option<VA>| {
                aggregator(k, v, old.unwrap_or_else(&initializer))
            }),
        )
    }

    /// Names the store and processor as Kafka does (store first), repartitions if the key
    /// changed, and adds the aggregation with its store.
    /// The stream an aggregation reads: this one, or (after a key change) its repartition
    /// through `<application.id>-<name or store>-repartition`.
    pub(crate) fn aggregation_source(&self, store_name: &str) -> KStream<K, V> {
        if self.stream.repartition_required {
            let prefix = self.grouped.name.clone().unwrap_or_else(|| store_name.to_string());
            let produced = Produced {
                key_serde: self.grouped.key_serde.clone(),
                value_serde: self.grouped.value_serde.clone(),
                ..Produced::default()
            };
            self.stream.through_internal_topic(&prefix, None, produced)
        } else {
            self.stream.clone()
        }
    }

    fn aggregate_impl<VA: Clone + 'static>(
        &self,
        prefix: &str,
        mut materialized: Materialized<K, VA>,
        step: Arc<aggregate::Step<K, V, VA>>,
    ) -> KTable<K, VA> {
        let builder = self.stream.builder.clone();
        let store_name = match &materialized.name {
            Some(n) => n.clone(),
            None => builder.borrow_mut().new_name(&format!("{prefix}STATE-STORE-")),
        };
        let processor = builder.borrow_mut().new_name(prefix);
        if materialized.key_serde.is_none() {
            materialized.key_serde =
                self.grouped.key_serde.clone().or_else(|| self.stream.key_serde.clone());
        }
        let source = self.aggregation_source(&store_name);
        let key_serde = materialized.key_serde.clone();
        let value_serde = materialized.value_serde.clone();
        {
            let mut st = builder.borrow_mut();
            let r = st.topology.add_state_store(materialized.store(&store_name), &[]).map(|_| ());
            st.record(r);
        }
        let name: Arc<str> = Arc::from(store_name.as_str());
        let node = source
            .then(processor.clone(), move || aggregate::Aggregate::new(name.clone(), step.clone()));
        {
            let mut st = builder.borrow_mut();
            let r = st.topology.connect_store(&processor, &store_name).map(|_| ());
            st.record(r);
        }
        KTable::new(builder, node.node, Some(store_name), key_serde, value_serde)
    }
}
