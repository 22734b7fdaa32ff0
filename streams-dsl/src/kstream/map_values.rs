//! `map_values`: a new value per record; the key, and so the partitioning, stays.

use std::sync::Arc;

use streams_core::{ProcessError, Processor, ProcessorContext, Record, RecordBatch};

use crate::config::Named;
use crate::kstream::KStream;

struct MapValues<F> {
    f: Arc<F>,
}

impl<K, V, VR, F> Processor<K, V, K, VR> for MapValues<F>
where
    K: Clone + 'static,
    V: 'static,
    VR: Clone + 'static,
    F: Fn(&K, V) -> VR + 'static,
{
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<K, VR>,
        r: Record<K, V>,
    ) -> Result<(), ProcessError> {
        let value = (self.f)(&r.key, r.value);
        ctx.forward(Record { key: r.key, value, timestamp: r.timestamp, headers: r.headers });
        Ok(())
    }

    const BATCHES: bool = true;

    fn process_batch(
        &mut self,
        ctx: &mut ProcessorContext<K, VR>,
        records: RecordBatch<K, V>,
    ) -> Result<(), ProcessError> {
        let f = &*self.f;
        ctx.forward_batch(records.map_values(f));
        Ok(())
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Each record with its value replaced by `f(value)` (`KSTREAM-MAPVALUES-`). Keys are
    /// unchanged, so no repartition follows.
    ///
    /// ```
    /// use streams_dsl::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.stream::<String, String>("names").map_values(|v| v.len() as i64).to("lengths");
    /// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
    /// driver.input_topic::<String, String>("names").pipe_input_at("k".into(), "ada".into(), 7)?;
    /// let r = driver.output_topic::<String, i64>("lengths").read_record().unwrap();
    /// assert_eq!((r.key.as_str(), r.value, r.timestamp), ("k", 3, 7));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map_values<VR: Clone + 'static>(
        &self,
        f: impl Fn(V) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR> {
        self.map_values_impl(None, move |_: &K, v: V| f(v))
    }

    /// [`KStream::map_values`] with a processor name.
    pub fn map_values_named<VR: Clone + 'static>(
        &self,
        named: Named,
        f: impl Fn(V) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR> {
        self.map_values_impl(Some(named), move |_: &K, v: V| f(v))
    }

    /// Like [`KStream::map_values`], with read-only access to the key (Kafka's
    /// `ValueMapperWithKey`).
    pub fn map_values_with_key<VR: Clone + 'static>(
        &self,
        f: impl Fn(&K, V) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR> {
        self.map_values_impl(None, f)
    }

    fn map_values_impl<VR: Clone + 'static>(
        &self,
        named: Option<Named>,
        f: impl Fn(&K, V) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR> {
        let name = self.name(named, "KSTREAM-MAPVALUES-");
        let f = Arc::new(f);
        let mut next: KStream<K, VR> = self.then(name, move || MapValues { f: f.clone() });
        next.repartition_required = self.repartition_required;
        next.key_serde = self.key_serde.clone();
        next
    }
}
