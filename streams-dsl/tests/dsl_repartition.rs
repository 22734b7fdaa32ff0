//! `repartition`: records go out through the internal topic `<application.id>-<name>-repartition`
//! and come back in from it, keys, values, timestamps and headers intact.

#![allow(clippy::unwrap_used)] // Test helpers unwrap too, as tests may.

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

/// Forwards `<topic>/<partition>/<offset>` of the record being processed as the value.
struct Whence;

impl Processor<String, String> for Whence {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<String, String>,
        r: Record<String, String>,
    ) -> Result<(), ProcessError> {
        let m = ctx.record_metadata().ok_or("no record metadata while processing")?;
        let v = format!("{}/{}/{}:{}", m.topic, m.partition, m.offset, r.value);
        ctx.forward(r.with_value(v));
        Ok(())
    }
}

#[test]
fn a_generated_repartition_topic_carries_the_records_to_the_next_sub_topology() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in") // 0
        .select_key(|_, v| v.to_uppercase()) // 1
        .repartition() // 2 (name), sink 3, filter 4, source 5
        .to("out"); // 6
    let topology = builder.build().unwrap();
    assert_eq!(topology.describe().subtopologies.len(), 2);
    let driver = TopologyTestDriver::new(topology, StreamsConfig::new("rp")).unwrap();
    let input = driver.input_topic::<String, String>("in");
    input.pipe_record(rec(s("k1"), s("a"), 10, vec![header("h", "1")])).unwrap();
    input.pipe_record(rec(s("k2"), s("b"), 5, vec![])).unwrap();

    let internal = "rp-KSTREAM-REPARTITION-0000000002-repartition";
    assert_eq!(driver.output_topic_names(), vec![s("out"), s(internal)]);
    let expected =
        vec![rec(s("A"), s("a"), 10, vec![header("h", "1")]), rec(s("B"), s("b"), 5, vec![])];
    assert_eq!(driver.output_topic::<String, String>(internal).read_records_to_list(), expected);
    assert_eq!(driver.output_topic::<String, String>("out").read_records_to_list(), expected);
}

#[test]
fn a_user_named_repartition_topic_is_app_id_name_repartition() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .repartition_with(Repartitioned::as_("x"))
        .process(|| Whence)
        .to("out");
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("app")).unwrap();
    let input = driver.input_topic::<String, String>("in");
    input.pipe_record(rec(s("k"), s("v1"), 3, vec![header("h", "1")])).unwrap();
    input.pipe_record(rec(s("k"), s("v2"), 4, vec![])).unwrap();

    assert_eq!(driver.output_topic_names(), vec![s("app-x-repartition"), s("out")]);
    assert_eq!(
        driver.output_topic::<String, String>("app-x-repartition").read_values_to_list(),
        vec![s("v1"), s("v2")]
    );
    // The processor downstream reads the repartition topic, at its own offsets.
    assert_eq!(
        driver.output_topic::<String, String>("out").read_records_to_list(),
        vec![
            rec(s("k"), s("app-x-repartition/0/0:v1"), 3, vec![header("h", "1")]),
            rec(s("k"), s("app-x-repartition/0/1:v2"), 4, vec![]),
        ]
    );
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Point {
    x: i32,
    y: i32,
}

#[test]
fn repartitioned_serdes_write_the_internal_topic_and_read_it_back() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .map_values(|v| {
            let (x, y) = v.split_once(',').unwrap();
            Point { x: x.parse().unwrap(), y: y.parse().unwrap() }
        })
        .repartition_with(
            Repartitioned::with(Serdes::string(), JsonSerde::<Point>::new()).named("pts"),
        )
        .map_values(|p| p.x + p.y)
        .to("sums");
    // No default serde for Point: the Repartitioned serdes are the only ones.
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("geo")).unwrap();
    driver.input_topic::<String, String>("in").pipe_input_at(s("p"), s("3,4"), 9).unwrap();

    let raw = driver
        .output_topic_with::<String, Bytes>(
            "geo-pts-repartition",
            Serdes::string(),
            Serdes::bytes(),
        )
        .read_record()
        .unwrap();
    assert_eq!(raw.value, Bytes::from_static(br#"{"x":3,"y":4}"#));
    assert_eq!(raw.timestamp, 9);
    assert_eq!(
        driver.output_topic::<String, i32>("sums").read_records_to_list(),
        vec![rec(s("p"), 7, 9, vec![])]
    );
}

#[test]
fn two_repartitions_in_a_row_chain_three_sub_topologies() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .repartition_with(Repartitioned::as_("first"))
        .map_values(|v| format!("{v}!"))
        .repartition_with(Repartitioned::as_("second"))
        .process(|| Whence)
        .to("out");
    let topology = builder.build().unwrap();
    assert_eq!(topology.describe().subtopologies.len(), 3);
    let driver = TopologyTestDriver::new(topology, StreamsConfig::new("c")).unwrap();
    driver.input_topic::<String, String>("in").pipe_input_at(s("k"), s("v"), 1).unwrap();

    assert_eq!(
        driver.output_topic_names(),
        vec![s("c-first-repartition"), s("c-second-repartition"), s("out")]
    );
    assert_eq!(
        driver.output_topic::<String, String>("out").read_records_to_list(),
        vec![rec(s("k"), s("c-second-repartition/0/0:v!"), 1, vec![])]
    );
}
