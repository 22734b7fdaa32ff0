//! `split` (branches by predicate, default branch, consumers and functions) and `merge` run through
//! the test driver.

#![allow(clippy::unwrap_used)] // Test helpers unwrap too, as tests may.

use std::collections::BTreeMap;

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
    TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("split")).unwrap()
}

fn values(driver: &TopologyTestDriver, topic: &str) -> Vec<i64> {
    driver.output_topic::<String, i64>(topic).read_values_to_list()
}

#[test]
fn each_record_goes_to_the_first_matching_branch_else_the_default() {
    let builder = StreamsBuilder::new();
    let branches = builder
        .stream::<String, i64>("in")
        .split()
        .branch(|_, v| *v > 100, Branched::default())
        .branch(|_, v| *v > 10, Branched::default())
        .default_branch(Branched::default());
    // Unnamed branches are `<split name><n>`, numbered from 1; the default one is `0`.
    let names: Vec<&str> = branches.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        vec![
            "KSTREAM-BRANCH-00000000010",
            "KSTREAM-BRANCH-00000000011",
            "KSTREAM-BRANCH-00000000012"
        ]
    );
    branches["KSTREAM-BRANCH-00000000011"].to("huge");
    branches["KSTREAM-BRANCH-00000000012"].to("big");
    branches["KSTREAM-BRANCH-00000000010"].to("rest");
    let driver = driver(builder);
    let input = driver.input_topic::<String, i64>("in");
    // 500 matches both predicates: only the first branch gets it.
    for (i, v) in [500, 50, 5, 101, 11, 10].into_iter().enumerate() {
        input.pipe_input_at(format!("k{i}"), v, i as i64).unwrap();
    }

    assert_eq!(values(&driver, "huge"), vec![500, 101]);
    assert_eq!(values(&driver, "big"), vec![50, 11]);
    assert_eq!(values(&driver, "rest"), vec![5, 10]);
}

#[test]
fn branches_keep_key_timestamp_and_headers() {
    let builder = StreamsBuilder::new();
    let branches = builder
        .stream::<String, i64>("in")
        .split_named(Named::as_("size-"))
        .branch(|_, v| *v >= 100, Branched::as_("large"))
        .default_branch(Branched::as_("small"));
    assert_eq!(
        branches.keys().cloned().collect::<Vec<_>>(),
        vec![s("size-large"), s("size-small")]
    );
    branches["size-large"].to("large");
    branches["size-small"].to("small");
    let driver = driver(builder);
    let input = driver.input_topic::<String, i64>("in");
    input.pipe_record(rec(s("a"), 500, 77, vec![header("h", "1")])).unwrap();
    input.pipe_record(rec(s("b"), 5, 66, vec![header("h", "2"), header("x", "y")])).unwrap();

    assert_eq!(
        driver.output_topic::<String, i64>("large").read_records_to_list(),
        vec![rec(s("a"), 500, 77, vec![header("h", "1")])]
    );
    assert_eq!(
        driver.output_topic::<String, i64>("small").read_records_to_list(),
        vec![rec(s("b"), 5, 66, vec![header("h", "2"), header("x", "y")])]
    );
}

#[test]
fn without_a_default_branch_unmatched_records_are_dropped() {
    let builder = StreamsBuilder::new();
    let branches = builder
        .stream::<String, i64>("in")
        .split_named(Named::as_("s-"))
        .branch(|_, v| *v < 0, Branched::as_("neg"))
        .branch(|_, v| *v == 0, Branched::as_("zero"))
        .no_default_branch();
    assert_eq!(branches.len(), 2);
    branches["s-neg"].to("neg");
    branches["s-zero"].to("zero");
    let driver = driver(builder);
    let input = driver.input_topic::<String, i64>("in");
    for v in [3, -1, 0, 7, -5, 0] {
        input.pipe_input_at(s("k"), v, 0).unwrap();
    }

    assert_eq!(values(&driver, "neg"), vec![-1, -5]);
    assert_eq!(values(&driver, "zero"), vec![0, 0]);
    assert_eq!(driver.output_topic_names(), vec![s("neg"), s("zero")]);
}

#[test]
fn consumer_branches_are_built_at_once_and_left_out_of_the_map() {
    let builder = StreamsBuilder::new();
    let branches: BTreeMap<String, KStream<String, i64>> = builder
        .stream::<String, i64>("in")
        .split()
        .branch(|_, v| v % 2 == 0, Branched::with_consumer(|even| even.to("even")))
        .branch(|_, v| v % 3 == 0, Branched::default())
        .default_branch(Branched::with_consumer(|rest| rest.map_values(|v| v * 100).to("rest")));
    assert_eq!(branches.keys().cloned().collect::<Vec<_>>(), vec![s("KSTREAM-BRANCH-00000000012")]);
    branches["KSTREAM-BRANCH-00000000012"].to("threes");
    let driver = driver(builder);
    let input = driver.input_topic::<String, i64>("in");
    for v in 1..=7 {
        input.pipe_input_at(s("k"), v, v).unwrap();
    }

    assert_eq!(values(&driver, "even"), vec![2, 4, 6]);
    assert_eq!(values(&driver, "threes"), vec![3]);
    assert_eq!(values(&driver, "rest"), vec![100, 500, 700]);
}

#[test]
fn function_branches_put_the_function_result_in_the_map() {
    let builder = StreamsBuilder::new();
    let branches = builder
        .stream::<String, i64>("in")
        .split_named(Named::as_("f-"))
        .branch(
            |_, v| *v > 0,
            Branched::with_function(|s: KStream<String, i64>| s.map_values(|v| -v)).named("pos"),
        )
        .default_branch(
            Branched::with_function(|s: KStream<String, i64>| s.filter(|_, v| *v != 0))
                .named("other"),
        );
    assert_eq!(branches.keys().cloned().collect::<Vec<_>>(), vec![s("f-other"), s("f-pos")]);
    // The map holds the streams the functions returned, not the bare branches.
    assert_ne!(branches["f-pos"].node_name(), "f-pos");
    branches["f-pos"].to("negated");
    branches["f-other"].to("non-zero");
    let driver = driver(builder);
    let input = driver.input_topic::<String, i64>("in");
    for v in [3, 0, -2, 5] {
        input.pipe_input_at(s("k"), v, 0).unwrap();
    }

    assert_eq!(values(&driver, "negated"), vec![-3, -5]);
    assert_eq!(values(&driver, "non-zero"), vec![-2]);
}

#[test]
fn merge_interleaves_two_sources_in_the_order_records_are_piped() {
    let builder = StreamsBuilder::new();
    let eu = builder.stream::<String, i64>("eu");
    let us = builder.stream::<String, i64>("us");
    eu.merge(&us).to("all");
    let driver = driver(builder);
    let eu_in = driver.input_topic::<String, i64>("eu");
    let us_in = driver.input_topic::<String, i64>("us");
    // Timestamps go down on purpose: the driver processes each piped record at once.
    eu_in.pipe_record(rec(s("a"), 1, 300, vec![header("from", "eu")])).unwrap();
    us_in.pipe_record(rec(s("b"), 2, 200, vec![header("from", "us")])).unwrap();
    us_in.pipe_record(rec(s("c"), 3, 100, vec![])).unwrap();
    eu_in.pipe_record(rec(s("d"), 4, 50, vec![])).unwrap();

    assert_eq!(
        driver.output_topic::<String, i64>("all").read_records_to_list(),
        vec![
            rec(s("a"), 1, 300, vec![header("from", "eu")]),
            rec(s("b"), 2, 200, vec![header("from", "us")]),
            rec(s("c"), 3, 100, vec![]),
            rec(s("d"), 4, 50, vec![]),
        ]
    );
}

#[test]
fn merged_branches_come_back_together() {
    let builder = StreamsBuilder::new();
    let branches = builder
        .stream::<String, i64>("in")
        .split_named(Named::as_("b-"))
        .branch(
            |_, v| *v >= 10,
            Branched::with_function(|s: KStream<String, i64>| s.map_values(|v| v * 10))
                .named("big"),
        )
        .default_branch(Branched::as_("small"));
    branches["b-big"].merge(&branches["b-small"]).to("out");
    let driver = driver(builder);
    let input = driver.input_topic::<String, i64>("in");
    for v in [1, 10, 2, 20] {
        input.pipe_input_at(s("k"), v, 0).unwrap();
    }

    assert_eq!(values(&driver, "out"), vec![1, 100, 2, 200]);
}
