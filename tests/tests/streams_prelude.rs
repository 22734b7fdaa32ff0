//! An application written with one `use streams_dsl::prelude::*;` and nothing else from the
//! project: the broker, topics, a timestamp extractor, a processor with headers, metadata and a
//! punctuator, an error handler, bytes and string serdes, run on the embedded broker. Module
//! `application` below is that application; the test around it checks what it wrote.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use broker_embedded::ProducerRecord;
use integration_tests::read_partition_until;

/// The application: only the prelude (and the standard library).
mod application {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use streams_dsl::prelude::*;

    /// Event time from the value, `<millis>|<text>`; anything else is dropped.
    struct FromValue;

    impl TimestampExtractor for FromValue {
        fn extract(&self, record: &RawRecord, _partition_time: i64) -> Extracted {
            let value = record.value.as_deref().unwrap_or_default();
            let millis = value.split(|&b| b == b'|').next().filter(|m| m.len() < value.len());
            match millis.and_then(|ms| std::str::from_utf8(ms).ok()?.parse().ok()) {
                Some(ms) => Extracted::Timestamp(ms),
                None => Extracted::Skip,
            }
        }
    }

    /// Adds a header with the record's source offset, and forwards `tick` on each stream-time
    /// punctuation (every 10 ms of event time), with the stream time.
    struct Tag {
        tick: Option<PunctuatorId>,
    }

    impl Processor<Bytes, String> for Tag {
        fn init(&mut self, ctx: &mut ProcessorContext<Bytes, String>) -> Result<(), ProcessError> {
            self.tick = Some(ctx.schedule(Duration::from_millis(10), PunctuationType::StreamTime));
            Ok(())
        }

        fn process(
            &mut self,
            ctx: &mut ProcessorContext<Bytes, String>,
            mut record: Record<Bytes, String>,
        ) -> Result<(), ProcessError> {
            let at: RecordMetadata = ctx.record_metadata().ok_or("no metadata")?;
            let offset = Bytes::from(at.offset.to_string());
            record.headers.push(Header { key: "offset".into(), value: Some(offset) });
            ctx.forward(record);
            Ok(())
        }

        fn punctuate(
            &mut self,
            ctx: &mut ProcessorContext<Bytes, String>,
            id: PunctuatorId,
            timestamp: i64,
        ) -> Result<(), ProcessError> {
            if Some(id) == self.tick {
                let value = format!("{timestamp}|tick");
                ctx.forward(Record::new(Bytes::from_static(b"tick"), value, timestamp));
            }
            Ok(())
        }
    }

    /// Skips records that do not deserialize, counting them.
    struct CountAndSkip(Arc<AtomicUsize>);

    impl ErrorHandler for CountAndSkip {
        fn handle(&self, ctx: &ErrorContext<'_>) -> ErrorResponse {
            if ctx.kind == ErrorKind::Deserialization {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
            ErrorResponse::Continue
        }
    }

    /// Opens a broker in `dir`, creates the topics and starts the application; `skipped` counts
    /// the records that did not deserialize.
    pub(crate) async fn start(
        dir: &std::path::Path,
        skipped: Arc<AtomicUsize>,
    ) -> Result<(Broker, KafkaStreams), Box<dyn std::error::Error>> {
        let mut config = BrokerConfig::new(dir);
        config.group_initial_rebalance_delay = Duration::ZERO;
        let broker = Broker::open(config).await?;
        for topic in ["in", "out"] {
            broker.admin().create_topic(NewTopic::new(topic, 1)).await?;
        }
        let builder = StreamsBuilder::new();
        builder
            .stream_with(
                &["in"],
                Consumed::with(BytesSerde, StringSerde).with_timestamp_extractor(FromValue),
            )
            .filter(|_, v: &String| !v.ends_with("|drop"))
            .process(|| Tag { tick: None })
            .to_with("out", Produced::with(BytesSerde, StringSerde));
        let config = StreamsConfig::new("prelude")
            .commit_interval(Duration::from_millis(50))
            .deserialization_error_handler(CountAndSkip(skipped));
        let app = KafkaStreams::new(builder.build()?, config, &broker)?;
        app.start()?;
        Ok((broker, app))
    }

    /// Whether `app` is running.
    pub(crate) fn running(app: &KafkaStreams) -> bool {
        app.state() == State::Running
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_needs_only_the_prelude() {
    let dir = tempfile::tempdir().unwrap();
    let skipped = Arc::new(AtomicUsize::new(0));
    let (broker, app) = application::start(dir.path(), skipped.clone()).await.unwrap();
    let producer = broker.producer(Default::default()).unwrap();
    let values: [&[u8]; 6] = [b"5|a", b"12|b", b"no timestamp", b"15|drop", b"20|\xff", b"31|c"];
    for v in values {
        let record = ProducerRecord::new("in", bytes::Bytes::copy_from_slice(v)).key("k");
        producer.send_detached(record).await.unwrap();
    }
    producer.flush().await.unwrap();

    // "5|a" (offset 0), "12|b" (1) and "31|c" (5), each followed by a tick with the stream
    // time (Kafka's stream-time punctuation: due at 0, 10, 30, run after the record that moved
    // stream time past them, once however many intervals were missed); no record for the one
    // without a timestamp (skipped by the extractor), the filtered one, or the one that is not
    // UTF-8 (skipped by the handler).
    let want = ["5|a", "5|tick", "12|b", "12|tick", "31|c", "31|tick"];
    let patience = Duration::from_secs(60);
    let out = read_partition_until(&broker, "out", 0, want.len(), patience).await.unwrap();
    assert!(application::running(&app));
    let got: Vec<(String, i64, Option<String>)> = out
        .iter()
        .map(|r| {
            let value = String::from_utf8_lossy(r.value.as_deref().unwrap()).to_string();
            let offset = r.headers.iter().find(|h| h.key == "offset");
            let offset = offset.map(|h| String::from_utf8_lossy(h.value.as_deref().unwrap()));
            (value, r.timestamp, offset.map(|o| o.to_string()))
        })
        .collect();
    let expected: Vec<(String, i64, Option<String>)> = want
        .iter()
        .zip([Some("0"), None, Some("1"), None, Some("5"), None])
        .map(|(v, o)| {
            let ts = v.split_once('|').unwrap().0.parse().unwrap();
            (v.to_string(), ts, o.map(str::to_string))
        })
        .collect();
    assert_eq!(got, expected);
    assert_eq!(skipped.load(Ordering::SeqCst), 1);
    assert!(app.close(Duration::from_secs(30)));
    broker.close().await.unwrap();
}
