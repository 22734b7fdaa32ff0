//! `flat_map_values`: zero or more values per record, each under the record's key.

use std::sync::Arc;

use streams_core::{ProcessError, Processor, ProcessorContext, Record, RecordBatch};

use crate::config::Named;
use crate::kstream::KStream;

struct FlatMapValues<F> {
    f: Arc<F>,
}

impl<K, V, VR, I, F> Processor<K, V, K, VR> for FlatMapValues<F>
where
    K: Clone + 'static,
    V: 'static,
    VR: Clone + 'static,
    I: IntoIterator<Item = VR>,
    F: Fn(&K, V) -> I + 'static,
{
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<K, VR>,
        r: Record<K, V>,
    ) -> Result<(), ProcessError> {
        for value in (self.f)(&r.key, r.value) {
            ctx.forward(Record {
                key: r.key.clone(),
                value,
                timestamp: r.timestamp,
                headers: r.headers.clone(),
            });
        }
        Ok(())
    }

    const BATCHES: bool = true;

    fn process_batch(
        &mut self,
        ctx: &mut ProcessorContext<K, VR>,
        records: RecordBatch<K, V>,
    ) -> Result<(), ProcessError> {
        let f = &*self.f;
        ctx.forward_batch(records.flat_map(|r| {
            let Record { key, value, timestamp, headers } = r;
            // `I` cannot borrow the key (it is one type for every call), so the key moves on.
            f(&key, value).into_iter().map(move |value| Record {
                key: key.clone(),
                value,
                timestamp,
                headers: headers.clone(),
            })
        }));
        Ok(())
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// The values `f(value)` yields for each record, each under the record's key, timestamp and
    /// headers (`KSTREAM-FLATMAPVALUES-`).
    ///
    /// ```
    /// use streams_dsl::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.stream::<Option<String>, String>("lines")
    ///     .flat_map_values(|line| line.split_whitespace().map(str::to_string).collect::<Vec<_>>())
    ///     .to("words");
    /// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
    /// driver.input_topic::<Option<String>, String>("lines").pipe_input_at(None, "to be".into(), 3)?;
    /// let words = driver.output_topic::<Option<String>, String>("words").read_values_to_list();
    /// assert_eq!(words, vec!["to".to_string(), "be".to_string()]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flat_map_values<VR, I>(
        &self,
        f: impl Fn(V) -> I + Send + Sync + 'static,
    ) -> KStream<K, VR>
    where
        VR: Clone + 'static,
        I: IntoIterator<Item = VR> + 'static,
    {
        self.flat_map_values_impl(None, move |_: &K, v: V| f(v))
    }

    /// [`KStream::flat_map_values`] with a processor name.
    pub fn flat_map_values_named<VR, I>(
        &self,
        named: Named,
        f: impl Fn(V) -> I + Send + Sync + 'static,
    ) -> KStream<K, VR>
    where
        VR: Clone + 'static,
        I: IntoIterator<Item = VR> + 'static,
    {
        self.flat_map_values_impl(Some(named), move |_: &K, v: V| f(v))
    }

    fn flat_map_values_impl<VR, I>(
        &self,
        named: Option<Named>,
        f: impl Fn(&K, V) -> I + Send + Sync + 'static,
    ) -> KStream<K, VR>
    where
        VR: Clone + 'static,
        I: IntoIterator<Item = VR> + 'static,
    {
        let name = self.name(named, "KSTREAM-FLATMAPVALUES-");
        let f = Arc::new(f);
        let mut next: KStream<K, VR> = self.then(name, move || FlatMapValues { f: f.clone() });
        next.repartition_required = self.repartition_required;
        next.key_serde = self.key_serde.clone();
        next
    }
}
