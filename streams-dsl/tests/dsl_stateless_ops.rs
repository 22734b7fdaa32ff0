//! The stateless KStream operators run through the test driver: what comes out (keys, values,
//! timestamps and headers), in what order, and what does not come out.

#![allow(clippy::unwrap_used)] // Test helpers unwrap too, as tests may.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use streams_core::Header;
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

fn driver(builder: StreamsBuilder) -> TopologyTestDriver {
    TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("ops")).unwrap()
}

#[test]
fn filter_forwards_accepted_records_unchanged() {
    let builder = StreamsBuilder::new();
    builder.stream::<String, i64>("in").filter(|k, v| *v >= 10 && k != "skip").to("out");
    let driver = driver(builder);
    let input = driver.input_topic::<String, i64>("in");
    input.pipe_record(rec(s("a"), 5, 100, vec![header("h", "1")])).unwrap();
    input.pipe_record(rec(s("b"), 10, 101, vec![header("h", "2")])).unwrap();
    input.pipe_record(rec(s("skip"), 50, 102, vec![])).unwrap();
    input.pipe_record(rec(s("c"), 99, 50, vec![header("h", "3"), header("h", "4")])).unwrap();

    let out = driver.output_topic::<String, i64>("out");
    assert_eq!(
        out.read_records_to_list(),
        vec![
            rec(s("b"), 10, 101, vec![header("h", "2")]),
            rec(s("c"), 99, 50, vec![header("h", "3"), header("h", "4")]),
        ]
    );
    assert!(out.is_empty());
}

#[test]
fn filter_not_forwards_exactly_what_filter_drops() {
    let builder = StreamsBuilder::new();
    let amounts = builder.stream::<String, i64>("in");
    let large = |_: &String, v: &i64| *v >= 100;
    amounts.filter(large).to("large");
    amounts.filter_not(large).to("small");
    let driver = driver(builder);
    let input = driver.input_topic::<String, i64>("in");
    for (i, v) in [5, 100, 7, 1_000, 99].into_iter().enumerate() {
        let i = i as i64;
        input
            .pipe_record(rec(format!("k{i}"), v, 10 + i, vec![header("n", &i.to_string())]))
            .unwrap();
    }

    let large = driver.output_topic::<String, i64>("large").read_records_to_list();
    let small = driver.output_topic::<String, i64>("small").read_records_to_list();
    assert_eq!(
        large,
        vec![
            rec(s("k1"), 100, 11, vec![header("n", "1")]),
            rec(s("k3"), 1_000, 13, vec![header("n", "3")]),
        ]
    );
    assert_eq!(
        small,
        vec![
            rec(s("k0"), 5, 10, vec![header("n", "0")]),
            rec(s("k2"), 7, 12, vec![header("n", "2")]),
            rec(s("k4"), 99, 14, vec![header("n", "4")]),
        ]
    );
}

#[test]
fn map_replaces_key_and_value_and_keeps_timestamp_and_headers() {
    let builder = StreamsBuilder::new();
    builder.stream::<String, i64>("in").map(|k, v| (v * 2, format!("from {k}"))).to("out");
    let driver = driver(builder);
    let input = driver.input_topic::<String, i64>("in");
    input.pipe_record(rec(s("a"), 21, 7, vec![header("trace", "t1")])).unwrap();
    input.pipe_record(rec(s("b"), -1, 3, vec![])).unwrap();

    let out = driver.output_topic::<i64, String>("out");
    assert_eq!(
        out.read_records_to_list(),
        vec![rec(42, s("from a"), 7, vec![header("trace", "t1")]), rec(-2, s("from b"), 3, vec![]),]
    );
}

#[test]
fn map_values_replaces_only_the_value() {
    let builder = StreamsBuilder::new();
    builder.stream::<String, String>("in").map_values(|v| v.len() as i64).to("out");
    let driver = driver(builder);
    let input = driver.input_topic::<String, String>("in");
    input.pipe_record(rec(s("k"), s("four"), 1_000, vec![header("a", "b")])).unwrap();
    input.pipe_record(rec(s("k2"), s(""), 999, vec![])).unwrap();

    assert_eq!(
        driver.output_topic::<String, i64>("out").read_records_to_list(),
        vec![rec(s("k"), 4, 1_000, vec![header("a", "b")]), rec(s("k2"), 0, 999, vec![])]
    );
}

#[test]
fn map_values_with_key_sees_the_key() {
    let builder = StreamsBuilder::new();
    builder.stream::<String, i64>("in").map_values_with_key(|k, v| format!("{k}={v}")).to("out");
    let driver = driver(builder);
    let input = driver.input_topic::<String, i64>("in");
    input.pipe_record(rec(s("x"), 1, 5, vec![header("h", "v")])).unwrap();
    input.pipe_record(rec(s("y"), 2, 6, vec![])).unwrap();

    assert_eq!(
        driver.output_topic::<String, String>("out").read_records_to_list(),
        vec![rec(s("x"), s("x=1"), 5, vec![header("h", "v")]), rec(s("y"), s("y=2"), 6, vec![])]
    );
}

#[test]
fn flat_map_emits_zero_or_more_records_each_with_the_input_timestamp_and_headers() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .flat_map(|k, v| {
            v.split(',')
                .filter(|p| !p.is_empty())
                .enumerate()
                .map(|(i, p)| (p.to_string(), format!("{k}#{i}")))
                .collect::<Vec<_>>()
        })
        .to("out");
    let driver = driver(builder);
    let input = driver.input_topic::<String, String>("in");
    input.pipe_record(rec(s("k1"), s("a,b,c"), 10, vec![header("h", "1")])).unwrap();
    input.pipe_record(rec(s("k2"), s(""), 11, vec![header("h", "2")])).unwrap();
    input.pipe_record(rec(s("k3"), s("d"), 5, vec![])).unwrap();

    let out = driver.output_topic::<String, String>("out");
    assert_eq!(
        out.read_records_to_list(),
        vec![
            rec(s("a"), s("k1#0"), 10, vec![header("h", "1")]),
            rec(s("b"), s("k1#1"), 10, vec![header("h", "1")]),
            rec(s("c"), s("k1#2"), 10, vec![header("h", "1")]),
            rec(s("d"), s("k3#0"), 5, vec![]),
        ]
    );
}

#[test]
fn flat_map_values_emits_zero_or_more_values_under_the_input_key() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .flat_map_values(|line| line.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .to("out");
    let driver = driver(builder);
    let input = driver.input_topic::<String, String>("in");
    input.pipe_record(rec(s("l1"), s("to be"), 3, vec![header("src", "x")])).unwrap();
    input.pipe_record(rec(s("l2"), s("   "), 4, vec![])).unwrap();
    input.pipe_record(rec(s("l3"), s("or"), 2, vec![])).unwrap();

    assert_eq!(
        driver.output_topic::<String, String>("out").read_records_to_list(),
        vec![
            rec(s("l1"), s("to"), 3, vec![header("src", "x")]),
            rec(s("l1"), s("be"), 3, vec![header("src", "x")]),
            rec(s("l3"), s("or"), 2, vec![]),
        ]
    );
}

#[test]
fn select_key_replaces_only_the_key() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<Option<String>, String>("in")
        .select_key(|_, v| v.split(',').next().unwrap_or_default().to_string())
        .to("out");
    let driver = driver(builder);
    let input = driver.input_topic::<Option<String>, String>("in");
    input.pipe_record(rec(None, s("eu,42"), 8, vec![header("h", "1")])).unwrap();
    input.pipe_record(rec(Some(s("old")), s("us,1"), 9, vec![])).unwrap();

    assert_eq!(
        driver.output_topic::<String, String>("out").read_records_to_list(),
        vec![
            rec(s("eu"), s("eu,42"), 8, vec![header("h", "1")]),
            rec(s("us"), s("us,1"), 9, vec![])
        ]
    );
}

#[test]
fn peek_sees_every_record_and_passes_it_on_unchanged() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, i64>("in")
        .peek(move |k, v| log.lock().unwrap().push((k.clone(), *v)))
        .to("out");
    let driver = driver(builder);
    let input = driver.input_topic::<String, i64>("in");
    input.pipe_record(rec(s("a"), 1, 20, vec![header("h", "1")])).unwrap();
    input.pipe_record(rec(s("b"), 2, 10, vec![])).unwrap();

    assert_eq!(*seen.lock().unwrap(), vec![(s("a"), 1), (s("b"), 2)]);
    assert_eq!(
        driver.output_topic::<String, i64>("out").read_records_to_list(),
        vec![rec(s("a"), 1, 20, vec![header("h", "1")]), rec(s("b"), 2, 10, vec![])]
    );
}

#[test]
fn foreach_sees_every_record_and_writes_nothing() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, i64>("in")
        .foreach(move |k, v| log.lock().unwrap().push((k.clone(), *v)));
    let driver = driver(builder);
    let input = driver.input_topic::<String, i64>("in");
    input.pipe_input_at(s("a"), 1, 0).unwrap();
    input.pipe_input_at(s("b"), 2, 0).unwrap();
    input.pipe_input_at(s("a"), 3, 0).unwrap();

    assert_eq!(*seen.lock().unwrap(), vec![(s("a"), 1), (s("b"), 2), (s("a"), 3)]);
    assert!(driver.output_topic_names().is_empty());
}

#[test]
fn print_writes_label_key_and_value_in_debug_form_one_line_per_record() {
    let dir = tempfile::tempdir().unwrap();
    let labeled = dir.path().join("labeled.txt");
    let unlabeled = dir.path().join("unlabeled.txt");
    let builder = StreamsBuilder::new();
    let stream = builder.stream::<Option<String>, i64>("in"); // KSTREAM-SOURCE-0000000000
    stream.print(Printed::to_file(&labeled).with_label("amounts")); // KSTREAM-PRINTER-0000000001
    stream
        .map_values(|v| format!("v{v}")) // KSTREAM-MAPVALUES-0000000002
        .print(Printed::to_file(&unlabeled));
    let driver = driver(builder);
    let input = driver.input_topic::<Option<String>, i64>("in");
    input.pipe_input_at(Some(s("a")), 1, 0).unwrap();
    input.pipe_input_at(None, -2, 1).unwrap();

    assert_eq!(
        std::fs::read_to_string(&labeled).unwrap(),
        "[amounts]: Some(\"a\"), 1\n[amounts]: None, -2\n"
    );
    // Without a label, Kafka labels lines with the name of the printed stream's node.
    assert_eq!(
        std::fs::read_to_string(&unlabeled).unwrap(),
        "[KSTREAM-MAPVALUES-0000000002]: Some(\"a\"), \"v1\"\n\
         [KSTREAM-MAPVALUES-0000000002]: None, \"v-2\"\n"
    );
    assert!(driver.output_topic_names().is_empty());
}

#[test]
fn to_writes_every_record_to_its_topic_and_fan_out_reaches_every_sink() {
    let builder = StreamsBuilder::new();
    let stream = builder.stream::<String, String>("in");
    stream.to("out-1");
    stream.to("out-2");
    let driver = driver(builder);
    let input = driver.input_topic::<String, String>("in");
    input.pipe_record(rec(s("k"), s("v"), 42, vec![header("h", "x")])).unwrap();
    input.pipe_record(rec(s("k2"), s("v2"), 41, vec![])).unwrap();

    let expected =
        vec![rec(s("k"), s("v"), 42, vec![header("h", "x")]), rec(s("k2"), s("v2"), 41, vec![])];
    assert_eq!(driver.output_topic::<String, String>("out-1").read_records_to_list(), expected);
    assert_eq!(driver.output_topic::<String, String>("out-2").read_records_to_list(), expected);
    assert_eq!(driver.output_topic_names(), vec![s("out-1"), s("out-2")]);
}

#[test]
fn to_dynamic_chooses_the_topic_per_record_and_sees_the_source_metadata() {
    let builder = StreamsBuilder::new();
    builder.stream::<String, String>("events").to_dynamic(|k, v, meta| {
        let meta = meta.expect("a record being processed has metadata");
        format!("{}-{}-{}", meta.topic, k, v.len())
    });
    let driver = driver(builder);
    let input = driver.input_topic::<String, String>("events");
    input.pipe_record(rec(s("eu"), s("x"), 1, vec![header("h", "1")])).unwrap();
    input.pipe_record(rec(s("us"), s("yy"), 2, vec![])).unwrap();
    input.pipe_record(rec(s("eu"), s("z"), 3, vec![])).unwrap();

    assert_eq!(driver.output_topic_names(), vec![s("events-eu-1"), s("events-us-2")]);
    assert_eq!(
        driver.output_topic::<String, String>("events-eu-1").read_records_to_list(),
        vec![rec(s("eu"), s("x"), 1, vec![header("h", "1")]), rec(s("eu"), s("z"), 3, vec![])]
    );
    assert_eq!(
        driver.output_topic::<String, String>("events-us-2").read_records_to_list(),
        vec![rec(s("us"), s("yy"), 2, vec![])]
    );
}

#[test]
fn a_chain_of_operators_keeps_timestamps_and_headers_end_to_end() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .map_values(|v| v.to_uppercase())
        .filter(|_, v| v != "DROP")
        .select_key(|_, v| v.chars().next().map(String::from).unwrap_or_default())
        .flat_map_values(|v| vec![v.clone(), v])
        .peek(|_, _| {})
        .map(|k, v| (k, v.len() as i64))
        .to("out");
    let driver = driver(builder);
    let input = driver.input_topic::<String, String>("in");
    input.pipe_record(rec(s("k"), s("drop"), 1, vec![header("a", "1")])).unwrap();
    input.pipe_record(rec(s("k"), s("hey"), 2, vec![header("a", "2"), header("b", "3")])).unwrap();

    let hs = vec![header("a", "2"), header("b", "3")];
    assert_eq!(
        driver.output_topic::<String, i64>("out").read_records_to_list(),
        vec![rec(s("H"), 3, 2, hs.clone()), rec(s("H"), 3, 2, hs)]
    );
}

#[test]
fn print_to_a_file_that_cannot_be_opened_fails_when_the_task_starts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir").join("out.txt");
    let builder = StreamsBuilder::new();
    builder.stream::<String, i64>("in").print(Printed::to_file(&path));
    let err = TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("ops"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("KSTREAM-PRINTER-0000000001"), "{err}");
    assert!(err.contains("no-such-dir"), "{err}");
}
