//! `KGroupedTable`: a table re-keyed by [`KTable::group_by`], ready to aggregate into a table that
//! follows the original one's updates (adds and subtracts).

mod aggregate;

use std::cell::RefCell;
use std::sync::Arc;

use streams_core::{Sink, Source};

use crate::builder::Shared;
use crate::ktable::group_by::ChangeSerde;
use crate::ktable::{Change, KTable};
use crate::materialized::{Grouped, Materialized};

use aggregate::{Adder, Subtractor, TableAggregate};

/// A table grouped by a new key (Kafka's `KGroupedTable`), made by [`KTable::group_by`].
///
/// Its aggregations read the re-keyed updates from a repartition topic
/// `<application.id>-<store name>-repartition` (or `<application.id>-<name>-repartition` when the
/// grouping was named) and apply each as a subtraction of the old value, then an addition of the
/// new one, so that the aggregate of a group always covers the entries now in it. Results are
/// forwarded as table updates: at once with the store's cache off, at each commit with it on
/// (the default).
///
/// Updates whose new key is null (serializes to null) are dropped, as in Kafka.
pub struct KGroupedTable<K, V> {
    builder: Shared,
    /// The select processor.
    node: String,
    grouped: Grouped<K, V>,
    /// The repartition source, once made, if the grouping was named: Kafka's aggregations of a
    /// named grouping share one repartition topic.
    named_repartition: RefCell<Option<String>>,
}

impl<K, V> std::fmt::Debug for KGroupedTable<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KGroupedTable")
            .field("node", &self.node)
            .field("grouped", &self.grouped)
            .finish()
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KGroupedTable<K, V> {
    pub(crate) fn new(builder: Shared, node: String, grouped: Grouped<K, V>) -> Self {
        Self { builder, node, grouped, named_repartition: RefCell::new(None) }
    }

    /// Counts the entries of the original table in each group (`KTABLE-AGGREGATE-`), into a
    /// store named `KTABLE-AGGREGATE-STATE-STORE-<n>`. A group whose entries all left keeps the
    /// count 0 (it is not deleted), as in Kafka.
    ///
    /// ```
    /// use streams_dsl::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder
    ///     .table::<String, String>("user-regions", Consumed::default(), Materialized::default())
    ///     .group_by(|_, region| (region.clone(), region.clone()))
    ///     .count()
    ///     .to_stream()
    ///     .to("region-counts");
    /// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
    /// let input = driver.input_topic::<String, Option<String>>("user-regions");
    /// input.pipe_input_at("alice".into(), Some("asia".into()), 0)?;
    /// input.pipe_input_at("alice".into(), None, 1)?; // alice leaves
    /// let out = driver.output_topic::<String, Option<i64>>("region-counts").read_key_values_to_list();
    /// assert_eq!(out, vec![("asia".into(), Some(1)), ("asia".into(), Some(0))]);
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn count(&self) -> KTable<K, i64> {
        self.count_with(Materialized::default())
    }

    /// [`KGroupedTable::count`] into a store configured by `materialized`; a named store also
    /// names the repartition topic `<application.id>-<store>-repartition`, unless the grouping
    /// was named.
    ///
    /// ```
    /// use streams_dsl::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder
    ///     .table::<String, String>("user-regions", Consumed::default(), Materialized::default())
    ///     .group_by(|_, region| (region.clone(), region.clone()))
    ///     .count_with(Materialized::as_("region-counts").with_caching_disabled());
    /// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
    /// let input = driver.input_topic::<String, Option<String>>("user-regions");
    /// input.pipe_input_at("alice".into(), Some("asia".into()), 0)?;
    /// input.pipe_input_at("bob".into(), Some("asia".into()), 0)?;
    /// let store = driver.key_value_store::<String, i64>("region-counts")?.unwrap();
    /// assert_eq!(store.get(&"asia".to_string())?, Some(2));
    /// assert!(driver.output_topic_names().contains(&"doc-region-counts-repartition".to_string()));
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn count_with(&self, materialized: Materialized<K, i64>) -> KTable<K, i64> {
        self.aggregate_impl(
            "KTABLE-AGGREGATE-",
            materialized,
            Arc::new(|_: &K, _: V, agg: Option<i64>| agg.unwrap_or(0) + 1),
            Arc::new(|_: &K, _: V, agg: i64| agg - 1),
        )
    }

    /// Combines the values of each group with `adder(aggregate, value)` and takes values out again
    /// with `subtractor(aggregate, value)` (`KTABLE-REDUCE-`, store
    /// `KTABLE-AGGREGATE-STATE-STORE-<n>` as Kafka names it). The first value of a group is its
    /// first aggregate; a group keeps its aggregate when its entries leave (a sum goes back to 0).
    ///
    /// ```
    /// use streams_dsl::prelude::*;
    ///
    /// // account -> balance; the total per bank (the account's first letter)
    /// let builder = StreamsBuilder::new();
    /// builder
    ///     .table::<String, i64>("balances", Consumed::default(), Materialized::default())
    ///     .group_by(|account, balance| (account[..1].to_string(), *balance))
    ///     .reduce(|total, b| total + b, |total, b| total - b)
    ///     .to_stream()
    ///     .to("totals");
    /// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
    /// let input = driver.input_topic::<String, Option<i64>>("balances");
    /// input.pipe_input_at("a1".into(), Some(10), 0)?;
    /// input.pipe_input_at("a2".into(), Some(5), 1)?;
    /// input.pipe_input_at("a1".into(), Some(3), 2)?; // same bank: one update, 15 -> 8
    /// let out = driver.output_topic::<String, Option<i64>>("totals").read_values_to_list();
    /// assert_eq!(out, vec![Some(10), Some(15), Some(8)]);
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn reduce(
        &self,
        adder: impl Fn(V, V) -> V + Send + Sync + 'static,
        subtractor: impl Fn(V, V) -> V + Send + Sync + 'static,
    ) -> KTable<K, V> {
        self.reduce_with(adder, subtractor, Materialized::default())
    }

    /// [`KGroupedTable::reduce`] into a store configured by `materialized`; its value serde
    /// defaults to the grouping's.
    ///
    /// ```
    /// use streams_dsl::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder
    ///     .table::<String, i64>("balances", Consumed::default(), Materialized::default())
    ///     .group_by(|account, balance| (account[..1].to_string(), *balance))
    ///     .reduce_with(|t, b| t + b, |t, b| t - b, Materialized::as_("totals").in_memory());
    /// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
    /// let input = driver.input_topic::<String, Option<i64>>("balances");
    /// input.pipe_input_at("a1".into(), Some(10), 0)?;
    /// input.pipe_input_at("b1".into(), Some(7), 0)?;
    /// input.pipe_input_at("a1".into(), None, 0)?; // deleted: subtracted
    /// let store = driver.key_value_store::<String, i64>("totals")?.unwrap();
    /// assert_eq!(store.all()?, vec![("a".to_string(), 0), ("b".to_string(), 7)]);
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn reduce_with(
        &self,
        adder: impl Fn(V, V) -> V + Send + Sync + 'static,
        subtractor: impl Fn(V, V) -> V + Send + Sync + 'static,
        mut materialized: Materialized<K, V>,
    ) -> KTable<K, V> {
        if materialized.value_serde.is_none() {
            materialized.value_serde = self.grouped.value_serde.clone();
        }
        let adder: Arc<Adder<K, V, V>> = Arc::new(move |_: &K, v: V, agg: Option<V>| match agg {
            Some(agg) => adder(agg, v),
            None => v,
        });
        let subtractor: Arc<Subtractor<K, V, V>> =
            Arc::new(move |_: &K, v: V, agg: V| subtractor(agg, v));
        self.aggregate_impl("KTABLE-REDUCE-", materialized, adder, subtractor)
    }

    /// Folds the values of each group into an aggregate that starts as `initializer()`:
    /// `adder(key, value, aggregate)` adds a value, `subtractor(key, value, aggregate)` takes one
    /// out (`KTABLE-AGGREGATE-`). A group keeps its aggregate when its entries leave.
    ///
    /// ```
    /// use streams_dsl::prelude::*;
    ///
    /// // user -> region; the users of each region, sorted
    /// let builder = StreamsBuilder::new();
    /// builder
    ///     .table::<String, String>("user-regions", Consumed::default(), Materialized::default())
    ///     .group_by(|user, region| (region.clone(), user.clone()))
    ///     .aggregate(
    ///         String::new,
    ///         |_, user, users| {
    ///             let mut all: Vec<&str> = users.split(',').filter(|u| !u.is_empty()).collect();
    ///             all.push(&user);
    ///             all.sort();
    ///             all.join(",")
    ///         },
    ///         |_, user, users| users.split(',').filter(|u| *u != user).collect::<Vec<_>>().join(","),
    ///     )
    ///     .to_stream()
    ///     .to("region-users");
    /// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
    /// let input = driver.input_topic::<String, Option<String>>("user-regions");
    /// input.pipe_input_at("bob".into(), Some("asia".into()), 0)?;
    /// input.pipe_input_at("alice".into(), Some("asia".into()), 1)?;
    /// input.pipe_input_at("bob".into(), Some("africa".into()), 2)?;
    /// let out = driver.output_topic::<String, Option<String>>("region-users").read_key_values_to_list();
    /// assert_eq!(out.last(), Some(&("africa".to_string(), Some("bob".to_string()))));
    /// assert_eq!(out[out.len() - 2], ("asia".to_string(), Some("alice".to_string())));
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn aggregate<VA: Clone + 'static>(
        &self,
        initializer: impl Fn() -> VA + Send + Sync + 'static,
        adder: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
        subtractor: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
    ) -> KTable<K, VA> {
        self.aggregate_with(initializer, adder, subtractor, Materialized::default())
    }

    /// [`KGroupedTable::aggregate`] into a store configured by `materialized` (give it a value
    /// serde unless `VA` has a default one).
    ///
    /// ```
    /// use streams_dsl::prelude::*;
    ///
    /// // item -> price; the sum of the prices per category, as text
    /// let builder = StreamsBuilder::new();
    /// builder
    ///     .table::<String, i64>("prices", Consumed::default(), Materialized::default())
    ///     .group_by(|item, price| (item.split(':').next().unwrap_or("").to_string(), *price))
    ///     .aggregate_with(
    ///         || "0".to_string(),
    ///         |_, p, sum: String| (sum.parse::<i64>().unwrap() + p).to_string(),
    ///         |_, p, sum: String| (sum.parse::<i64>().unwrap() - p).to_string(),
    ///         Materialized::as_("category-sums").with_caching_disabled(),
    ///     );
    /// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
    /// let input = driver.input_topic::<String, Option<i64>>("prices");
    /// input.pipe_input_at("fruit:apple".into(), Some(3), 0)?;
    /// input.pipe_input_at("fruit:pear".into(), Some(4), 0)?;
    /// input.pipe_input_at("fruit:apple".into(), Some(1), 0)?;
    /// let store = driver.key_value_store::<String, String>("category-sums")?.unwrap();
    /// assert_eq!(store.get(&"fruit".to_string())?, Some("5".to_string()));
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn aggregate_with<VA: Clone + 'static>(
        &self,
        initializer: impl Fn() -> VA + Send + Sync + 'static,
        adder: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
        subtractor: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
        materialized: Materialized<K, VA>,
    ) -> KTable<K, VA> {
        let adder: Arc<Adder<K, V, VA>> = Arc::new(move |k: &K, v: V, agg: Option<VA>| {
            adder(k, v, agg.unwrap_or_else(&initializer))
        });
        self.aggregate_impl("KTABLE-AGGREGATE-", materialized, adder, Arc::new(subtractor))
    }

    /// Names the store, the repartition nodes and the processor in Kafka's order (store, sink,
    /// source, processor), repartitions and adds the aggregation with its store.
    fn aggregate_impl<VA: Clone + 'static>(
        &self,
        prefix: &str,
        mut materialized: Materialized<K, VA>,
        adder: Arc<Adder<K, V, VA>>,
        subtractor: Arc<Subtractor<K, V, VA>>,
    ) -> KTable<K, VA> {
        let store_name = match &materialized.name {
            Some(n) => n.clone(),
            // Kafka's grouped tables name every store after the aggregate, reduce's too.
            None => self.builder.borrow_mut().new_name("KTABLE-AGGREGATE-STATE-STORE-"),
        };
        if materialized.key_serde.is_none() {
            materialized.key_serde = self.grouped.key_serde.clone();
        }
        let source = self.repartition(&store_name);
        let processor = self.builder.borrow_mut().new_name(prefix);
        let key_serde = materialized.key_serde.clone();
        let value_serde = materialized.value_serde.clone();
        let name: Arc<str> = Arc::from(store_name.as_str());
        let mut st = self.builder.borrow_mut();
        let r = st.topology.add_state_store(materialized.store(&store_name), &[]).map(|_| ());
        st.record(r);
        let r = st
            .topology
            .add_processor(
                &processor,
                move || TableAggregate::new(name.clone(), adder.clone(), subtractor.clone()),
                &[&source],
            )
            .map(|_| ());
        st.record(r);
        let r = st.topology.connect_store(&processor, &store_name).map(|_| ());
        st.record(r);
        drop(st);
        KTable::new(self.builder.clone(), processor, Some(store_name), key_serde, value_serde)
    }

    /// The repartition sink and source after the select processor (no filter: Kafka's
    /// `GroupedTableOperationRepartitionNode`); returns the source's name. The topic is named
    /// after the grouping, or else after the store; a named grouping's aggregations share it.
    fn repartition(&self, store_name: &str) -> String {
        let (sink_name, source_name) = {
            let mut st = self.builder.borrow_mut();
            (st.new_name("KSTREAM-SINK-"), st.new_name("KSTREAM-SOURCE-"))
        };
        if self.grouped.name.is_some() {
            if let Some(existing) = self.named_repartition.borrow().as_ref() {
                return existing.clone();
            }
        }
        let base = self.grouped.name.as_deref().unwrap_or(store_name);
        let topic = format!("{base}-repartition");
        let mut sink = Sink::<K, Change<V>>::internal_topic(&topic);
        let mut source = Source::<K, Change<V>>::internal_topic(&topic);
        if let Some(k) = &self.grouped.key_serde {
            sink = sink.key_serde(k.clone());
            source = source.key_serde(k.clone());
        }
        if let Some(v) = ChangeSerde::for_values(self.grouped.value_serde.clone()) {
            let v = Arc::new(v);
            sink = sink.value_serde(v.clone());
            source = source.value_serde(v);
        }
        let mut st = self.builder.borrow_mut();
        st.topology.add_internal_topic(&topic, None);
        let r = st.topology.add_sink_with(&sink_name, sink, &[&self.node]).map(|_| ());
        st.record(r);
        let r = st.topology.add_source_with(&source_name, source).map(|_| ());
        st.record(r);
        if self.grouped.name.is_some() {
            *self.named_repartition.borrow_mut() = Some(source_name.clone());
        }
        source_name
    }
}
