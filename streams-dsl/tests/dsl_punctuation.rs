//! `process` with processors of the application's own: record metadata and headers, and
//! punctuation by stream time and by wall-clock time with Kafka's semantics (stream-time schedules
//! are aligned to 0 and fire as soon as data arrives, with the stream time; missed intervals are
//! skipped, not replayed).

#![allow(clippy::unwrap_used)] // Test helpers unwrap too, as tests may.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use streams_core::{Header, PunctuatorId};
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

/// Forwards `<topic>/<partition>/<offset> [<headers>] <value>` for each record.
struct Inspect;

impl Processor<String, String> for Inspect {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<String, String>,
        r: Record<String, String>,
    ) -> Result<(), ProcessError> {
        let m = ctx.record_metadata().ok_or("no record metadata while processing")?;
        let headers: Vec<String> = r
            .headers
            .iter()
            .map(|h| match &h.value {
                Some(v) => format!("{}={}", h.key, String::from_utf8_lossy(v)),
                None => format!("{}=<null>", h.key),
            })
            .collect();
        let trace = r.last_header("trace").and_then(|h| h.value.clone());
        let v = format!(
            "{}/{}/{} [{}] last-trace={:?} {}",
            m.topic,
            m.partition,
            m.offset,
            headers.join(","),
            trace.as_deref().map(String::from_utf8_lossy),
            r.value
        );
        ctx.forward(r.with_value(v));
        Ok(())
    }
}

#[test]
fn a_processor_reads_topic_partition_offset_and_headers_of_each_record() {
    let builder = StreamsBuilder::new();
    let a = builder.stream::<String, String>("a");
    let b = builder.stream::<String, String>("b");
    a.merge(&b).process(|| Inspect).to("out");
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("meta")).unwrap();
    let a_in = driver.input_topic::<String, String>("a");
    let b_in = driver.input_topic::<String, String>("b");
    a_in.pipe_record(rec(s("k"), s("a0"), 1, vec![header("trace", "t1")])).unwrap();
    a_in.pipe_record(rec(
        s("k"),
        s("a1"),
        2,
        vec![header("trace", "t1"), Header { key: s("n"), value: None }, header("trace", "t2")],
    ))
    .unwrap();
    b_in.pipe_record(rec(s("k"), s("b0"), 3, vec![])).unwrap();
    a_in.pipe_record(rec(s("k"), s("a2"), 4, vec![])).unwrap();
    b_in.pipe_record(rec(s("k"), s("b1"), 5, vec![header("x", "")])).unwrap();

    let out = driver.output_topic::<String, String>("out").read_records_to_list();
    let values: Vec<&str> = out.iter().map(|r| r.value.as_str()).collect();
    assert_eq!(
        values,
        vec![
            "a/0/0 [trace=t1] last-trace=Some(\"t1\") a0",
            "a/0/1 [trace=t1,n=<null>,trace=t2] last-trace=Some(\"t2\") a1",
            "b/0/0 [] last-trace=None b0",
            "a/0/2 [] last-trace=None a2",
            "b/0/1 [x=] last-trace=None b1",
        ]
    );
    // Headers, null values included, go on to the output.
    assert_eq!(out[1].headers[1], Header { key: s("n"), value: None });
    assert_eq!(out[4].headers, vec![header("x", "")]);
    assert_eq!(out.iter().map(|r| r.timestamp).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
}

type Log = Arc<Mutex<Vec<String>>>;

/// Schedules one punctuation in `init`; logs records and punctuations, and forwards a `tick`
/// record from each punctuation.
struct Ticker {
    interval: Duration,
    kind: PunctuationType,
    log: Log,
}

impl Processor<String, String> for Ticker {
    fn init(&mut self, ctx: &mut ProcessorContext<String, String>) -> Result<(), ProcessError> {
        ctx.schedule(self.interval, self.kind);
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<String, String>,
        r: Record<String, String>,
    ) -> Result<(), ProcessError> {
        self.log.lock().unwrap().push(format!("record {}@{}", r.value, r.timestamp));
        ctx.forward(r);
        Ok(())
    }

    fn punctuate(
        &mut self,
        ctx: &mut ProcessorContext<String, String>,
        _id: PunctuatorId,
        timestamp: i64,
    ) -> Result<(), ProcessError> {
        let now = match self.kind {
            PunctuationType::StreamTime => ctx.current_stream_time_ms(),
            PunctuationType::WallClockTime => ctx.current_system_time_ms(),
        };
        assert_eq!(timestamp, now, "a punctuation gets the current time of its kind");
        assert!(ctx.record_metadata().is_none(), "no record is being processed in a punctuation");
        self.log.lock().unwrap().push(format!("punctuate@{timestamp}"));
        ctx.forward(Record::new(s("tick"), format!("tick@{timestamp}"), timestamp));
        Ok(())
    }
}

fn ticker_driver(
    kind: PunctuationType,
    interval_ms: u64,
    wall_clock_start: i64,
) -> (TopologyTestDriver, Log) {
    let log: Log = Arc::new(Mutex::new(Vec::new()));
    let shared = log.clone();
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .process(move || Ticker {
            interval: Duration::from_millis(interval_ms),
            kind,
            log: shared.clone(),
        })
        .to("out");
    let driver = TopologyTestDriver::with_wall_clock(
        builder.build().unwrap(),
        StreamsConfig::new("ticks"),
        wall_clock_start,
    )
    .unwrap();
    (driver, log)
}

fn take(log: &Log) -> Vec<String> {
    std::mem::take(&mut *log.lock().unwrap())
}

#[test]
fn stream_time_punctuation_fires_as_soon_as_data_arrives_then_on_interval_boundaries() {
    let (driver, log) = ticker_driver(PunctuationType::StreamTime, 10, 0);
    let input = driver.input_topic::<String, String>("in");
    // Before any record, stream time is unknown: nothing fires, whatever the wall clock does.
    driver.advance_wall_clock_time(Duration::from_secs(3600)).unwrap();
    assert!(take(&log).is_empty());

    // Aligned to 0: the first record (at 5) makes the schedule due at once, with stream time 5.
    input.pipe_input_at(s("k"), s("r1"), 5).unwrap();
    assert_eq!(take(&log), vec!["record r1@5", "punctuate@5"]);
    input.pipe_input_at(s("k"), s("r2"), 7).unwrap();
    assert_eq!(take(&log), vec!["record r2@7"]);
    input.pipe_input_at(s("k"), s("r3"), 10).unwrap();
    assert_eq!(take(&log), vec!["record r3@10", "punctuate@10"]);
    // A jump over 20 and 30 fires once, with the stream time; the missed ones are not replayed.
    input.pipe_input_at(s("k"), s("r4"), 35).unwrap();
    assert_eq!(take(&log), vec!["record r4@35", "punctuate@35"]);
    // Out-of-order records do not move stream time back.
    input.pipe_input_at(s("k"), s("r5"), 12).unwrap();
    input.pipe_input_at(s("k"), s("r6"), 39).unwrap();
    assert_eq!(take(&log), vec!["record r5@12", "record r6@39"]);
    input.pipe_input_at(s("k"), s("r7"), 40).unwrap();
    assert_eq!(take(&log), vec!["record r7@40", "punctuate@40"]);
    // Wall-clock time does not drive stream-time punctuation.
    driver.advance_wall_clock_time(Duration::from_secs(3600)).unwrap();
    assert!(take(&log).is_empty());

    let out: Vec<(String, i64)> = driver
        .output_topic::<String, String>("out")
        .read_records_to_list()
        .into_iter()
        .map(|r| (r.value, r.timestamp))
        .collect();
    let expected: Vec<(String, i64)> = [
        ("r1", 5),
        ("tick@5", 5),
        ("r2", 7),
        ("r3", 10),
        ("tick@10", 10),
        ("r4", 35),
        ("tick@35", 35),
        ("r5", 12),
        ("r6", 39),
        ("r7", 40),
        ("tick@40", 40),
    ]
    .into_iter()
    .map(|(v, t)| (s(v), t))
    .collect();
    assert_eq!(out, expected);
}

#[test]
fn wall_clock_punctuation_fires_one_interval_after_scheduling_and_skips_missed_intervals() {
    let (driver, log) = ticker_driver(PunctuationType::WallClockTime, 100, 1_000);
    let input = driver.input_topic::<String, String>("in");
    driver.advance_wall_clock_time(Duration::from_millis(50)).unwrap();
    assert!(take(&log).is_empty());
    // Records, whatever their timestamps, do not drive wall-clock punctuation.
    input.pipe_input_at(s("k"), s("r1"), 5_000).unwrap();
    assert_eq!(take(&log), vec!["record r1@5000"]);
    driver.advance_wall_clock_time(Duration::from_millis(50)).unwrap();
    assert_eq!(take(&log), vec!["punctuate@1100"]);
    driver.advance_wall_clock_time(Duration::from_millis(99)).unwrap();
    assert!(take(&log).is_empty());
    // 1199 -> 1350 passes 1200 and 1300: one punctuation, at the current wall-clock time.
    driver.advance_wall_clock_time(Duration::from_millis(151)).unwrap();
    assert_eq!(take(&log), vec!["punctuate@1350"]);
    // The next one is due at 1400, not 1450.
    driver.advance_wall_clock_time(Duration::from_millis(49)).unwrap();
    assert!(take(&log).is_empty());
    driver.advance_wall_clock_time(Duration::from_millis(1)).unwrap();
    assert_eq!(take(&log), vec!["punctuate@1400"]);

    let out = driver.output_topic::<String, String>("out").read_records_to_list();
    assert_eq!(
        out,
        vec![
            rec(s("k"), s("r1"), 5_000, vec![]),
            rec(s("tick"), s("tick@1100"), 1_100, vec![]),
            rec(s("tick"), s("tick@1350"), 1_350, vec![]),
            rec(s("tick"), s("tick@1400"), 1_400, vec![]),
        ]
    );
}

/// Cancels its own punctuation after it fired `limit` times.
struct CancelAfter {
    limit: usize,
    fired: Vec<i64>,
    id: Option<PunctuatorId>,
}

impl Processor<String, String, String, i64> for CancelAfter {
    fn init(&mut self, ctx: &mut ProcessorContext<String, i64>) -> Result<(), ProcessError> {
        self.id = Some(ctx.schedule(Duration::from_millis(10), PunctuationType::WallClockTime));
        Ok(())
    }

    fn process(
        &mut self,
        _ctx: &mut ProcessorContext<String, i64>,
        _r: Record<String, String>,
    ) -> Result<(), ProcessError> {
        Ok(())
    }

    fn punctuate(
        &mut self,
        ctx: &mut ProcessorContext<String, i64>,
        id: PunctuatorId,
        timestamp: i64,
    ) -> Result<(), ProcessError> {
        assert_eq!(Some(id), self.id);
        self.fired.push(timestamp);
        ctx.forward(Record::new(s("fired"), timestamp, timestamp));
        if self.fired.len() == self.limit {
            ctx.cancel(id);
        }
        Ok(())
    }
}

#[test]
fn a_cancelled_punctuation_fires_no_more() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .process(|| CancelAfter { limit: 2, fired: Vec::new(), id: None })
        .to("out");
    let driver =
        TopologyTestDriver::with_wall_clock(builder.build().unwrap(), StreamsConfig::new("c"), 0)
            .unwrap();
    for _ in 0..5 {
        driver.advance_wall_clock_time(Duration::from_millis(10)).unwrap();
    }
    assert_eq!(driver.output_topic::<String, i64>("out").read_values_to_list(), vec![10, 20]);
}

/// Fails in every punctuation.
struct FailingPunctuator;

impl Processor<String, String> for FailingPunctuator {
    fn init(&mut self, ctx: &mut ProcessorContext<String, String>) -> Result<(), ProcessError> {
        ctx.schedule(Duration::from_millis(10), PunctuationType::WallClockTime);
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<String, String>,
        r: Record<String, String>,
    ) -> Result<(), ProcessError> {
        ctx.forward(r);
        Ok(())
    }

    fn punctuate(
        &mut self,
        _ctx: &mut ProcessorContext<String, String>,
        _id: PunctuatorId,
        _timestamp: i64,
    ) -> Result<(), ProcessError> {
        Err("punctuation failed".into())
    }
}

#[test]
fn a_failing_punctuation_fails_the_advance_call_by_default_and_is_skipped_with_continue() {
    let build = || {
        let builder = StreamsBuilder::new();
        builder
            .stream::<String, String>("in")
            .process_named(Named::as_("flaky"), || FailingPunctuator)
            .to("out");
        builder.build().unwrap()
    };

    let driver = TopologyTestDriver::with_wall_clock(build(), StreamsConfig::new("p"), 0).unwrap();
    let err = driver.advance_wall_clock_time(Duration::from_millis(10)).unwrap_err();
    match &err {
        StreamsError::Processing { node, .. } => assert_eq!(node, "flaky"),
        other => panic!("expected a processing error, got {other:?}"),
    }
    assert!(err.to_string().contains("punctuation failed"), "{err}");

    let config = StreamsConfig::new("p").processing_error_handler(LogAndContinue);
    let driver = TopologyTestDriver::with_wall_clock(build(), config, 0).unwrap();
    driver.advance_wall_clock_time(Duration::from_millis(10)).unwrap();
    driver.advance_wall_clock_time(Duration::from_millis(10)).unwrap();
    driver.input_topic::<String, String>("in").pipe_input_at(s("k"), s("v"), 0).unwrap();
    assert_eq!(driver.output_topic::<String, String>("out").read_values_to_list(), vec![s("v")]);
}
