//! `select_key`: a new key per record, the value unchanged.

use std::sync::Arc;

use streams_core::{ProcessError, Processor, ProcessorContext, Record, RecordBatch};

use crate::config::Named;
use crate::kstream::KStream;

struct SelectKey<F> {
    f: Arc<F>,
}

impl<K, V, KR, F> Processor<K, V, KR, V> for SelectKey<F>
where
    K: 'static,
    V: Clone + 'static,
    KR: Clone + 'static,
    F: Fn(&K, &V) -> KR + 'static,
{
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<KR, V>,
        r: Record<K, V>,
    ) -> Result<(), ProcessError> {
        let key = (self.f)(&r.key, &r.value);
        ctx.forward(r.with_key(key));
        Ok(())
    }

    const BATCHES: bool = true;

    fn process_batch(
        &mut self,
        ctx: &mut ProcessorContext<KR, V>,
        records: RecordBatch<K, V>,
    ) -> Result<(), ProcessError> {
        let f = &*self.f;
        ctx.forward_batch(records.map_keys(f));
        Ok(())
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Each record re-keyed by `f(key, value)` (`KSTREAM-KEY-SELECT-`). Marks the stream for
    /// repartitioning before a grouping or join.
    ///
    /// ```
    /// use streams_dsl::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.stream::<Option<String>, String>("lines")
    ///     .select_key(|_, line| line.split(',').next().unwrap_or("").to_string())
    ///     .to("keyed");
    /// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
    /// driver.input_topic::<Option<String>, String>("lines").pipe_input_at(None, "eu,42".into(), 0)?;
    /// let out = driver.output_topic::<String, String>("keyed");
    /// assert_eq!(out.read_key_value(), Some(("eu".to_string(), "eu,42".to_string())));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn select_key<KR: Clone + 'static>(
        &self,
        f: impl Fn(&K, &V) -> KR + Send + Sync + 'static,
    ) -> KStream<KR, V> {
        self.select_key_impl(None, f)
    }

    /// [`KStream::select_key`] with a processor name.
    pub fn select_key_named<KR: Clone + 'static>(
        &self,
        named: Named,
        f: impl Fn(&K, &V) -> KR + Send + Sync + 'static,
    ) -> KStream<KR, V> {
        self.select_key_impl(Some(named), f)
    }

    fn select_key_impl<KR: Clone + 'static>(
        &self,
        named: Option<Named>,
        f: impl Fn(&K, &V) -> KR + Send + Sync + 'static,
    ) -> KStream<KR, V> {
        let name = self.name(named, "KSTREAM-KEY-SELECT-");
        let f = Arc::new(f);
        let mut next: KStream<KR, V> = self.then(name, move || SelectKey { f: f.clone() });
        next.repartition_required = true;
        next.value_serde = self.value_serde.clone();
        next
    }
}
