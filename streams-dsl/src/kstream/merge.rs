//! `merge`: one stream of the records of two.

use streams_core::{ProcessError, Processor, ProcessorContext, Record};

use crate::config::Named;
use crate::kstream::KStream;

/// Forwards every record it gets, from either parent.
pub(crate) struct PassThrough;

impl<K: Clone + 'static, V: Clone + 'static> Processor<K, V> for PassThrough {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<K, V>,
        r: Record<K, V>,
    ) -> Result<(), ProcessError> {
        ctx.forward(r);
        Ok(())
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// The records of this stream and of `other` (`KSTREAM-MERGE-`). No order is promised
    /// between the two; each keeps its own. Needs repartitioning if either side does.
    ///
    /// ```
    /// use streams_dsl::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let eu = builder.stream::<String, i64>("eu");
    /// let us = builder.stream::<String, i64>("us");
    /// eu.merge(&us).to("all");
    /// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
    /// driver.input_topic::<String, i64>("eu").pipe_input_at("a".into(), 1, 0)?;
    /// driver.input_topic::<String, i64>("us").pipe_input_at("b".into(), 2, 1)?;
    /// assert_eq!(driver.output_topic::<String, i64>("all").read_values_to_list(), vec![1, 2]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn merge(&self, other: &KStream<K, V>) -> KStream<K, V> {
        self.merge_impl(None, other)
    }

    /// [`KStream::merge`] with a processor name.
    pub fn merge_named(&self, named: Named, other: &KStream<K, V>) -> KStream<K, V> {
        self.merge_impl(Some(named), other)
    }

    fn merge_impl(&self, named: Option<Named>, other: &KStream<K, V>) -> KStream<K, V> {
        let name = self.name(named, "KSTREAM-MERGE-");
        let mut st = self.builder.borrow_mut();
        let result = st
            .topology
            .add_processor::<K, V, K, V, _>(&name, || PassThrough, &[&self.node, &other.node])
            .map(|_| ());
        st.record(result);
        drop(st);
        let mut next = KStream::new(self.builder.clone(), name, None, None);
        next.repartition_required = self.repartition_required || other.repartition_required;
        // Kafka keeps serdes only when both sides agree; two Arcs agree when they are the same.
        if let (Some(a), Some(b)) = (&self.key_serde, &other.key_serde) {
            if std::sync::Arc::ptr_eq(a, b) {
                next.key_serde = Some(a.clone());
            }
        }
        if let (Some(a), Some(b)) = (&self.value_serde, &other.value_serde) {
            if std::sync::Arc::ptr_eq(a, b) {
                next.value_serde = Some(a.clone());
            }
        }
        next
    }
}
