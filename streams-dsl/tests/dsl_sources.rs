//! Where a DSL stream reads from: several topics, a pattern (whole topic names), and the
//! timestamps its records get.

#![allow(clippy::unwrap_used)] // Test helpers unwrap too, as tests may.

use streams_core::{Extracted, LogAndSkipOnInvalidTimestamp, RawRecord};
use streams_dsl::prelude::*;

fn s(v: &str) -> String {
    v.to_string()
}

/// Forwards `<topic>@<offset>:<value>`.
struct Whence;

impl Processor<String, String> for Whence {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<String, String>,
        r: Record<String, String>,
    ) -> Result<(), ProcessError> {
        let m = ctx.record_metadata().ok_or("no record metadata while processing")?;
        let v = format!("{}@{}:{}", m.topic, m.offset, r.value);
        ctx.forward(r.with_value(v));
        Ok(())
    }
}

#[test]
fn a_stream_of_several_topics_reads_each_at_its_own_offsets() {
    let builder = StreamsBuilder::new();
    builder.stream_from::<String, String>(&["a", "b"]).process(|| Whence).to("out");
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("src")).unwrap();
    let a = driver.input_topic::<String, String>("a");
    let b = driver.input_topic::<String, String>("b");
    a.pipe_record(rec("1", 5, &[("h", "a0")])).unwrap();
    b.pipe_record(rec("2", 7, &[])).unwrap();
    a.pipe_record(rec("3", 6, &[("h", "a1"), ("g", "")])).unwrap();

    assert_eq!(
        driver.output_topic::<String, String>("out").read_records_to_list(),
        vec![
            rec("a@0:1", 5, &[("h", "a0")]),
            rec("b@0:2", 7, &[]),
            rec("a@1:3", 6, &[("h", "a1"), ("g", "")])
        ]
    );
}

/// A record with key `k`, `value`, `timestamp` and `headers` (name, value).
fn rec(value: &str, timestamp: i64, headers: &[(&str, &str)]) -> TestRecord<String, String> {
    let headers = headers
        .iter()
        .map(|(k, v)| Header { key: s(k), value: Some(Bytes::copy_from_slice(v.as_bytes())) })
        .collect();
    TestRecord { key: s("k"), value: s(value), timestamp, headers }
}

#[test]
fn a_pattern_stream_reads_every_topic_whose_whole_name_matches() {
    let builder = StreamsBuilder::new();
    builder
        .stream_pattern::<String, String>("topic-\\d+", Consumed::default())
        .process(|| Whence)
        .to("out");
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("src")).unwrap();
    driver
        .input_topic::<String, String>("topic-1")
        .pipe_record(rec("x", 3, &[("h", "1")]))
        .unwrap();
    driver.input_topic::<String, String>("topic-22").pipe_record(rec("y", 4, &[])).unwrap();
    driver
        .input_topic::<String, String>("topic-1")
        .pipe_record(rec("z", 9, &[("h", "2")]))
        .unwrap();
    // Not whole-name matches: not read.
    for topic in ["topic-x", "my-topic-1", "topic-1b"] {
        let r = driver.input_topic::<String, String>(topic).pipe_input_at(s("k"), s("no"), 0);
        assert!(r.is_err(), "{topic} should not be read");
    }

    assert_eq!(
        driver.output_topic::<String, String>("out").read_records_to_list(),
        vec![
            rec("topic-1@0:x", 3, &[("h", "1")]),
            rec("topic-22@0:y", 4, &[]),
            rec("topic-1@1:z", 9, &[("h", "2")])
        ]
    );
}

#[test]
fn a_negative_timestamp_fails_by_default_and_is_skipped_with_log_and_skip() {
    let build = |consumed: Consumed<String, String>| {
        let builder = StreamsBuilder::new();
        builder.stream_with::<String, String>(&["in"], consumed).to("out");
        builder.build().unwrap()
    };

    let driver =
        TopologyTestDriver::new(build(Consumed::default()), StreamsConfig::new("t")).unwrap();
    let err = driver.input_topic::<String, String>("in").pipe_input_at(s("k"), s("v"), -1);
    assert!(matches!(err, Err(StreamsError::InvalidTimestamp { .. })), "{err:?}");

    let skip = Consumed::default().with_timestamp_extractor(LogAndSkipOnInvalidTimestamp);
    let driver = TopologyTestDriver::new(build(skip), StreamsConfig::new("t")).unwrap();
    let input = driver.input_topic::<String, String>("in");
    input.pipe_input_at(s("k"), s("bad"), -1).unwrap();
    input.pipe_input_at(s("k"), s("good"), 1).unwrap();
    assert_eq!(driver.output_topic::<String, String>("out").read_values_to_list(), vec![s("good")]);
}

/// Reads the timestamp from the value (`<millis>|<text>`).
struct FromValue;

impl TimestampExtractor for FromValue {
    fn extract(&self, record: &RawRecord, _partition_time: i64) -> Extracted {
        let value = record.value.as_deref().unwrap_or_default();
        let text = String::from_utf8_lossy(value);
        match text.split_once('|').and_then(|(ts, _)| ts.parse().ok()) {
            Some(ts) => Extracted::Timestamp(ts),
            None => Extracted::Skip,
        }
    }
}

#[test]
fn a_consumed_timestamp_extractor_gives_records_their_timestamps() {
    let builder = StreamsBuilder::new();
    builder
        .stream_with::<String, String>(
            &["in"],
            Consumed::default().with_timestamp_extractor(FromValue),
        )
        .to("out");
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("t")).unwrap();
    let input = driver.input_topic::<String, String>("in");
    input.pipe_input_at(s("k"), s("500|a"), 1).unwrap();
    input.pipe_input_at(s("k"), s("no timestamp"), 2).unwrap();
    input.pipe_input_at(s("k"), s("7|b"), 3).unwrap();

    let out: Vec<(String, i64)> = driver
        .output_topic::<String, String>("out")
        .read_records_to_list()
        .into_iter()
        .map(|r| (r.value, r.timestamp))
        .collect();
    assert_eq!(out, vec![(s("500|a"), 500), (s("7|b"), 7)]);
}
