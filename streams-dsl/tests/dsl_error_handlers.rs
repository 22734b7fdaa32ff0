//! The deserialization, processing and production error handlers with poison records among good
//! ones: `LogAndContinue` skips exactly the bad records, `DeadLetterQueue` also writes them (original
//! bytes plus the `__streams.errors.*` headers) to its topic, and `LogAndFail` (the default) makes
//! the pipe call fail naming where the record came from.

#![allow(clippy::unwrap_used)] // Test helpers unwrap too, as tests may.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use streams_core::{ErrorContext, Header, PunctuatorId, StringSerde};
use streams_dsl::prelude::*;

fn header(key: &str, value: &str) -> Header {
    Header { key: key.to_string(), value: Some(Bytes::copy_from_slice(value.as_bytes())) }
}

fn rec<K, V>(key: K, value: V, timestamp: i64, headers: Vec<Header>) -> TestRecord<K, V> {
    TestRecord { key, value, timestamp, headers }
}

fn s(v: &str) -> String {
    v.to_string()
}

/// The last header called `key`, as text.
fn header_text<K, V>(r: &TestRecord<K, V>, key: &str) -> Option<String> {
    r.headers
        .iter()
        .rev()
        .find(|h| h.key == key)
        .and_then(|h| h.value.as_ref())
        .map(|v| String::from_utf8(v.to_vec()).unwrap())
}

const EXCEPTION: &str = "__streams.errors.exception";
const MESSAGE: &str = "__streams.errors.message";
const TOPIC: &str = "__streams.errors.topic";
const PARTITION: &str = "__streams.errors.partition";
const OFFSET: &str = "__streams.errors.offset";

/// Checks a dead letter of a record read from `in`: original key, value, timestamp and headers,
/// then the error headers.
fn assert_dead_letter(
    dead: &TestRecord<String, Bytes>,
    key: &str,
    value: &[u8],
    timestamp: i64,
    original_headers: &[Header],
    offset: i64,
    message_contains: &str,
) {
    assert_eq!(dead.key, key);
    assert_eq!(&dead.value[..], value);
    assert_eq!(dead.timestamp, timestamp);
    assert_eq!(&dead.headers[..original_headers.len()], original_headers, "original headers kept");
    let exception = header_text(dead, EXCEPTION).expect("exception header");
    assert!(!exception.is_empty());
    let message = header_text(dead, MESSAGE).expect("message header");
    assert!(message.contains(message_contains), "message {message:?} lacks {message_contains:?}");
    assert_eq!(header_text(dead, TOPIC).as_deref(), Some("in"));
    assert_eq!(header_text(dead, PARTITION).as_deref(), Some("0"));
    assert_eq!(header_text(dead, OFFSET), Some(offset.to_string()));
}

// ---------------------------------------------------------------------------------------------
// Deserialization errors: values that are not UTF-8 in a topic read as String.

fn upper_case_topology() -> Topology {
    let builder = StreamsBuilder::new();
    builder.stream::<String, String>("in").map_values(|v| v.to_uppercase()).to("out");
    builder.build().unwrap()
}

/// Pipes the first `n` of good, bad, good, bad, good (offsets 0 to 4); bad values are not UTF-8.
fn pipe_with_poison(driver: &TopologyTestDriver, n: usize) -> Vec<Result<(), StreamsError>> {
    let raw = driver.input_topic_with::<String, Bytes>("in", Serdes::string(), Serdes::bytes());
    let records = [
        rec(s("k0"), Bytes::from_static(b"a"), 1, vec![header("h", "0")]),
        rec(s("k1"), Bytes::from_static(&[0xff, 0xfe]), 2, vec![header("h", "1")]),
        rec(s("k2"), Bytes::from_static(b"b"), 3, vec![]),
        rec(s("k3"), Bytes::from_static(&[b'x', 0xc3]), 4, vec![header("h", "3")]),
        rec(s("k4"), Bytes::from_static(b"c"), 5, vec![header("h", "4")]),
    ];
    records.into_iter().take(n).map(|r| raw.pipe_record(r)).collect()
}

fn good_upper_case_output() -> Vec<TestRecord<String, String>> {
    vec![
        rec(s("k0"), s("A"), 1, vec![header("h", "0")]),
        rec(s("k2"), s("B"), 3, vec![]),
        rec(s("k4"), s("C"), 5, vec![header("h", "4")]),
    ]
}

#[test]
fn deserialization_log_and_continue_skips_exactly_the_bad_records() {
    let config = StreamsConfig::new("de").deserialization_error_handler(LogAndContinue);
    let driver = TopologyTestDriver::new(upper_case_topology(), config).unwrap();
    for r in pipe_with_poison(&driver, 5) {
        r.unwrap();
    }
    assert_eq!(
        driver.output_topic::<String, String>("out").read_records_to_list(),
        good_upper_case_output()
    );
    assert_eq!(driver.output_topic_names(), vec![s("out")]);
}

#[test]
fn deserialization_dead_letter_queue_gets_the_original_bytes_and_error_headers() {
    let config =
        StreamsConfig::new("de").deserialization_error_handler(DeadLetterQueue::new("dlq"));
    let driver = TopologyTestDriver::new(upper_case_topology(), config).unwrap();
    for r in pipe_with_poison(&driver, 5) {
        r.unwrap();
    }
    assert_eq!(
        driver.output_topic::<String, String>("out").read_records_to_list(),
        good_upper_case_output()
    );
    let dead = driver
        .output_topic_with::<String, Bytes>("dlq", Serdes::string(), Serdes::bytes())
        .read_records_to_list();
    assert_eq!(dead.len(), 2);
    assert_dead_letter(&dead[0], "k1", &[0xff, 0xfe], 2, &[header("h", "1")], 1, "UTF-8");
    assert_dead_letter(&dead[1], "k3", &[b'x', 0xc3], 4, &[header("h", "3")], 3, "UTF-8");
}

#[test]
fn deserialization_log_and_fail_is_the_default_and_names_the_record() {
    for config in [
        StreamsConfig::new("de"),
        StreamsConfig::new("de").deserialization_error_handler(LogAndFail),
    ] {
        let driver = TopologyTestDriver::new(upper_case_topology(), config).unwrap();
        let results = pipe_with_poison(&driver, 2);
        results[0].as_ref().unwrap();
        let err = results[1].as_ref().unwrap_err();
        match err {
            StreamsError::Deserialization { topic, partition, offset, .. } => {
                assert_eq!((topic.as_str(), *partition, *offset), ("in", 0, 1));
            }
            other => panic!("expected a deserialization error, got {other:?}"),
        }
        assert!(err.to_string().contains("in-0@1"), "{err}");
        let out = driver.output_topic::<String, String>("out");
        assert_eq!(out.read_record(), Some(rec(s("k0"), s("A"), 1, vec![header("h", "0")])));
        assert!(!driver.output_topic_names().contains(&s("dlq")));
    }
}

/// Logs the stream time each record is processed at, and stream-time punctuations.
struct StreamClock {
    log: Arc<Mutex<Vec<String>>>,
}

impl Processor<String, String> for StreamClock {
    fn init(&mut self, ctx: &mut ProcessorContext<String, String>) -> Result<(), ProcessError> {
        ctx.schedule(Duration::from_millis(100), PunctuationType::StreamTime);
        Ok(())
    }
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<String, String>,
        r: Record<String, String>,
    ) -> Result<(), ProcessError> {
        let line = format!("record {} stream-time {}", r.value, ctx.current_stream_time_ms());
        self.log.lock().unwrap().push(line);
        Ok(())
    }
    fn punctuate(
        &mut self,
        _ctx: &mut ProcessorContext<String, String>,
        _id: PunctuatorId,
        timestamp: i64,
    ) -> Result<(), ProcessError> {
        self.log.lock().unwrap().push(format!("punctuate@{timestamp}"));
        Ok(())
    }
}

/// Kafka drops a record that fails to deserialize (with a continuing handler) before it takes
/// part in choosing the next record, so it never moves stream time (`RecordQueue.updateHead`
/// skips it; a `CorruptedRecord` has no timestamp).
#[test]
fn a_record_skipped_by_the_deserialization_handler_does_not_move_stream_time() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let shared = log.clone();
    let builder = StreamsBuilder::new();
    builder.stream::<String, String>("in").process(move || StreamClock { log: shared.clone() });
    let config = StreamsConfig::new("de").deserialization_error_handler(LogAndContinue);
    let driver = TopologyTestDriver::new(builder.build().unwrap(), config).unwrap();
    let raw = driver.input_topic_with::<String, Bytes>("in", Serdes::string(), Serdes::bytes());
    raw.pipe_input_at(s("k"), Bytes::from_static(b"a"), 10).unwrap();
    raw.pipe_input_at(s("k"), Bytes::from_static(&[0xff]), 1_000).unwrap();
    raw.pipe_input_at(s("k"), Bytes::from_static(b"b"), 20).unwrap();
    assert_eq!(
        *log.lock().unwrap(),
        vec!["record a stream-time 10", "punctuate@10", "record b stream-time 20"]
    );
}

// ---------------------------------------------------------------------------------------------
// Processing errors: a processor refuses values starting with "bad".

struct Picky;

impl Processor<String, String> for Picky {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<String, String>,
        r: Record<String, String>,
    ) -> Result<(), ProcessError> {
        if r.value.starts_with("bad") {
            return Err(format!("refusing {}", r.value).into());
        }
        let v = r.value.to_uppercase();
        ctx.forward(r.with_value(v));
        Ok(())
    }
}

fn picky_topology() -> Topology {
    let builder = StreamsBuilder::new();
    builder.stream::<String, String>("in").process_named(Named::as_("picky"), || Picky).to("out");
    builder.build().unwrap()
}

/// Pipes the first `n` of good, bad, good, bad, good (offsets 0 to 4); bad values start with
/// "bad".
fn pipe_good_and_bad(driver: &TopologyTestDriver, n: usize) -> Vec<Result<(), StreamsError>> {
    let input = driver.input_topic::<String, String>("in");
    let records = [
        rec(s("k0"), s("a"), 1, vec![header("h", "0")]),
        rec(s("k1"), s("bad1"), 2, vec![header("h", "1")]),
        rec(s("k2"), s("b"), 3, vec![]),
        rec(s("k3"), s("bad2"), 4, vec![header("h", "3")]),
        rec(s("k4"), s("c"), 5, vec![header("h", "4")]),
    ];
    records.into_iter().take(n).map(|r| input.pipe_record(r)).collect()
}

#[test]
fn processing_log_and_continue_skips_exactly_the_failing_records() {
    let config = StreamsConfig::new("pr").processing_error_handler(LogAndContinue);
    let driver = TopologyTestDriver::new(picky_topology(), config).unwrap();
    for r in pipe_good_and_bad(&driver, 5) {
        r.unwrap();
    }
    assert_eq!(
        driver.output_topic::<String, String>("out").read_records_to_list(),
        good_upper_case_output()
    );
    assert_eq!(driver.output_topic_names(), vec![s("out")]);
}

/// Kafka hands a processing exception to the handler inside the failing node
/// (`ProcessorNode.process`); with CONTINUE that node drops the record and returns normally, so
/// the other children of its parent still get the record.
#[test]
fn processing_continue_drops_the_record_only_where_it_failed() {
    let builder = StreamsBuilder::new();
    let stream = builder.stream::<String, String>("in");
    stream.process_named(Named::as_("picky"), || Picky).to("checked");
    stream.to("all");
    let config = StreamsConfig::new("pr").processing_error_handler(LogAndContinue);
    let driver = TopologyTestDriver::new(builder.build().unwrap(), config).unwrap();
    for r in pipe_good_and_bad(&driver, 5) {
        r.unwrap();
    }
    assert_eq!(
        driver.output_topic::<String, String>("checked").read_records_to_list(),
        good_upper_case_output()
    );
    assert_eq!(
        driver.output_topic::<String, String>("all").read_values_to_list(),
        vec![s("a"), s("bad1"), s("b"), s("bad2"), s("c")]
    );
}

#[test]
fn processing_dead_letter_queue_gets_the_source_record_and_error_headers() {
    let config = StreamsConfig::new("pr").processing_error_handler(DeadLetterQueue::new("dlq"));
    let driver = TopologyTestDriver::new(picky_topology(), config).unwrap();
    for r in pipe_good_and_bad(&driver, 5) {
        r.unwrap();
    }
    assert_eq!(
        driver.output_topic::<String, String>("out").read_records_to_list(),
        good_upper_case_output()
    );
    let dead = driver
        .output_topic_with::<String, Bytes>("dlq", Serdes::string(), Serdes::bytes())
        .read_records_to_list();
    assert_eq!(dead.len(), 2);
    assert_dead_letter(&dead[0], "k1", b"bad1", 2, &[header("h", "1")], 1, "refusing bad1");
    assert_dead_letter(&dead[1], "k3", b"bad2", 4, &[header("h", "3")], 3, "refusing bad2");
}

#[test]
fn processing_log_and_fail_is_the_default_and_names_processor_and_record() {
    for config in
        [StreamsConfig::new("pr"), StreamsConfig::new("pr").processing_error_handler(LogAndFail)]
    {
        let driver = TopologyTestDriver::new(picky_topology(), config).unwrap();
        let results = pipe_good_and_bad(&driver, 2);
        results[0].as_ref().unwrap();
        let err = results[1].as_ref().unwrap_err();
        match err {
            StreamsError::Processing { node, .. } => assert_eq!(node, "picky"),
            other => panic!("expected a processing error, got {other:?}"),
        }
        let text = err.to_string();
        assert!(text.contains("in-0@1"), "{text}");
        assert!(text.contains("picky"), "{text}");
        assert!(text.contains("refusing bad1"), "{text}");
        assert_eq!(
            driver.output_topic::<String, String>("out").read_values_to_list(),
            vec![s("A")]
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Production errors: the sink's value serde refuses values starting with "BAD".

struct PickySerde;

impl Serde<String> for PickySerde {
    fn serialize(&self, topic: &str, value: &String) -> Result<Option<Bytes>, SerdeError> {
        if value.starts_with("BAD") {
            return Err(SerdeError::new(format!("cannot write {value} to {topic}")));
        }
        <StringSerde as Serde<String>>::serialize(&StringSerde, topic, value)
    }
    fn deserialize(&self, topic: &str, bytes: Option<&Bytes>) -> Result<String, SerdeError> {
        <StringSerde as Serde<String>>::deserialize(&StringSerde, topic, bytes)
    }
}

fn production_topology() -> Topology {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .map_values(|v| v.to_uppercase())
        .to_with("out", Produced::with(Serdes::string(), PickySerde));
    builder.build().unwrap()
}

#[test]
fn production_log_and_continue_skips_exactly_the_unwritable_records() {
    let config = StreamsConfig::new("po").production_error_handler(LogAndContinue);
    let driver = TopologyTestDriver::new(production_topology(), config).unwrap();
    for r in pipe_good_and_bad(&driver, 5) {
        r.unwrap();
    }
    assert_eq!(
        driver.output_topic::<String, String>("out").read_records_to_list(),
        good_upper_case_output()
    );
}

/// Kafka's record collector hands a serialization failure to the production handler and, with
/// CONTINUE, drops the record for that sink only (`RecordCollectorImpl.send` returns): the other
/// sinks fed by the same processor still write it.
#[test]
fn production_continue_drops_the_record_only_at_the_failing_sink() {
    let builder = StreamsBuilder::new();
    let upper = builder.stream::<String, String>("in").map_values(|v| v.to_uppercase());
    upper.to_with("checked", Produced::with(Serdes::string(), PickySerde));
    upper.to("all");
    let config = StreamsConfig::new("po").production_error_handler(LogAndContinue);
    let driver = TopologyTestDriver::new(builder.build().unwrap(), config).unwrap();
    for r in pipe_good_and_bad(&driver, 5) {
        r.unwrap();
    }
    assert_eq!(
        driver.output_topic::<String, String>("checked").read_records_to_list(),
        good_upper_case_output()
    );
    assert_eq!(
        driver.output_topic::<String, String>("all").read_values_to_list(),
        vec![s("A"), s("BAD1"), s("B"), s("BAD2"), s("C")]
    );
}

#[test]
fn production_dead_letter_queue_gets_the_source_record_and_error_headers() {
    let config = StreamsConfig::new("po").production_error_handler(DeadLetterQueue::new("dlq"));
    let driver = TopologyTestDriver::new(production_topology(), config).unwrap();
    for r in pipe_good_and_bad(&driver, 5) {
        r.unwrap();
    }
    assert_eq!(
        driver.output_topic::<String, String>("out").read_records_to_list(),
        good_upper_case_output()
    );
    let dead = driver
        .output_topic_with::<String, Bytes>("dlq", Serdes::string(), Serdes::bytes())
        .read_records_to_list();
    assert_eq!(dead.len(), 2);
    assert_dead_letter(&dead[0], "k1", b"bad1", 2, &[header("h", "1")], 1, "cannot write BAD1");
    assert_dead_letter(&dead[1], "k3", b"bad2", 4, &[header("h", "3")], 3, "cannot write BAD2");
}

#[test]
fn production_log_and_fail_is_the_default_and_names_the_topic() {
    for config in
        [StreamsConfig::new("po"), StreamsConfig::new("po").production_error_handler(LogAndFail)]
    {
        let driver = TopologyTestDriver::new(production_topology(), config).unwrap();
        let results = pipe_good_and_bad(&driver, 2);
        results[0].as_ref().unwrap();
        let err = results[1].as_ref().unwrap_err();
        match err {
            StreamsError::Production { topic, node, .. } => {
                assert_eq!(topic, "out");
                assert_eq!(node, "KSTREAM-SINK-0000000002");
            }
            other => panic!("expected a production error, got {other:?}"),
        }
        assert!(err.to_string().contains("cannot write BAD1"), "{err}");
        assert_eq!(
            driver.output_topic::<String, String>("out").read_values_to_list(),
            vec![s("A")]
        );
    }
}

#[test]
fn each_handler_sees_only_its_own_kind_of_failure() {
    // A continuing processing handler does not swallow deserialization errors.
    let config = StreamsConfig::new("mix")
        .processing_error_handler(LogAndContinue)
        .production_error_handler(LogAndContinue);
    let driver = TopologyTestDriver::new(upper_case_topology(), config).unwrap();
    let results = pipe_with_poison(&driver, 2);
    assert!(matches!(results[1], Err(StreamsError::Deserialization { .. })));
}

// Handlers of the user's own, and the record bytes they see.

/// Refuses values starting with "bad", over raw bytes (sources then deserialize with
/// `BytesSerde`, which can keep a record's bytes instead of sharing them).
struct PickyBytes;

impl Processor<Bytes, Bytes> for PickyBytes {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<Bytes, Bytes>,
        r: Record<Bytes, Bytes>,
    ) -> Result<(), ProcessError> {
        if r.value.starts_with(b"bad") {
            return Err("refusing a bad value".into());
        }
        ctx.forward(r);
        Ok(())
    }
}

/// What a handler saw of a record: offset, key, value, number of headers.
type Noted = (i64, Option<Bytes>, Option<Bytes>, usize);
type Seen = Arc<Mutex<Vec<Noted>>>;

/// Continues past every failure, noting what the context's record held; says it reads the
/// record's bytes unless `blind`.
struct Noting {
    seen: Seen,
    blind: bool,
}

impl ErrorHandler for Noting {
    fn handle(&self, ctx: &ErrorContext<'_>) -> ErrorResponse {
        let r = ctx.record.expect("the failing record");
        self.seen.lock().unwrap().push((r.offset, r.key.clone(), r.value.clone(), r.headers.len()));
        ErrorResponse::Continue
    }
    fn reads_record_bytes(&self) -> bool {
        !self.blind
    }
}

/// Pipes good, bad, good through `PickyBytes` with `handler` for processing errors; returns the
/// values written and what the handler saw.
fn pipe_bytes_with(blind: bool) -> (Vec<Bytes>, Vec<Noted>) {
    let builder = StreamsBuilder::new();
    builder.stream::<Bytes, Bytes>("in").process(|| PickyBytes).to("out");
    let seen = Seen::default();
    let config =
        StreamsConfig::new("pb").processing_error_handler(Noting { seen: seen.clone(), blind });
    let driver = TopologyTestDriver::new(builder.build().unwrap(), config).unwrap();
    let input = driver.input_topic::<Bytes, Bytes>("in");
    let b = |v: &str| Bytes::copy_from_slice(v.as_bytes());
    for (i, v) in ["good0", "bad1", "good2"].into_iter().enumerate() {
        input
            .pipe_record(rec(b(&format!("k{i}")), b(v), i as i64, vec![header("h", "x")]))
            .unwrap();
    }
    let out = driver.output_topic::<Bytes, Bytes>("out").read_values_to_list();
    let seen = seen.lock().unwrap().clone();
    (out, seen)
}

#[test]
fn a_handler_of_the_users_own_sees_the_bytes_of_the_failing_record() {
    let (out, seen) = pipe_bytes_with(false);
    assert_eq!(out, vec![Bytes::from_static(b"good0"), Bytes::from_static(b"good2")]);
    assert_eq!(
        seen,
        vec![(1, Some(Bytes::from_static(b"k1")), Some(Bytes::from_static(b"bad1")), 1)]
    );
}

#[test]
fn a_handler_that_reads_no_bytes_still_gets_the_records_place_and_the_output_is_the_same() {
    // Every handler says it reads no bytes: sources hand the bytes on to the deserializers, and
    // the handler's record has its place (topic, partition, offset) but no key, value or headers.
    let (out, seen) = pipe_bytes_with(true);
    assert_eq!(out, vec![Bytes::from_static(b"good0"), Bytes::from_static(b"good2")]);
    assert_eq!(seen, vec![(1, None, None, 0)]);
}
