//! `filter` and `filter_not`: keep the records a predicate accepts (or rejects).

use std::sync::Arc;

use streams_core::{ProcessError, Processor, ProcessorContext, Record, RecordBatch};

use crate::config::Named;
use crate::kstream::KStream;

/// Forwards the records for which `predicate` returns `keep`.
struct Filter<F> {
    predicate: Arc<F>,
    keep: bool,
}

impl<K, V, F> Processor<K, V> for Filter<F>
where
    K: Clone + 'static,
    V: Clone + 'static,
    F: Fn(&K, &V) -> bool + 'static,
{
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<K, V>,
        r: Record<K, V>,
    ) -> Result<(), ProcessError> {
        if (self.predicate)(&r.key, &r.value) == self.keep {
            ctx.forward(r);
        }
        Ok(())
    }

    const BATCHES: bool = true;

    fn process_batch(
        &mut self,
        ctx: &mut ProcessorContext<K, V>,
        mut records: RecordBatch<K, V>,
    ) -> Result<(), ProcessError> {
        let (predicate, keep) = (&*self.predicate, self.keep);
        records.retain(|k, v| predicate(k, v) == keep);
        ctx.forward_batch(records);
        Ok(())
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// The records for which `predicate` holds (`KSTREAM-FILTER-`).
    ///
    /// ```
    /// use streams_dsl::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.stream::<String, i64>("amounts").filter(|_, amount| *amount >= 100).to("large");
    /// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
    /// let input = driver.input_topic::<String, i64>("amounts");
    /// input.pipe_input_at("a".into(), 5, 1)?;
    /// input.pipe_input_at("b".into(), 500, 2)?;
    /// let out = driver.output_topic::<String, i64>("large");
    /// assert_eq!(out.read_key_values_to_list(), vec![("b".to_string(), 500)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn filter(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
    ) -> KStream<K, V> {
        self.filter_impl(None, predicate, true)
    }

    /// [`KStream::filter`] with a processor name.
    pub fn filter_named(
        &self,
        named: Named,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
    ) -> KStream<K, V> {
        self.filter_impl(Some(named), predicate, true)
    }

    /// The records for which `predicate` does not hold (also `KSTREAM-FILTER-`, as in Kafka).
    pub fn filter_not(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
    ) -> KStream<K, V> {
        self.filter_impl(None, predicate, false)
    }

    /// [`KStream::filter_not`] with a processor name.
    pub fn filter_not_named(
        &self,
        named: Named,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
    ) -> KStream<K, V> {
        self.filter_impl(Some(named), predicate, false)
    }

    fn filter_impl(
        &self,
        named: Option<Named>,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
        keep: bool,
    ) -> KStream<K, V> {
        let name = self.name(named, "KSTREAM-FILTER-");
        let predicate = Arc::new(predicate);
        let next = self.then(name, move || Filter { predicate: predicate.clone(), keep });
        self.same_shape(next)
    }
}

/// The always-true filter Kafka puts before a repartition sink.
pub(crate) fn keep_all<K: Clone + 'static, V: Clone + 'static>() -> impl Processor<K, V> {
    Filter { predicate: Arc::new(|_: &K, _: &V| true), keep: true }
}
