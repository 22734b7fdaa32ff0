//! `map`: a new key and value per record. The key changes, so a later grouping or join
//! repartitions.

use std::sync::Arc;

use streams_core::{ProcessError, Processor, ProcessorContext, Record, RecordBatch};

use crate::config::Named;
use crate::kstream::KStream;

struct Map<F> {
    f: Arc<F>,
}

impl<K, V, KR, VR, F> Processor<K, V, KR, VR> for Map<F>
where
    K: 'static,
    V: 'static,
    KR: Clone + 'static,
    VR: Clone + 'static,
    F: Fn(K, V) -> (KR, VR) + 'static,
{
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<KR, VR>,
        r: Record<K, V>,
    ) -> Result<(), ProcessError> {
        let (key, value) = (self.f)(r.key, r.value);
        ctx.forward(Record { key, value, timestamp: r.timestamp, headers: r.headers });
        Ok(())
    }

    const BATCHES: bool = true;

    fn process_batch(
        &mut self,
        ctx: &mut ProcessorContext<KR, VR>,
        records: RecordBatch<K, V>,
    ) -> Result<(), ProcessError> {
        let f = &*self.f;
        ctx.forward_batch(records.map(|r| {
            let (key, value) = f(r.key, r.value);
            Record { key, value, timestamp: r.timestamp, headers: r.headers }
        }));
        Ok(())
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Each record as `f(key, value)` (`KSTREAM-MAP-`). Marks the stream for repartitioning
    /// before a grouping or join.
    ///
    /// ```
    /// use streams_dsl::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.stream::<String, String>("users").map(|k, v| (v, k)).to("by-name");
    /// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
    /// driver.input_topic::<String, String>("users").pipe_input_at("id-1".into(), "ada".into(), 0)?;
    /// let out = driver.output_topic::<String, String>("by-name");
    /// assert_eq!(out.read_key_value(), Some(("ada".to_string(), "id-1".to_string())));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map<KR: Clone + 'static, VR: Clone + 'static>(
        &self,
        f: impl Fn(K, V) -> (KR, VR) + Send + Sync + 'static,
    ) -> KStream<KR, VR> {
        self.map_impl(None, f)
    }

    /// [`KStream::map`] with a processor name.
    pub fn map_named<KR: Clone + 'static, VR: Clone + 'static>(
        &self,
        named: Named,
        f: impl Fn(K, V) -> (KR, VR) + Send + Sync + 'static,
    ) -> KStream<KR, VR> {
        self.map_impl(Some(named), f)
    }

    fn map_impl<KR: Clone + 'static, VR: Clone + 'static>(
        &self,
        named: Option<Named>,
        f: impl Fn(K, V) -> (KR, VR) + Send + Sync + 'static,
    ) -> KStream<KR, VR> {
        let name = self.name(named, "KSTREAM-MAP-");
        let f = Arc::new(f);
        let mut next: KStream<KR, VR> = self.then(name, move || Map { f: f.clone() });
        next.repartition_required = true;
        next
    }
}
