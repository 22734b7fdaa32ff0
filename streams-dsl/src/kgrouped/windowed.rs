//! `TimeWindowedKStream`: a grouped stream cut into time windows, ready to aggregate per key and
//! window.

use std::sync::Arc;
use std::time::Duration;

use crate::kgrouped::KGroupedStream;
use crate::kgrouped::aggregate::Step;
use crate::kgrouped::window_aggregate::WindowAggregate;
use crate::ktable::KTable;
use crate::materialized::Materialized;
use crate::windows::{TimeWindows, Windowed, WindowedSerde};

/// A grouped stream aggregated per key and time window (Kafka's `TimeWindowedKStream`). Results
/// are tables keyed by [`Windowed<K>`], kept in a window store whose retention is the window size
/// plus grace unless [`Materialized::with_retention`] says more.
///
/// ```
/// use std::time::Duration;
/// use streams_dsl::prelude::*;
///
/// let builder = StreamsBuilder::new();
/// let minute = Duration::from_secs(60);
/// builder
///     .stream::<String, String>("clicks")
///     .group_by_key()
///     .windowed_by(TimeWindows::of_size_with_no_grace(minute))
///     .count_with(
///         Materialized::as_("clicks-per-minute")
///             .with_caching_disabled()
///             .with_retention(Duration::from_secs(3600)), // keep an hour of windows
///     )
///     .to_stream()
///     .to_with("counts", Produced::with(WindowedSerde::new(StringSerde, minute), I64Serde));
/// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
/// let clicks = driver.input_topic::<String, String>("clicks");
/// for t in [1_000, 2_000, 61_000] {
///     clicks.pipe_input_at("home".into(), "x".into(), t)?;
/// }
/// let store = driver.window_store::<String, i64>("clicks-per-minute")?.unwrap();
/// assert_eq!(store.fetch_range(&"home".into(), 0, 60_000)?, vec![(0, 2), (60_000, 1)]);
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
pub struct TimeWindowedKStream<K, V> {
    grouped: KGroupedStream<K, V>,
    windows: TimeWindows,
}

impl<K, V> std::fmt::Debug for TimeWindowedKStream<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeWindowedKStream").field("windows", &self.windows).finish()
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KGroupedStream<K, V> {
    /// Cuts the grouped stream into `windows` (Kafka's `windowedBy(TimeWindows)`).
    pub fn windowed_by(&self, windows: TimeWindows) -> TimeWindowedKStream<K, V> {
        TimeWindowedKStream {
            grouped: KGroupedStream { stream: self.stream.clone(), grouped: self.grouped.clone() },
            windows,
        }
    }
}

impl<K: Clone + Send + Sync + 'static, V: Clone + 'static> TimeWindowedKStream<K, V> {
    /// Counts the records per key and window (`KSTREAM-AGGREGATE-`).
    pub fn count(&self) -> KTable<Windowed<K>, i64> {
        self.count_with(Materialized::default())
    }

    /// [`count`](Self::count) into a store configured by `materialized`.
    pub fn count_with(&self, materialized: Materialized<K, i64>) -> KTable<Windowed<K>, i64> {
        self.aggregate_impl(
            "KSTREAM-AGGREGATE-",
            materialized,
            Arc::new(|_: &K, _: V, old: Option<i64>| old.unwrap_or(0) + 1),
        )
    }

    /// Combines the values of each key and window with `reducer` (`KSTREAM-REDUCE-`).
    pub fn reduce(
        &self,
        reducer: impl Fn(V, V) -> V + Send + Sync + 'static,
    ) -> KTable<Windowed<K>, V> {
        self.reduce_with(reducer, Materialized::default())
    }

    /// [`reduce`](Self::reduce) into a store configured by `materialized`.
    pub fn reduce_with(
        &self,
        reducer: impl Fn(V, V) -> V + Send + Sync + 'static,
        materialized: Materialized<K, V>,
    ) -> KTable<Windowed<K>, V> {
        self.aggregate_impl(
            "KSTREAM-REDUCE-",
            materialized,
            Arc::new(move |_: &K, v: V, old: Option<V>| match old {
                Some(agg) => reducer(agg, v),
                None => v,
            }),
        )
    }

    /// Folds the values of each key and window into an aggregate that starts as
    /// `initializer()` (`KSTREAM-AGGREGATE-`).
    pub fn aggregate<VA: Clone + 'static>(
        &self,
        initializer: impl Fn() -> VA + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
    ) -> KTable<Windowed<K>, VA> {
        self.aggregate_with(initializer, aggregator, Materialized::default())
    }

    /// [`aggregate`](Self::aggregate) into a store configured by `materialized`.
    pub fn aggregate_with<VA: Clone + 'static>(
        &self,
        initializer: impl Fn() -> VA + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
        materialized: Materialized<K, VA>,
    ) -> KTable<Windowed<K>, VA> {
        self.aggregate_impl(
            "KSTREAM-AGGREGATE-",
            materialized,
            Arc::new(move |k: &K, v: V, old: Option<VA>| {
                aggregator(k, v, old.unwrap_or_else(&initializer))
            }),
        )
    }

    fn aggregate_impl<VA: Clone + 'static>(
        &self,
        prefix: &str,
        mut materialized: Materialized<K, VA>,
        step: Arc<Step<K, V, VA>>,
    ) -> KTable<Windowed<K>, VA> {
        let g = &self.grouped;
        let builder = g.stream.builder.clone();
        let store_name = match &materialized.name {
            Some(n) => n.clone(),
            None => builder.borrow_mut().new_name(&format!("{prefix}STATE-STORE-")),
        };
        let processor = builder.borrow_mut().new_name(prefix);
        if materialized.key_serde.is_none() {
            materialized.key_serde =
                g.grouped.key_serde.clone().or_else(|| g.stream.key_serde.clone());
        }
        let windows = self.windows;
        let minimum = windows.size_ms.saturating_add(windows.grace_ms);
        let retention_ms = match materialized.retention {
            Some(r) => i64::try_from(r.as_millis()).unwrap_or(i64::MAX),
            None => minimum,
        };
        if retention_ms < minimum {
            builder.borrow_mut().record::<()>(Err(streams_core::TopologyError::InvalidStore {
                store: store_name.clone(),
                message: format!(
                    "the retention ({retention_ms} ms) must be at least the window size plus the \
                     grace period ({minimum} ms)"
                ),
            }));
        }
        let source = g.aggregation_source(&store_name);
        let key_serde = materialized.key_serde.clone();
        let value_serde = materialized.value_serde.clone();
        let ms = |v: i64| Duration::from_millis(u64::try_from(v).unwrap_or(0));
        {
            let mut st = builder.borrow_mut();
            let store =
                materialized.window_store(&store_name, ms(retention_ms), ms(windows.size_ms));
            let r = st.topology.add_state_store(store, &[]).map(|_| ());
            st.record(r);
        }
        let name: Arc<str> = Arc::from(store_name.as_str());
        let node = source.then(processor.clone(), move || {
            WindowAggregate::new(name.clone(), windows, step.clone())
        });
        {
            let mut st = builder.borrow_mut();
            let r = st.topology.connect_store(&processor, &store_name).map(|_| ());
            st.record(r);
        }
        let windowed_serde = key_serde.map(|k| {
            Arc::new(WindowedSerde::from_shared(k, windows.size_ms))
                as streams_core::SharedSerde<Windowed<K>>
        });
        KTable::new(builder, node.node, Some(store_name), windowed_serde, value_serde)
    }
}
