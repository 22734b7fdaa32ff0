//! Serdes at the edges of a DSL topology: defaults by type, `Consumed` and `Produced` serdes, the
//! error for a type with no serde, and piping into a topic the topology does not read.

#![allow(clippy::unwrap_used)] // Test helpers unwrap too, as tests may.

use bytes::Bytes;
use streams_dsl::prelude::*;

fn s(v: &str) -> String {
    v.to_string()
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Point {
    x: i32,
    y: i32,
}

#[test]
fn piping_into_a_topic_the_topology_does_not_read_is_an_error() {
    let builder = StreamsBuilder::new();
    builder.stream::<String, String>("in").to("out");
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("sd")).unwrap();
    let err = driver.input_topic::<String, String>("nope").pipe_input_at(s("k"), s("v"), 0);
    let err = err.unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
    // An output topic is not an input either.
    assert!(driver.input_topic::<String, String>("out").pipe_input_at(s("k"), s("v"), 0).is_err());
    // Nothing was processed.
    assert!(driver.output_topic_names().is_empty());
    // The driver still works.
    driver.input_topic::<String, String>("in").pipe_input_at(s("k"), s("v"), 0).unwrap();
    assert_eq!(driver.output_topic::<String, String>("out").read_value(), Some(s("v")));
}

fn point_topology() -> Topology {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .map_values(|v| {
            let (x, y) = v.split_once(',').unwrap();
            Point { x: x.parse().unwrap(), y: y.parse().unwrap() }
        })
        .to("points");
    builder.build().unwrap()
}

#[test]
fn a_type_with_no_serde_fails_at_driver_creation_naming_the_type() {
    let err = TopologyTestDriver::new(point_topology(), StreamsConfig::new("sd")).unwrap_err();
    let text = err.to_string();
    assert!(text.contains(std::any::type_name::<Point>()), "{text}");
    assert!(text.contains("KSTREAM-SINK-0000000002"), "{text}");
    assert!(matches!(err, StreamsError::Topology(_)), "{err:?}");
}

#[test]
fn a_default_serde_registered_in_the_config_makes_it_work() {
    let config = StreamsConfig::new("sd").default_serde::<Point>(JsonSerde::<Point>::new());
    let driver = TopologyTestDriver::new(point_topology(), config).unwrap();
    driver.input_topic::<String, String>("in").pipe_input_at(s("p"), s("1,-2"), 4).unwrap();

    // Readable with the registered default ...
    let out = driver.output_topic::<String, Point>("points");
    assert_eq!(out.queue_size(), 1);
    let raw = driver
        .output_topic_with::<String, Bytes>("points", Serdes::string(), Serdes::bytes())
        .read_record()
        .unwrap();
    // ... and written as JSON.
    assert_eq!(raw.value, Bytes::from_static(br#"{"x":1,"y":-2}"#));
    assert_eq!((raw.key.as_str(), raw.timestamp), ("p", 4));
}

#[test]
fn produced_serdes_decide_the_bytes_written() {
    let builder = StreamsBuilder::new();
    let amounts = builder.stream::<String, String>("in").map_values(|v| v.parse::<i64>().unwrap());
    amounts.to_with("long", Produced::with(Serdes::string(), Serdes::i64()));
    amounts.to_with("json", Produced::with(Serdes::string(), JsonSerde::<i64>::new()));
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("sd")).unwrap();
    let input = driver.input_topic::<String, String>("in");
    input.pipe_input_at(s("a"), s("256"), 0).unwrap();
    input.pipe_input_at(s("b"), s("-2"), 0).unwrap();

    let long = driver.output_topic_with::<String, Bytes>("long", Serdes::string(), Serdes::bytes());
    assert_eq!(long.read_value().unwrap(), Bytes::from_static(&[0, 0, 0, 0, 0, 0, 1, 0]));
    assert_eq!(
        long.read_value().unwrap(),
        Bytes::from_static(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe])
    );
    let json = driver.output_topic_with::<String, Bytes>("json", Serdes::string(), Serdes::bytes());
    assert_eq!(
        json.read_values_to_list(),
        vec![Bytes::from_static(b"256"), Bytes::from_static(b"-2")]
    );
}

#[test]
fn consumed_serdes_are_carried_to_sinks_of_the_same_types() {
    let builder = StreamsBuilder::new();
    let points = builder.stream_with::<String, Point>(
        &["in"],
        Consumed::with(Serdes::string(), JsonSerde::<Point>::new()),
    );
    // filter and peek keep the stream's serdes: the sink needs no default for Point.
    points.filter(|_, p| p.x >= 0).peek(|_, _| {}).to("out");
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("sd")).unwrap();
    let input = driver.input_topic_with::<String, Bytes>("in", Serdes::string(), Serdes::bytes());
    input.pipe_input_at(s("a"), Bytes::from_static(br#"{"x":-1,"y":0}"#), 1).unwrap();
    input.pipe_input_at(s("b"), Bytes::from_static(br#"{ "y": 5, "x": 3 }"#), 2).unwrap();

    let out = driver.output_topic_with::<String, Bytes>("out", Serdes::string(), Serdes::bytes());
    let r = out.read_record().unwrap();
    assert_eq!((r.key.as_str(), r.timestamp), ("b", 2));
    assert_eq!(r.value, Bytes::from_static(br#"{"x":3,"y":5}"#));
    assert!(out.is_empty());
}

#[test]
fn null_keys_and_values_pass_through_option_types() {
    let builder = StreamsBuilder::new();
    builder.stream::<Option<String>, Option<i64>>("in").map_values(|v| v.map(|n| n + 1)).to("out");
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("sd")).unwrap();
    let input = driver.input_topic::<Option<String>, Option<i64>>("in");
    input.pipe_input_at(None, Some(1), 0).unwrap();
    input.pipe_input_at(Some(s("k")), None, 1).unwrap();

    let raw = driver
        .output_topic_with::<Option<Bytes>, Option<Bytes>>("out", Serdes::bytes(), Serdes::bytes())
        .read_key_values_to_list();
    assert_eq!(
        raw,
        vec![
            (None, Some(Bytes::from_static(&[0, 0, 0, 0, 0, 0, 0, 2]))),
            (Some(Bytes::from_static(b"k")), None),
        ]
    );
}
