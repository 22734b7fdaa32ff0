//! `flat_map`: zero or more records, with new keys and values, per record.

use std::sync::Arc;

use streams_core::{ProcessError, Processor, ProcessorContext, Record, RecordBatch};

use crate::config::Named;
use crate::kstream::KStream;

struct FlatMap<F> {
    f: Arc<F>,
}

impl<K, V, KR, VR, I, F> Processor<K, V, KR, VR> for FlatMap<F>
where
    K: 'static,
    V: 'static,
    KR: Clone + 'static,
    VR: Clone + 'static,
    I: IntoIterator<Item = (KR, VR)>,
    F: Fn(K, V) -> I + 'static,
{
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<KR, VR>,
        r: Record<K, V>,
    ) -> Result<(), ProcessError> {
        for (key, value) in (self.f)(r.key, r.value) {
            ctx.forward(Record { key, value, timestamp: r.timestamp, headers: r.headers.clone() });
        }
        Ok(())
    }

    const BATCHES: bool = true;

    fn process_batch(
        &mut self,
        ctx: &mut ProcessorContext<KR, VR>,
        records: RecordBatch<K, V>,
    ) -> Result<(), ProcessError> {
        let f = &*self.f;
        ctx.forward_batch(records.flat_map(|r| {
            let (timestamp, headers) = (r.timestamp, r.headers);
            f(r.key, r.value).into_iter().map(move |(key, value)| Record {
                key,
                value,
                timestamp,
                headers: headers.clone(),
            })
        }));
        Ok(())
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// The records `f(key, value)` yields for each record, each with the input's timestamp and
    /// headers (`KSTREAM-FLATMAP-`). Marks the stream for repartitioning.
    ///
    /// ```
    /// use streams_dsl::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.stream::<String, String>("pairs")
    ///     .flat_map(|k, v| vec![(k.clone(), v.clone()), (v, k)])
    ///     .to("both-ways");
    /// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
    /// driver.input_topic::<String, String>("pairs").pipe_input_at("a".into(), "b".into(), 0)?;
    /// let out = driver.output_topic::<String, String>("both-ways").read_key_values_to_list();
    /// assert_eq!(out, vec![("a".into(), "b".into()), ("b".into(), "a".into())]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flat_map<KR, VR, I>(
        &self,
        f: impl Fn(K, V) -> I + Send + Sync + 'static,
    ) -> KStream<KR, VR>
    where
        KR: Clone + 'static,
        VR: Clone + 'static,
        I: IntoIterator<Item = (KR, VR)> + 'static,
    {
        self.flat_map_impl(None, f)
    }

    /// [`KStream::flat_map`] with a processor name.
    pub fn flat_map_named<KR, VR, I>(
        &self,
        named: Named,
        f: impl Fn(K, V) -> I + Send + Sync + 'static,
    ) -> KStream<KR, VR>
    where
        KR: Clone + 'static,
        VR: Clone + 'static,
        I: IntoIterator<Item = (KR, VR)> + 'static,
    {
        self.flat_map_impl(Some(named), f)
    }

    fn flat_map_impl<KR, VR, I>(
        &self,
        named: Option<Named>,
        f: impl Fn(K, V) -> I + Send + Sync + 'static,
    ) -> KStream<KR, VR>
    where
        KR: Clone + 'static,
        VR: Clone + 'static,
        I: IntoIterator<Item = (KR, VR)> + 'static,
    {
        let name = self.name(named, "KSTREAM-FLATMAP-");
        let f = Arc::new(f);
        let mut next: KStream<KR, VR> = self.then(name, move || FlatMap { f: f.clone() });
        next.repartition_required = true;
        next
    }
}
