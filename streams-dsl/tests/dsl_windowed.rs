//! Windowed aggregations through the test driver: tumbling and hopping windows, grace and late
//! records, the window store, windowed keys on an output topic, and the describe() text.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use streams_dsl::prelude::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn window(start: i64, size: i64) -> TimeWindow {
    TimeWindow { start, end: start + size }
}

/// (key, window start, new count, old count) of each update a windowed count forwards.
type Update = (String, i64, Option<i64>, Option<i64>);

fn counting(
    windows: TimeWindows,
    store: &str,
) -> (TopologyTestDriver, std::sync::Arc<std::sync::Mutex<Vec<Update>>>) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .group_by_key()
        .windowed_by(windows)
        .count_with(Materialized::as_(store).with_caching_disabled().with_retention(ms(1000)))
        .to_stream()
        .foreach(move |k: &Windowed<String>, v: &Option<i64>| {
            sink.lock().unwrap().push((k.key.clone(), k.window.start, *v, None));
        });
    let d = TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("win")).unwrap();
    (d, seen)
}

#[test]
fn tumbling_windows_count_per_key_and_window() {
    let (d, seen) = counting(TimeWindows::of_size_with_no_grace(ms(10)), "counts");
    let input = d.input_topic::<String, String>("in");
    for (k, t) in [("a", 1), ("a", 5), ("b", 7), ("a", 12), ("a", 19)] {
        input.pipe_input_at(k.into(), "x".into(), t).unwrap();
    }
    let got: Vec<(String, i64, Option<i64>)> =
        seen.lock().unwrap().iter().map(|(k, s, v, _)| (k.clone(), *s, *v)).collect();
    assert_eq!(
        got,
        vec![
            ("a".into(), 0, Some(1)),
            ("a".into(), 0, Some(2)),
            ("b".into(), 0, Some(1)),
            ("a".into(), 10, Some(1)),
            ("a".into(), 10, Some(2)),
        ]
    );
    let store = d.window_store::<String, i64>("counts").unwrap().unwrap();
    assert_eq!(store.fetch(&"a".into(), 0).unwrap(), Some(2));
    assert_eq!(store.fetch_range(&"a".into(), 0, 100).unwrap(), vec![(0, 2), (10, 2)]);
    assert_eq!(store.fetch_range(&"a".into(), 5, 100).unwrap(), vec![(10, 2)]);
    assert_eq!(store.fetch_range(&"b".into(), 0, 100).unwrap(), vec![(0, 1)]);
    assert!(d.key_value_store::<String, i64>("counts").is_ok(), "the raw view is still there");
    assert!(d.window_store::<String, String>("counts").is_err(), "wrong types are refused");
}

#[test]
fn hopping_windows_count_a_record_in_every_window_holding_it() {
    let windows = TimeWindows::of_size_with_no_grace(ms(10)).advance_by(ms(5));
    let (d, _) = counting(windows, "hops");
    let input = d.input_topic::<String, String>("in");
    for t in [3, 7, 12] {
        input.pipe_input_at("k".into(), "x".into(), t).unwrap();
    }
    let store = d.window_store::<String, i64>("hops").unwrap().unwrap();
    // 3 → [0,10); 7 → [0,10), [5,15); 12 → [5,15), [10,20).
    assert_eq!(store.fetch_range(&"k".into(), 0, 100).unwrap(), vec![(0, 2), (5, 2), (10, 1)]);
}

#[test]
fn records_later_than_the_grace_period_are_dropped() {
    let (d, seen) = counting(TimeWindows::of_size_and_grace(ms(10), ms(5)), "late");
    let input = d.input_topic::<String, String>("in");
    input.pipe_input_at("k".into(), "x".into(), 2).unwrap();
    input.pipe_input_at("k".into(), "x".into(), 14).unwrap(); // stream time 14: [0,10) open until 15
    input.pipe_input_at("k".into(), "x".into(), 8).unwrap(); // late, within grace: counted
    input.pipe_input_at("k".into(), "x".into(), 15).unwrap(); // stream time 15: [0,10) closes
    input.pipe_input_at("k".into(), "x".into(), 9).unwrap(); // too late: dropped
    let store = d.window_store::<String, i64>("late").unwrap().unwrap();
    assert_eq!(store.fetch_range(&"k".into(), 0, 100).unwrap(), vec![(0, 2), (10, 2)]);
    assert_eq!(seen.lock().unwrap().len(), 4, "the dropped record forwarded nothing");
}

#[test]
fn aggregate_and_reduce_per_window_and_windowed_keys_on_a_topic() {
    let builder = StreamsBuilder::new();
    let grouped = builder.stream::<String, i64>("in").group_by_key();
    grouped
        .windowed_by(TimeWindows::of_size_with_no_grace(ms(100)))
        .reduce_with(|a, b| a + b, Materialized::as_("sums").with_caching_disabled())
        .to_stream()
        .to_with("sums", Produced::with(WindowedSerde::new(StringSerde, ms(100)), I64Serde));
    grouped.windowed_by(TimeWindows::of_size_with_no_grace(ms(100))).aggregate_with(
        Vec::<i64>::new,
        |_, v, mut all: Vec<i64>| {
            all.push(v);
            all
        },
        Materialized::as_("lists")
            .with_value_serde(JsonSerde::<Vec<i64>>::new())
            .with_caching_disabled()
            .with_retention(ms(1000)),
    );
    let d = TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("win")).unwrap();
    let input = d.input_topic::<String, i64>("in");
    for (v, t) in [(1, 10), (2, 50), (4, 150)] {
        input.pipe_input_at("k".into(), v, t).unwrap();
    }
    let out = d
        .output_topic_with::<Windowed<String>, Option<i64>>(
            "sums",
            WindowedSerde::new(StringSerde, ms(100)),
            I64Serde,
        )
        .read_key_values_to_list();
    let k = |start| Windowed { key: "k".to_string(), window: window(start, 100) };
    assert_eq!(out, vec![(k(0), Some(1)), (k(0), Some(3)), (k(100), Some(4))]);
    let lists = d.window_store::<String, Vec<i64>>("lists").unwrap().unwrap();
    assert_eq!(
        lists.fetch_range(&"k".into(), 0, 1000).unwrap(),
        vec![(0, vec![1, 2]), (100, vec![4])]
    );
}

#[test]
fn describe_and_retention_checks() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .group_by_key()
        .windowed_by(TimeWindows::of_size_with_no_grace(ms(10)))
        .count();
    assert_eq!(
        builder.build().unwrap().describe().to_string(),
        "Topologies:\n   \
         Sub-topology: 0\n    \
         Source: KSTREAM-SOURCE-0000000000 (topics: [in])\n      \
         --> KSTREAM-AGGREGATE-0000000002\n    \
         Processor: KSTREAM-AGGREGATE-0000000002 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000001])\n      \
         --> none\n      \
         <-- KSTREAM-SOURCE-0000000000\n\n"
    );
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .group_by_key()
        .windowed_by(TimeWindows::of_size_and_grace(ms(10), ms(5)))
        .count_with(Materialized::as_("short").with_retention(ms(12)));
    let err = builder.build().unwrap_err();
    assert!(err.to_string().contains("at least the window size plus the grace period"), "{err}");
}

#[test]
fn windows_expire_after_the_retention_in_stream_time() {
    // Default retention: window size plus grace, as Kafka's.
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .group_by_key()
        .windowed_by(TimeWindows::of_size_with_no_grace(ms(10)))
        .count_with(Materialized::as_("short-lived").with_caching_disabled());
    let d = TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("win")).unwrap();
    let input = d.input_topic::<String, String>("in");
    input.pipe_input_at("k".into(), "x".into(), 1).unwrap();
    let store = d.window_store::<String, i64>("short-lived").unwrap().unwrap();
    assert_eq!(store.fetch(&"k".into(), 0).unwrap(), Some(1));
    input.pipe_input_at("k".into(), "x".into(), 9).unwrap();
    assert_eq!(store.fetch(&"k".into(), 0).unwrap(), Some(2));
    // The store's time is the latest window start it holds: 10 once a record of [10,20) comes;
    // a window expires when its start is at most that time minus the retention (10 ms here).
    input.pipe_input_at("k".into(), "x".into(), 12).unwrap();
    assert_eq!(store.fetch(&"k".into(), 0).unwrap(), None, "[0,10) expired");
    assert_eq!(store.fetch(&"k".into(), 10).unwrap(), Some(1));
}
