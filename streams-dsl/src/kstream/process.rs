//! `process`: a processor of the application's own (the processor API inside the DSL).

use streams_core::Processor;

use crate::config::Named;
use crate::kstream::KStream;

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Runs a processor of your own on each record; its forwards form the returned stream
    /// (`KSTREAM-PROCESSOR-`). `supplier` is called once per task.
    ///
    /// ```
    /// use streams_dsl::prelude::*;
    ///
    /// /// Numbers the records of each task.
    /// struct Sequence(i64);
    /// impl Processor<String, String, String, i64> for Sequence {
    ///     fn process(&mut self, ctx: &mut ProcessorContext<String, i64>, r: Record<String, String>)
    ///         -> Result<(), ProcessError> {
    ///         self.0 += 1;
    ///         ctx.forward(r.with_value(self.0));
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.stream::<String, String>("in").process(|| Sequence(0)).to("out");
    /// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
    /// let input = driver.input_topic::<String, String>("in");
    /// input.pipe_input_at("a".into(), "x".into(), 0)?;
    /// input.pipe_input_at("b".into(), "y".into(), 1)?;
    /// assert_eq!(driver.output_topic::<String, i64>("out").read_values_to_list(), vec![1, 2]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn process<KR, VR, P>(
        &self,
        supplier: impl Fn() -> P + Send + Sync + 'static,
    ) -> KStream<KR, VR>
    where
        KR: Clone + 'static,
        VR: Clone + 'static,
        P: Processor<K, V, KR, VR>,
    {
        let name = self.name(None, "KSTREAM-PROCESSOR-");
        let mut next = self.then(name, supplier);
        next.repartition_required = true;
        next
    }

    /// [`KStream::process`] with a processor name (Kafka draws no generated name then).
    pub fn process_named<KR, VR, P>(
        &self,
        named: Named,
        supplier: impl Fn() -> P + Send + Sync + 'static,
    ) -> KStream<KR, VR>
    where
        KR: Clone + 'static,
        VR: Clone + 'static,
        P: Processor<K, V, KR, VR>,
    {
        let mut next = self.then(named.0, supplier);
        next.repartition_required = true;
        next
    }
}
