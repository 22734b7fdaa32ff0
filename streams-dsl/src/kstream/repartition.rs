//! `repartition`: write the stream through an internal topic so that records are partitioned by
//! their current key, and read it back in a new sub-topology.

use streams_core::{Sink, Source};

use crate::config::{Produced, Repartitioned};
use crate::kstream::KStream;
use crate::kstream::filter::keep_all;

/// Kafka's pattern for generated names: repartition nodes of a generated topic name keep their
/// generated names; a user-named topic `x` gives `x-filter`, `x-sink` and `x-source`.
fn looks_generated(prefix: &str) -> bool {
    let Some(rest) = prefix.strip_prefix("KSTREAM") else { return false };
    let Some((_, digits)) = rest.rsplit_once('-') else { return false };
    digits.len() == 10 && digits.bytes().all(|b| b.is_ascii_digit())
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Writes the stream to the internal topic `<application.id>-<name>-repartition` and reads
    /// it back (`KSTREAM-REPARTITION-`): downstream tasks then see each key in one partition.
    /// The topic is created at start with as many partitions as the upstream source topics have
    /// (the most), unless [`Repartitioned::with_number_of_partitions`] says otherwise.
    ///
    /// ```
    /// use streams_dsl::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.stream::<String, String>("in").select_key(|_, v| v.clone()).repartition().to("out");
    /// let topology = builder.build()?;
    /// assert_eq!(topology.describe().subtopologies.len(), 2);
    /// let driver = TopologyTestDriver::new(topology, StreamsConfig::new("app"))?;
    /// driver.input_topic::<String, String>("in").pipe_input_at("k".into(), "v".into(), 0)?;
    /// assert_eq!(driver.output_topic::<String, String>("out").read_key_value(), Some(("v".into(), "v".into())));
    /// assert!(driver.output_topic_names().contains(&"app-KSTREAM-REPARTITION-0000000002-repartition".to_string()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn repartition(&self) -> KStream<K, V> {
        self.repartition_with(Repartitioned::default())
    }

    /// [`KStream::repartition`] with a name, partition count, serdes or partitioner.
    pub fn repartition_with(&self, repartitioned: Repartitioned<K, V>) -> KStream<K, V> {
        let base = match repartitioned.name {
            Some(n) => n,
            None => self.builder.borrow_mut().new_name("KSTREAM-REPARTITION-"),
        };
        self.through_internal_topic(&base, repartitioned.partitions, repartitioned.produced)
    }

    /// Inserts filter → sink → internal topic → source, named as Kafka names them, and returns
    /// the stream read back (not needing another repartition).
    pub(crate) fn through_internal_topic(
        &self,
        prefix: &str,
        partitions: Option<i32>,
        produced: Produced<K, V>,
    ) -> KStream<K, V> {
        let topic = if prefix.ends_with("-repartition") {
            prefix.to_string()
        } else {
            format!("{prefix}-repartition")
        };
        let (sink_name, filter_name, source_name) = {
            let mut st = self.builder.borrow_mut();
            let gen_sink = st.new_name("KSTREAM-SINK-");
            let gen_filter = st.new_name("KSTREAM-FILTER-");
            let gen_source = st.new_name("KSTREAM-SOURCE-");
            if looks_generated(prefix) {
                (gen_sink, gen_filter, gen_source)
            } else {
                (format!("{topic}-sink"), format!("{topic}-filter"), format!("{topic}-source"))
            }
        };
        let key_serde = produced.key_serde.clone().or_else(|| self.key_serde.clone());
        let value_serde = produced.value_serde.clone().or_else(|| self.value_serde.clone());
        let filter = {
            let next = self.then(filter_name, keep_all);
            self.same_shape(next)
        };
        let sink =
            produced.apply(Sink::internal_topic(&topic), key_serde.clone(), value_serde.clone());
        let mut source = Source::<K, V>::internal_topic(&topic);
        if let Some(k) = &key_serde {
            source = source.key_serde(k.clone());
        }
        if let Some(v) = &value_serde {
            source = source.value_serde(v.clone());
        }
        let mut st = self.builder.borrow_mut();
        st.topology.add_internal_topic(&topic, partitions);
        let result = st.topology.add_sink_with(&sink_name, sink, &[&filter.node]).map(|_| ());
        st.record(result);
        let result = st.topology.add_source_with(&source_name, source).map(|_| ());
        st.record(result);
        drop(st);
        KStream::new(self.builder.clone(), source_name, key_serde, value_serde)
    }
}

#[cfg(test)]
mod tests {
    use super::looks_generated;

    #[test]
    fn generated_names_are_told_from_user_names() {
        assert!(looks_generated("KSTREAM-AGGREGATE-STATE-STORE-0000000002"));
        assert!(looks_generated("KSTREAM-REPARTITION-0000000001"));
        assert!(!looks_generated("counts"));
        assert!(!looks_generated("KSTREAM-REPARTITION-0000000001-repartition"));
        assert!(!looks_generated("KSTREAM-X-123"));
    }
}
