//! Grouping and aggregation through the test driver: counts, reduces, aggregates, the repartition
//! a key change inserts, tables from topics, and the describe() text Kafka prints for them.

#![allow(clippy::unwrap_used)]

use streams_dsl::prelude::*;

fn driver(builder: StreamsBuilder) -> TopologyTestDriver {
    TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("agg")).unwrap()
}

#[test]
fn count_forwards_every_update_with_the_cache_off_and_keeps_the_store() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .group_by_key()
        .count_with(Materialized::as_("counts").with_caching_disabled())
        .to_stream()
        .to("out");
    let d = driver(builder);
    let input = d.input_topic::<String, String>("in");
    for (i, k) in ["a", "b", "a", "a"].iter().enumerate() {
        input.pipe_input_at(k.to_string(), "x".into(), 10 + i as i64).unwrap();
    }
    let out = d.output_topic::<String, Option<i64>>("out").read_records_to_list();
    let got: Vec<(String, Option<i64>, i64)> =
        out.into_iter().map(|r| (r.key, r.value, r.timestamp)).collect();
    assert_eq!(
        got,
        vec![
            ("a".into(), Some(1), 10),
            ("b".into(), Some(1), 11),
            ("a".into(), Some(2), 12),
            ("a".into(), Some(3), 13)
        ]
    );
    let store = d.key_value_store::<String, i64>("counts").unwrap().unwrap();
    assert_eq!(store.all().unwrap(), vec![("a".into(), 3), ("b".into(), 1)]);
    assert!(d.key_value_store::<String, String>("counts").is_err(), "wrong types are refused");
}

#[test]
fn with_the_cache_on_the_driver_commits_after_each_input_so_updates_still_arrive() {
    let builder = StreamsBuilder::new();
    builder.stream::<String, String>("in").group_by_key().count().to_stream().to("out");
    let d = driver(builder);
    let input = d.input_topic::<String, String>("in");
    input.pipe_input_at("a".into(), "x".into(), 1).unwrap();
    input.pipe_input_at("a".into(), "y".into(), 2).unwrap();
    let out = d.output_topic::<String, Option<i64>>("out").read_key_values_to_list();
    assert_eq!(out, vec![("a".into(), Some(1)), ("a".into(), Some(2))]);
}

#[test]
fn reduce_and_aggregate_fold_values_per_key() {
    let builder = StreamsBuilder::new();
    let grouped = builder.stream::<String, i64>("in").group_by_key();
    grouped
        .reduce_with(|a, b| a.max(b), Materialized::as_("max").with_caching_disabled())
        .to_stream()
        .to("max");
    grouped
        .aggregate_with(
            String::new,
            |_, v, acc: String| format!("{acc}{v};"),
            Materialized::as_("joined").with_caching_disabled().in_memory(),
        )
        .to_stream()
        .to("joined");
    let d = driver(builder);
    let input = d.input_topic::<String, i64>("in");
    for v in [3, 9, 4] {
        input.pipe_input_at("k".into(), v, 0).unwrap();
    }
    assert_eq!(
        d.output_topic::<String, Option<i64>>("max").read_values_to_list(),
        vec![Some(3), Some(9), Some(9)]
    );
    assert_eq!(
        d.output_topic::<String, Option<String>>("joined").read_values_to_list(),
        vec![Some("3;".to_string()), Some("3;9;".into()), Some("3;9;4;".into())]
    );
}

#[test]
fn a_key_change_before_grouping_repartitions_through_an_internal_topic() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<Option<String>, String>("lines")
        .flat_map_values(|l: String| l.split(' ').map(str::to_string).collect::<Vec<_>>())
        .group_by(|_, w: &String| w.clone())
        .count_with(Materialized::as_("counts").with_caching_disabled())
        .to_stream()
        .to("counts");
    let d = driver(builder);
    let mut input = d.input_topic::<Option<String>, String>("lines");
    input.pipe_value("to be or not to be".into()).unwrap();
    let counts: std::collections::BTreeMap<String, i64> = d
        .output_topic::<String, Option<i64>>("counts")
        .read_key_values_to_list()
        .into_iter()
        .map(|(k, v)| (k, v.unwrap()))
        .collect();
    assert_eq!(
        counts,
        [("be", 2), ("not", 1), ("or", 1), ("to", 2)].map(|(k, v)| (k.to_string(), v)).into()
    );
    assert!(d.output_topic_names().contains(&"agg-counts-repartition".to_string()));
}

#[test]
fn null_keys_are_ignored_by_aggregations() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<Option<String>, String>("in")
        .group_by_key()
        .count_with(Materialized::as_("c").with_caching_disabled())
        .to_stream()
        .to("out");
    let d = driver(builder);
    let input = d.input_topic::<Option<String>, String>("in");
    input.pipe_input_at(None, "x".into(), 0).unwrap();
    input.pipe_input_at(Some("k".into()), "x".into(), 0).unwrap();
    let out = d.output_topic::<Option<String>, Option<i64>>("out").read_key_values_to_list();
    assert_eq!(out, vec![(Some("k".to_string()), Some(1))]);
}

#[test]
fn tables_upsert_delete_filter_and_map() {
    let builder = StreamsBuilder::new();
    let table = builder.table::<String, i64>(
        "prices",
        Consumed::default(),
        Materialized::as_("prices-store").with_caching_disabled(),
    );
    table.filter(|_, p| *p >= 10).map_values(|p| p * 2).to_stream().to("doubled-expensive");
    let d = driver(builder);
    let input = d.input_topic::<String, Option<i64>>("prices");
    input.pipe_input_at("a".into(), Some(5), 0).unwrap(); // filtered out, nothing before: nothing
    input.pipe_input_at("a".into(), Some(20), 1).unwrap(); // in: 40
    input.pipe_input_at("a".into(), Some(7), 2).unwrap(); // out again: delete
    input.pipe_input_at("b".into(), Some(10), 3).unwrap(); // in: 20
    input.pipe_input_at("b".into(), None, 4).unwrap(); // tombstone: delete
    let out = d.output_topic::<String, Option<i64>>("doubled-expensive").read_key_values_to_list();
    assert_eq!(
        out,
        vec![
            ("a".into(), Some(40)),
            ("a".into(), None),
            ("b".into(), Some(20)),
            ("b".into(), None)
        ]
    );
    let store = d.key_value_store::<String, i64>("prices-store").unwrap().unwrap();
    assert_eq!(store.all().unwrap(), vec![("a".into(), 7)]);
}

#[test]
fn describe_of_a_count_after_a_key_change_matches_kafka() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .select_key(|_, v| v.clone())
        .group_by_key()
        .count()
        .to_stream()
        .to("output");
    let expected = "Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [input])
      --> KSTREAM-KEY-SELECT-0000000001
    Processor: KSTREAM-KEY-SELECT-0000000001 (stores: [])
      --> KSTREAM-FILTER-0000000005
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-FILTER-0000000005 (stores: [])
      --> KSTREAM-SINK-0000000004
      <-- KSTREAM-KEY-SELECT-0000000001
    Sink: KSTREAM-SINK-0000000004 (topic: KSTREAM-AGGREGATE-STATE-STORE-0000000002-repartition)
      <-- KSTREAM-FILTER-0000000005

  Sub-topology: 1
    Source: KSTREAM-SOURCE-0000000006 (topics: [KSTREAM-AGGREGATE-STATE-STORE-0000000002-repartition])
      --> KSTREAM-AGGREGATE-0000000003
    Processor: KSTREAM-AGGREGATE-0000000003 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000002])
      --> KTABLE-TOSTREAM-0000000007
      <-- KSTREAM-SOURCE-0000000006
    Processor: KTABLE-TOSTREAM-0000000007 (stores: [])
      --> KSTREAM-SINK-0000000008
      <-- KSTREAM-AGGREGATE-0000000003
    Sink: KSTREAM-SINK-0000000008 (topic: output)
      <-- KTABLE-TOSTREAM-0000000007

";
    assert_eq!(builder.build().unwrap().describe().to_string(), expected);
}

#[test]
fn describe_of_a_count_without_a_key_change_matches_kafka() {
    let builder = StreamsBuilder::new();
    builder.stream::<String, String>("input-topic").group_by_key().count();
    let expected = "Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [input-topic])
      --> KSTREAM-AGGREGATE-0000000002
    Processor: KSTREAM-AGGREGATE-0000000002 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000001])
      --> none
      <-- KSTREAM-SOURCE-0000000000

";
    assert_eq!(builder.build().unwrap().describe().to_string(), expected);
}
