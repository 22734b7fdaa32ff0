//! The embedded broker behind the runtime's client traits.

use std::sync::Arc;
use std::time::Duration;

use broker_embedded::{
    AssignmentStrategy, Broker, Consumer, ConsumerConfig, NewTopic, OffsetAndMetadata, OffsetReset,
    Producer, ProducerConfig, ProducerRecordRef, TopicPartition,
};
use tokio::runtime::Handle;

use crate::client::{Backend, BackendConsumer, BackendProducer, ChangelogEntry, ChangelogReader};
use crate::error::StreamsError;
use crate::task::shared::Outbox;
use crate::time::RawRecords;

/// The embedded broker, driven from stream threads through a Tokio runtime handle.
#[derive(Clone)]
pub(crate) struct EmbeddedBackend {
    broker: Broker,
    rt: Handle,
}

impl EmbeddedBackend {
    pub(crate) fn new(broker: Broker, rt: Handle) -> Self {
        Self { broker, rt }
    }
}

impl Backend for EmbeddedBackend {
    fn partition_count(&self, topic: &str) -> Result<Option<i32>, StreamsError> {
        match self.broker.admin().describe_topic(topic) {
            Ok(d) => Ok(Some(d.partitions.len() as i32)),
            Err(broker_embedded::Error::UnknownTopic(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn create_topic(
        &self,
        topic: &str,
        partitions: i32,
        configs: &[(&str, &str)],
    ) -> Result<(), StreamsError> {
        if self.partition_count(topic)?.is_some() {
            return Ok(());
        }
        let mut t = NewTopic::new(topic, partitions);
        for (k, v) in configs {
            t = t.config(*k, *v);
        }
        match self.rt.block_on(self.broker.admin().create_topic(t)) {
            Ok(()) | Err(broker_embedded::Error::TopicExists(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn offset_range(&self, topic: &str, partition: i32) -> Result<(i64, i64), StreamsError> {
        let d = self.broker.admin().describe_topic(topic)?;
        let p = d.partitions.get(partition as usize).ok_or_else(|| {
            StreamsError::State(format!("changelog `{topic}` has no partition {partition}"))
        })?;
        Ok((p.log_start_offset, p.high_watermark))
    }

    fn changelog_reader(
        &self,
        topic: &str,
        partition: i32,
        from: i64,
        until: i64,
    ) -> Result<Box<dyn ChangelogReader>, StreamsError> {
        let mut config = ConsumerConfig::default().offset_reset(OffsetReset::Earliest);
        config.max_poll_records = 10_000;
        config.max_partition_fetch_bytes = 8 << 20;
        let consumer = self.broker.consumer(config)?;
        let tp = TopicPartition::new(topic, partition);
        consumer.assign(std::slice::from_ref(&tp))?;
        consumer.seek(&tp, from)?;
        Ok(Box::new(EmbeddedChangelogReader {
            consumer,
            tp,
            rt: self.rt.clone(),
            until,
            done: from >= until,
        }))
    }

    fn list_topics(&self) -> Result<Vec<String>, StreamsError> {
        Ok(self.broker.admin().list_topics())
    }

    fn consumer(
        &self,
        group: &str,
        client_id: &str,
        assignor: Arc<dyn broker_embedded::Assignor>,
        max_poll_records: usize,
        session_timeout: Duration,
    ) -> Result<Box<dyn BackendConsumer>, StreamsError> {
        let heartbeat = (session_timeout / 10).max(Duration::from_millis(10));
        let mut config = ConsumerConfig::group(group)
            .assignment_strategies(vec![AssignmentStrategy::Custom(assignor)])
            // Kafka Streams reads from the beginning when a partition has no committed offset.
            .offset_reset(OffsetReset::Earliest)
            .session_timeout(session_timeout, heartbeat);
        config.client_id = client_id.to_string();
        config.max_poll_records = max_poll_records;
        config.pause_before_rejoin = true;
        let consumer = self.broker.consumer(config)?;
        Ok(Box::new(EmbeddedConsumer { consumer, rt: self.rt.clone() }))
    }

    fn producer(&self, _client_id: &str) -> Result<Box<dyn BackendProducer>, StreamsError> {
        let producer = self.broker.producer(
            ProducerConfig::default().linger(Duration::from_millis(5)).batch_size(256 << 10),
        )?;
        Ok(Box::new(EmbeddedProducer { producer, rt: self.rt.clone() }))
    }
}

struct EmbeddedConsumer {
    consumer: Consumer,
    rt: Handle,
}

impl BackendConsumer for EmbeddedConsumer {
    fn subscribe(&mut self, topics: &[String]) -> Result<(), StreamsError> {
        let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
        Ok(self.rt.block_on(self.consumer.subscribe(&topics))?)
    }

    fn poll(&mut self, timeout: Duration) -> Result<Vec<RawRecords>, StreamsError> {
        Ok(self.rt.block_on(self.consumer.poll_columns(timeout))?)
    }

    fn assignment(&self) -> Vec<(Arc<str>, i32)> {
        self.consumer
            .assignment()
            .into_iter()
            .map(|tp| (Arc::from(tp.topic.as_str()), tp.partition))
            .collect()
    }

    fn assignment_user_data(&self) -> Option<bytes::Bytes> {
        self.consumer.assignment_user_data()
    }

    fn rebalance_pending(&self) -> bool {
        self.consumer.rebalance_pending()
    }

    fn seek(&mut self, topic: &str, partition: i32, offset: i64) -> Result<(), StreamsError> {
        Ok(self.consumer.seek(&TopicPartition::new(topic, partition), offset)?)
    }

    fn commit(&mut self, offsets: &[(Arc<str>, i32, i64)]) -> Result<(), StreamsError> {
        if offsets.is_empty() {
            return Ok(());
        }
        let offsets = offsets
            .iter()
            .map(|(t, p, o)| (TopicPartition::new(t.to_string(), *p), OffsetAndMetadata::new(*o)))
            .collect();
        Ok(self.rt.block_on(self.consumer.commit_sync(Some(offsets)))?)
    }

    fn close(&mut self) -> Result<(), StreamsError> {
        Ok(self.rt.block_on(self.consumer.close())?)
    }
}

struct EmbeddedProducer {
    producer: Producer,
    rt: Handle,
}

impl BackendProducer for EmbeddedProducer {
    fn send(&mut self, records: &Outbox) -> Result<(), StreamsError> {
        if records.is_empty() {
            return Ok(());
        }
        // Borrowed: the producer copies each record into its batch, so nothing is cloned or
        // reference-counted here. One call for the lot (the producer's lock taken once per run
        // of records); the delivery outcome is collected by `flush`.
        let records = records.iter().map(|r| ProducerRecordRef {
            topic: r.topic,
            partition: r.partition,
            key: r.key.map(|k| &k[..]),
            value: r.value.map(|v| &v[..]),
            headers: r.headers,
            timestamp: Some(r.timestamp),
        });
        self.rt.block_on(self.producer.send_all_borrowed(records))?;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamsError> {
        self.rt.block_on(self.producer.flush())?;
        match self.producer.take_send_error() {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }
}

struct EmbeddedChangelogReader {
    consumer: Consumer,
    tp: TopicPartition,
    rt: Handle,
    until: i64,
    done: bool,
}

impl ChangelogReader for EmbeddedChangelogReader {
    fn next_batch(&mut self) -> Result<Vec<ChangelogEntry>, StreamsError> {
        while !self.done {
            let records = self.rt.block_on(self.consumer.poll(Duration::from_millis(200)))?;
            let mut out = Vec::with_capacity(records.len());
            for r in records {
                if r.offset >= self.until {
                    self.done = true;
                    break;
                }
                if r.offset + 1 >= self.until {
                    self.done = true;
                }
                out.push(ChangelogEntry {
                    offset: r.offset,
                    timestamp: r.timestamp,
                    key: r.key,
                    value: r.value,
                });
            }
            if !out.is_empty() {
                return Ok(out);
            }
            // Compaction may have removed the last records before `until`.
            if self.rt.block_on(self.consumer.position(&self.tp))? >= self.until {
                self.done = true;
            }
        }
        Ok(Vec::new())
    }
}
