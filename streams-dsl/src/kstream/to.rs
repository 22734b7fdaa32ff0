//! `to`: write the stream to a topic, fixed or chosen per record.

use streams_core::{RecordMetadata, Sink};

use crate::config::Produced;
use crate::kstream::KStream;

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Writes every record to `topic` (`KSTREAM-SINK-`), with the serdes the stream carries or
    /// the defaults for `K` and `V`; partitions by murmur2 of the serialized key, as a Kafka
    /// producer would.
    ///
    /// ```
    /// use streams_dsl::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.stream::<String, String>("in").to("out");
    /// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
    /// driver.input_topic::<String, String>("in").pipe_input_at("k".into(), "v".into(), 9)?;
    /// let r = driver.output_topic::<String, String>("out").read_record().unwrap();
    /// assert_eq!((r.key.as_str(), r.value.as_str(), r.timestamp), ("k", "v", 9));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to(&self, topic: &str) {
        self.to_with(topic, Produced::default())
    }

    /// Writes every record to `topic` with the serdes, name or partitioner of `produced`.
    pub fn to_with(&self, topic: &str, produced: Produced<K, V>) {
        self.sink(Sink::topic(topic), produced)
    }

    /// Writes each record to the topic `extractor(key, value, source)` names (Kafka's
    /// `TopicNameExtractor`). The topics must exist or be creatable.
    ///
    /// ```
    /// use streams_dsl::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.stream::<String, String>("events").to_dynamic(|k, _, _| format!("events-{k}"));
    /// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
    /// driver.input_topic::<String, String>("events").pipe_input_at("eu".into(), "x".into(), 0)?;
    /// assert_eq!(driver.output_topic::<String, String>("events-eu").read_value().as_deref(), Some("x"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_dynamic(
        &self,
        extractor: impl Fn(&K, &V, Option<&RecordMetadata>) -> String + Send + Sync + 'static,
    ) {
        self.to_dynamic_with(extractor, Produced::default())
    }

    /// [`KStream::to_dynamic`] with the serdes, name or partitioner of `produced`.
    pub fn to_dynamic_with(
        &self,
        extractor: impl Fn(&K, &V, Option<&RecordMetadata>) -> String + Send + Sync + 'static,
        produced: Produced<K, V>,
    ) {
        self.sink(Sink::topic_per_record(extractor), produced)
    }

    fn sink(&self, sink: Sink<K, V>, produced: Produced<K, V>) {
        let generated = self.builder.borrow_mut().new_name("KSTREAM-SINK-");
        let name = produced.name.clone().unwrap_or(generated);
        let sink = produced.apply(sink, self.key_serde.clone(), self.value_serde.clone());
        let mut st = self.builder.borrow_mut();
        let result = st.topology.add_sink_with(&name, sink, &[&self.node]).map(|_| ());
        st.record(result);
    }
}
