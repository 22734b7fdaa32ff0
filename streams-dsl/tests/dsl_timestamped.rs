//! The DSL's tables are timestamped stores (Kafka's `TimestampedKeyValueStore`): each value is
//! kept with the timestamp of the record that made it, an aggregate's timestamp is the latest of
//! its records', and table updates leave the table with those timestamps, with the cache on or
//! off.

#![allow(clippy::unwrap_used)]

use streams_core::NO_TIMESTAMP;
use streams_dsl::prelude::*;

fn s(v: &str) -> String {
    v.to_string()
}

fn driver(builder: StreamsBuilder) -> TopologyTestDriver {
    TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("ts-app")).unwrap()
}

fn counting(materialized: Materialized<String, i64>) -> TopologyTestDriver {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .group_by_key()
        .count_with(materialized)
        .to_stream()
        .to("out");
    driver(builder)
}

fn out(d: &TopologyTestDriver) -> Vec<(String, Option<i64>, i64)> {
    d.output_topic::<String, Option<i64>>("out")
        .read_records_to_list()
        .into_iter()
        .map(|r| (r.key, r.value, r.timestamp))
        .collect()
}

#[test]
fn an_aggregate_carries_the_latest_timestamp_of_its_records() {
    let d = counting(Materialized::as_("counts").with_caching_disabled());
    let input = d.input_topic::<String, String>("in");
    input.pipe_input_at(s("a"), s("x"), 10).unwrap();
    input.pipe_input_at(s("a"), s("x"), 5).unwrap(); // out of order: the aggregate keeps 10
    input.pipe_input_at(s("b"), s("x"), 7).unwrap();
    input.pipe_input_at(s("a"), s("x"), 12).unwrap();
    assert_eq!(
        out(&d),
        vec![
            (s("a"), Some(1), 10),
            (s("a"), Some(2), 10),
            (s("b"), Some(1), 7),
            (s("a"), Some(3), 12)
        ]
    );
    let store = d.timestamped_key_value_store::<String, i64>("counts").unwrap().unwrap();
    assert_eq!(store.get(&s("a")).unwrap(), Some(ValueAndTimestamp::new(3, 12)));
    assert_eq!(store.get(&s("b")).unwrap(), Some(ValueAndTimestamp::new(1, 7)));
    // The plain view of the same store sees the values alone.
    let plain = d.key_value_store::<String, i64>("counts").unwrap().unwrap();
    assert_eq!(plain.all().unwrap(), vec![(s("a"), 3), (s("b"), 1)]);
}

#[test]
fn cached_updates_leave_with_their_own_timestamps_not_the_stream_time() {
    let d = counting(Materialized::as_("counts"));
    let input = d.input_topic::<String, String>("in");
    input.pipe_input_at(s("b"), s("x"), 500).unwrap();
    // Stream time is 500 from here on; a's count was made by a record of time 100.
    input.pipe_input_at(s("a"), s("x"), 100).unwrap();
    assert_eq!(out(&d), vec![(s("b"), Some(1), 500), (s("a"), Some(1), 100)]);
}

#[test]
fn a_source_table_keeps_each_records_timestamp_and_forwards_it() {
    for caching in [true, false] {
        let builder = StreamsBuilder::new();
        let m = Materialized::<String, String>::as_("users");
        let m = if caching { m } else { m.with_caching_disabled() };
        builder
            .table::<String, String>("users", Consumed::default(), m)
            .to_stream()
            .to("users-out");
        let d = driver(builder);
        let input = d.input_topic::<String, Option<String>>("users");
        input.pipe_input_at(s("u1"), Some(s("ann")), 30).unwrap();
        input.pipe_input_at(s("u2"), Some(s("bo")), 40).unwrap();
        input.pipe_input_at(s("u1"), Some(s("anna")), 20).unwrap();
        let store = d.timestamped_key_value_store::<String, String>("users").unwrap().unwrap();
        assert_eq!(store.get(&s("u1")).unwrap(), Some(ValueAndTimestamp::new(s("anna"), 20)));
        assert_eq!(store.get(&s("u2")).unwrap(), Some(ValueAndTimestamp::new(s("bo"), 40)));
        let got: Vec<(String, Option<String>, i64)> = d
            .output_topic::<String, Option<String>>("users-out")
            .read_records_to_list()
            .into_iter()
            .map(|r| (r.key, r.value, r.timestamp))
            .collect();
        assert_eq!(
            got,
            vec![
                (s("u1"), Some(s("ann")), 30),
                (s("u2"), Some(s("bo")), 40),
                (s("u1"), Some(s("anna")), 20),
            ],
            "caching {caching}"
        );
    }
}

#[test]
fn a_table_aggregate_takes_the_later_of_its_own_and_the_changes_timestamp() {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("user-regions", Consumed::default(), Materialized::default())
        .group_by(|_user, region| (region.clone(), region.clone()))
        .count_with(Materialized::as_("region-counts").with_caching_disabled())
        .to_stream()
        .to("out");
    let d = driver(builder);
    let input = d.input_topic::<String, Option<String>>("user-regions");
    input.pipe_input_at(s("alice"), Some(s("asia")), 50).unwrap();
    input.pipe_input_at(s("bob"), Some(s("asia")), 20).unwrap();
    let store = d.timestamped_key_value_store::<String, i64>("region-counts").unwrap().unwrap();
    assert_eq!(store.get(&s("asia")).unwrap(), Some(ValueAndTimestamp::new(2, 50)));
    assert_eq!(out(&d), vec![(s("asia"), Some(1), 50), (s("asia"), Some(2), 50)]);
}

#[test]
fn a_global_table_keeps_each_records_timestamp() {
    let builder = StreamsBuilder::new();
    builder.global_table::<String, String>(
        "countries",
        Consumed::default(),
        Materialized::as_("country-names"),
    );
    let d = driver(builder);
    let input = d.input_topic::<String, Option<String>>("countries");
    input.pipe_input_at(s("fr"), Some(s("France")), 77).unwrap();
    let store = d.timestamped_key_value_store::<String, String>("country-names").unwrap().unwrap();
    assert_eq!(store.get(&s("fr")).unwrap(), Some(ValueAndTimestamp::new(s("France"), 77)));
    let plain = d.key_value_store::<String, String>("country-names").unwrap().unwrap();
    assert_eq!(plain.get(&s("fr")).unwrap(), Some(s("France")));
}

/// Writes each record into the timestamped store `typed` and the plain store `plain`.
struct WriteBoth;

impl Processor<String, String, (), ()> for WriteBoth {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<(), ()>,
        r: Record<String, String>,
    ) -> Result<(), ProcessError> {
        let typed = ctx.timestamped_key_value_store::<String, String>("typed")?;
        typed.put(&r.key, ValueAndTimestamp::new(r.value.clone(), r.timestamp))?;
        ctx.key_value_store::<String, String>("plain")?.put(&r.key, r.value)?;
        if ctx.timestamped_key_value_store::<String, String>("plain").is_ok() {
            return Err("a plain store must have no timestamped view".into());
        }
        Ok(())
    }
}

#[test]
fn processors_choose_timestamped_stores_and_plain_stores_have_no_timestamped_view() {
    let mut topology = Topology::new();
    topology.add_source::<String, String>("src", &["in"]).unwrap();
    topology.add_processor("write", || WriteBoth, &["src"]).unwrap();
    topology
        .add_state_store(StoreBuilder::<String, String>::in_memory_key_value("plain"), &["write"])
        .unwrap();
    let typed = StoreBuilder::<String, String>::persistent_key_value("typed").with_timestamps();
    topology.add_state_store(typed, &["write"]).unwrap();
    let d = TopologyTestDriver::new(topology, StreamsConfig::new("ts-app")).unwrap();
    d.input_topic::<String, String>("in").pipe_input_at(s("k"), s("v"), 9).unwrap();

    let typed = d.timestamped_key_value_store::<String, String>("typed").unwrap().unwrap();
    assert_eq!(typed.get(&s("k")).unwrap(), Some(ValueAndTimestamp::new(s("v"), 9)));
    let plain = d.key_value_store::<String, String>("plain").unwrap().unwrap();
    assert_eq!(plain.get(&s("k")).unwrap(), Some(s("v")));
    let err = d.timestamped_key_value_store::<String, String>("plain").unwrap_err();
    assert!(err.to_string().contains("keeps no timestamps"), "{err}");
    let err = d.timestamped_key_value_store::<String, i64>("typed").unwrap_err();
    assert!(err.to_string().contains("holds"), "{err}");
    // A value written through the plain view of a timestamped store has no timestamp.
    d.key_value_store::<String, String>("typed").unwrap().unwrap().put(&s("p"), s("w")).unwrap();
    assert_eq!(typed.get(&s("p")).unwrap(), Some(ValueAndTimestamp::new(s("w"), NO_TIMESTAMP)));
}

#[test]
fn a_window_carries_the_latest_timestamp_of_its_records() {
    use std::time::Duration;
    let ms = Duration::from_millis;
    for caching in [false, true] {
        let builder = StreamsBuilder::new();
        let m = Materialized::<String, i64>::as_("window-counts").with_retention(ms(10_000));
        let m = if caching { m } else { m.with_caching_disabled() };
        builder
            .stream::<String, String>("in")
            .group_by_key()
            .windowed_by(TimeWindows::of_size_and_grace(ms(100), ms(1_000)))
            .count_with(m)
            .to_stream()
            .to_with("out", Produced::with(WindowedSerde::new(StringSerde, ms(100)), I64Serde));
        let d = driver(builder);
        let input = d.input_topic::<String, String>("in");
        // a's window [0, 100) gets records at 50, then 20 (late, within grace); b moves the
        // stream time to 150 before a's last record.
        input.pipe_input_at(s("a"), s("x"), 50).unwrap();
        input.pipe_input_at(s("b"), s("x"), 150).unwrap();
        input.pipe_input_at(s("a"), s("x"), 20).unwrap();
        let got: Vec<(String, i64, Option<i64>, i64)> = d
            .output_topic_with::<Windowed<String>, Option<i64>>(
                "out",
                WindowedSerde::new(StringSerde, ms(100)),
                I64Serde,
            )
            .read_records_to_list()
            .into_iter()
            .map(|r| (r.key.key, r.key.window.start, r.value, r.timestamp))
            .collect();
        assert_eq!(
            got,
            vec![(s("a"), 0, Some(1), 50), (s("b"), 100, Some(1), 150), (s("a"), 0, Some(2), 50),],
            "caching {caching}"
        );
        let store = d.timestamped_window_store::<String, i64>("window-counts").unwrap().unwrap();
        assert_eq!(store.fetch(&s("a"), 0).unwrap(), Some(ValueAndTimestamp::new(2, 50)));
        let plain = d.window_store::<String, i64>("window-counts").unwrap().unwrap();
        assert_eq!(plain.fetch(&s("a"), 0).unwrap(), Some(2));
    }
}
