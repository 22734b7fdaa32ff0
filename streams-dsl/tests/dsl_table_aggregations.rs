//! Table aggregations through the test driver: `KTable::group_by` with `count`, `reduce` and
//! `aggregate` following the table's updates (subtract the old value, add the new), the change
//! records on the repartition topic byte for byte, null keys, caching, and the describe() text
//! Kafka prints for them.

#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use streams_dsl::prelude::*;

const APP: &str = "tagg";

fn driver(builder: StreamsBuilder) -> TopologyTestDriver {
    TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new(APP)).unwrap()
}

fn s(v: &str) -> String {
    v.to_string()
}

/// user -> region, counted per region, the count store called `counts`.
fn region_counts(materialized: Materialized<String, i64>) -> TopologyTestDriver {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("user-regions", Consumed::default(), Materialized::default())
        .group_by(|_user, region| (region.clone(), region.clone()))
        .count_with(materialized)
        .to_stream()
        .to("region-counts");
    driver(builder)
}

#[test]
fn moving_a_user_decrements_the_old_region_and_increments_the_new() {
    let d = region_counts(Materialized::as_("counts").with_caching_disabled());
    let input = d.input_topic::<String, Option<String>>("user-regions");
    input.pipe_input_at(s("alice"), Some(s("asia")), 1).unwrap();
    input.pipe_input_at(s("bob"), Some(s("asia")), 2).unwrap();
    input.pipe_input_at(s("carol"), Some(s("europe")), 3).unwrap();
    input.pipe_input_at(s("alice"), Some(s("europe")), 4).unwrap();
    let out = d.output_topic::<String, Option<i64>>("region-counts").read_records_to_list();
    let got: Vec<(String, Option<i64>, i64)> =
        out.into_iter().map(|r| (r.key, r.value, r.timestamp)).collect();
    assert_eq!(
        got,
        vec![
            (s("asia"), Some(1), 1),
            (s("asia"), Some(2), 2),
            (s("europe"), Some(1), 3),
            // the move: the subtraction from the old region first, then the addition
            (s("asia"), Some(1), 4),
            (s("europe"), Some(2), 4),
        ]
    );
    let store = d.key_value_store::<String, i64>("counts").unwrap().unwrap();
    assert_eq!(store.all().unwrap(), vec![(s("asia"), 1), (s("europe"), 2)]);
}

#[test]
fn a_key_change_travels_as_two_records_and_an_unchanged_key_as_one_combined_record() {
    let d = region_counts(Materialized::as_("counts").with_caching_disabled());
    let input = d.input_topic::<String, Option<String>>("user-regions");
    input.pipe_input_at(s("alice"), Some(s("asia")), 1).unwrap();
    input.pipe_input_at(s("alice"), Some(s("europe")), 2).unwrap();
    input.pipe_input_at(s("alice"), Some(s("europe")), 3).unwrap(); // same region again
    input.pipe_input_at(s("alice"), None, 4).unwrap(); // deleted
    let topic = format!("{APP}-counts-repartition");
    let raw = d.output_topic::<String, Option<Bytes>>(&topic).read_key_values_to_list();
    let b = |v: &'static [u8]| Some(Bytes::from_static(v));
    assert_eq!(
        raw,
        vec![
            // insert: the new value, flag 1
            (s("asia"), b(b"asia\x01")),
            // key change: the old value (flag 0) to the old key, the new value to the new key
            (s("asia"), b(b"asia\x00")),
            (s("europe"), b(b"europe\x01")),
            // same key: varint(len(new)) new old, flag 2 (Kafka 3.5+, KIP-904)
            (s("europe"), b(b"\x0ceuropeeurope\x02")),
            // delete: the old value only
            (s("europe"), b(b"europe\x00")),
        ]
    );
    let counts = d.output_topic::<String, Option<i64>>("region-counts").read_key_values_to_list();
    assert_eq!(
        counts,
        vec![
            (s("asia"), Some(1)),
            (s("asia"), Some(0)),
            (s("europe"), Some(1)),
            // the combined record: subtract and add in one step, one update, no dip to 0
            (s("europe"), Some(1)),
            (s("europe"), Some(0)),
        ]
    );
}

#[test]
fn deletes_subtract_and_a_delete_of_an_unknown_key_changes_nothing() {
    let d = region_counts(Materialized::as_("counts").with_caching_disabled());
    let input = d.input_topic::<String, Option<String>>("user-regions");
    input.pipe_input_at(s("ghost"), None, 0).unwrap();
    input.pipe_input_at(s("alice"), Some(s("asia")), 1).unwrap();
    input.pipe_input_at(s("bob"), Some(s("asia")), 2).unwrap();
    input.pipe_input_at(s("bob"), None, 3).unwrap();
    input.pipe_input_at(s("alice"), None, 4).unwrap();
    input.pipe_input_at(s("alice"), None, 5).unwrap(); // already gone
    let out = d.output_topic::<String, Option<i64>>("region-counts").read_key_values_to_list();
    assert_eq!(
        out,
        vec![
            (s("asia"), Some(1)),
            (s("asia"), Some(2)),
            (s("asia"), Some(1)),
            (s("asia"), Some(0))
        ]
    );
    // Counts keep their group at 0, as Kafka's do.
    let store = d.key_value_store::<String, i64>("counts").unwrap().unwrap();
    assert_eq!(store.all().unwrap(), vec![(s("asia"), 0)]);
}

/// account -> balance, summed per bank (the account's first letter).
fn bank_totals(builder: &StreamsBuilder) -> KTable<String, i64> {
    builder
        .table::<String, i64>("balances", Consumed::default(), Materialized::default())
        .group_by(|account, balance| (account[..1].to_string(), *balance))
        .reduce_with(
            |t, b| t + b,
            |t, b| t - b,
            Materialized::as_("totals").with_caching_disabled(),
        )
}

#[test]
fn reduce_adds_and_subtracts_and_an_unchanged_key_gives_one_update() {
    let builder = StreamsBuilder::new();
    bank_totals(&builder).to_stream().to("totals");
    let d = driver(builder);
    let input = d.input_topic::<String, Option<i64>>("balances");
    input.pipe_input_at(s("a1"), Some(10), 0).unwrap();
    input.pipe_input_at(s("a2"), Some(5), 0).unwrap();
    input.pipe_input_at(s("b1"), Some(7), 0).unwrap();
    input.pipe_input_at(s("a1"), Some(3), 0).unwrap(); // same bank: 15 -> 8 in one update
    input.pipe_input_at(s("a2"), None, 0).unwrap(); // deleted: 8 -> 3
    let out = d.output_topic::<String, Option<i64>>("totals").read_key_values_to_list();
    assert_eq!(
        out,
        vec![
            (s("a"), Some(10)),
            (s("a"), Some(15)),
            (s("b"), Some(7)),
            (s("a"), Some(8)),
            (s("a"), Some(3)),
        ]
    );
}

#[test]
fn reduce_with_a_selector_that_moves_values_between_groups() {
    // The group is the balance's sign: an account going negative moves between groups.
    let builder = StreamsBuilder::new();
    builder
        .table::<String, i64>("balances", Consumed::default(), Materialized::default())
        .group_by(|_, b| (if *b < 0 { s("debit") } else { s("credit") }, *b))
        .reduce_with(|t, b| t + b, |t, b| t - b, Materialized::as_("sums").with_caching_disabled())
        .to_stream()
        .to("sums");
    let d = driver(builder);
    let input = d.input_topic::<String, Option<i64>>("balances");
    input.pipe_input_at(s("x"), Some(4), 0).unwrap();
    input.pipe_input_at(s("y"), Some(6), 0).unwrap();
    input.pipe_input_at(s("x"), Some(-2), 0).unwrap();
    let out = d.output_topic::<String, Option<i64>>("sums").read_key_values_to_list();
    assert_eq!(
        out,
        vec![
            (s("credit"), Some(4)),
            (s("credit"), Some(10)),
            (s("credit"), Some(6)),
            // a debit group's first value is its aggregate
            (s("debit"), Some(-2)),
        ]
    );
}

#[test]
fn aggregate_starts_from_the_initializer_and_follows_updates() {
    // The users of each region, as a sorted JSON list.
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("user-regions", Consumed::default(), Materialized::default())
        .group_by(|user, region| (region.clone(), user.clone()))
        .aggregate_with(
            Vec::<String>::new,
            |_, user, mut users| {
                users.push(user);
                users.sort();
                users
            },
            |_, user, mut users| {
                users.retain(|u| *u != user);
                users
            },
            Materialized::as_("members")
                .with_value_serde(JsonSerde::<Vec<String>>::new())
                .with_caching_disabled(),
        )
        .to_stream()
        .map_values(|users| users.map(|u| u.join(",")))
        .to("members");
    let d = driver(builder);
    let input = d.input_topic::<String, Option<String>>("user-regions");
    input.pipe_input_at(s("bob"), Some(s("asia")), 0).unwrap();
    input.pipe_input_at(s("alice"), Some(s("asia")), 0).unwrap();
    input.pipe_input_at(s("bob"), Some(s("africa")), 0).unwrap();
    input.pipe_input_at(s("alice"), None, 0).unwrap();
    let out = d.output_topic::<String, Option<String>>("members").read_key_values_to_list();
    assert_eq!(
        out,
        vec![
            (s("asia"), Some(s("bob"))),
            (s("asia"), Some(s("alice,bob"))),
            (s("asia"), Some(s("alice"))),
            (s("africa"), Some(s("bob"))),
            (s("asia"), Some(s(""))),
        ]
    );
    let store = d.key_value_store::<String, Vec<String>>("members").unwrap();
    let store = store.unwrap();
    assert_eq!(store.get(&s("africa")).unwrap(), Some(vec![s("bob")]));
    assert_eq!(store.get(&s("asia")).unwrap(), Some(vec![]));
}

#[test]
fn pairs_with_a_null_new_key_are_dropped() {
    // Users without a region go to the null group, which is not counted.
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("user-regions", Consumed::default(), Materialized::default())
        .group_by(|_, region| {
            let group = if region.is_empty() { None } else { Some(region.clone()) };
            (group, region.clone())
        })
        .count_with(Materialized::as_("counts").with_caching_disabled())
        .to_stream()
        .to("region-counts");
    let d = driver(builder);
    let input = d.input_topic::<String, Option<String>>("user-regions");
    input.pipe_input_at(s("alice"), Some(s("")), 0).unwrap(); // null group: dropped
    input.pipe_input_at(s("alice"), Some(s("asia")), 0).unwrap(); // only the addition counts
    input.pipe_input_at(s("alice"), Some(s("")), 0).unwrap(); // only the subtraction counts
    let out =
        d.output_topic::<Option<String>, Option<i64>>("region-counts").read_key_values_to_list();
    assert_eq!(out, vec![(Some(s("asia")), Some(1)), (Some(s("asia")), Some(0))]);
    let store = d.key_value_store::<Option<String>, i64>("counts").unwrap().unwrap();
    assert_eq!(store.all().unwrap(), vec![(Some(s("asia")), 0)]);
}

#[test]
fn values_that_serialize_to_null_are_dropped_as_kafka_drops_null_values() {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("user-regions", Consumed::default(), Materialized::default())
        .group_by(|_, region| (region.clone(), ())) // `()` is always null
        .count_with(Materialized::as_("counts").with_caching_disabled());
    let d = driver(builder);
    d.input_topic::<String, Option<String>>("user-regions")
        .pipe_input_at(s("alice"), Some(s("asia")), 0)
        .unwrap();
    let store = d.key_value_store::<String, i64>("counts").unwrap().unwrap();
    assert_eq!(store.all().unwrap(), vec![]);
}

#[test]
fn with_the_cache_on_updates_arrive_at_each_commit_as_with_it_off() {
    // The driver commits after every input, so the cache (on by default) flushes every update.
    let inputs = [
        ("alice", Some("asia"), 10),
        ("bob", Some("asia"), 11),
        ("alice", Some("europe"), 12),
        ("alice", Some("europe"), 13),
        ("bob", None, 14),
    ];
    let run = |materialized: Materialized<String, i64>| {
        let d = region_counts(materialized);
        let input = d.input_topic::<String, Option<String>>("user-regions");
        for (user, region, ts) in inputs {
            input.pipe_input_at(s(user), region.map(s), ts).unwrap();
        }
        let out = d.output_topic::<String, Option<i64>>("region-counts").read_records_to_list();
        let out: Vec<(String, Option<i64>, i64)> =
            out.into_iter().map(|r| (r.key, r.value, r.timestamp)).collect();
        let store = d.key_value_store::<String, i64>("counts").unwrap().unwrap().all().unwrap();
        (out, store)
    };
    let cached = run(Materialized::as_("counts"));
    let uncached = run(Materialized::as_("counts").with_caching_disabled());
    assert_eq!(cached, uncached);
    assert_eq!(
        cached.0,
        vec![
            (s("asia"), Some(1), 10),
            (s("asia"), Some(2), 11),
            (s("asia"), Some(1), 12),
            (s("europe"), Some(1), 12),
            (s("europe"), Some(1), 13),
            (s("asia"), Some(0), 14),
        ]
    );
    assert_eq!(cached.1, vec![(s("asia"), 0), (s("europe"), 1)]);
}

#[test]
fn custom_value_types_need_a_serde_for_the_repartition_topic() {
    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Stay {
        region: String,
        nights: i64,
    }
    let build = |grouped: Grouped<String, Stay>| {
        let builder = StreamsBuilder::new();
        builder
            .table::<String, String>("user-regions", Consumed::default(), Materialized::default())
            .group_by_with(|_, r| (r.clone(), Stay { region: r.clone(), nights: 1 }), grouped)
            .aggregate_with(
                || 0i64,
                |_, stay, n| n + stay.nights,
                |_, stay, n| n - stay.nights,
                Materialized::as_("nights").with_caching_disabled(),
            );
        builder.build().unwrap()
    };
    let err = TopologyTestDriver::new(build(Grouped::default()), StreamsConfig::new(APP))
        .unwrap_err()
        .to_string();
    assert!(err.contains("needs a serde for") && err.contains("Change<"), "{err}");

    let grouped = Grouped::with(Serdes::string(), JsonSerde::<Stay>::new());
    let d = TopologyTestDriver::new(build(grouped), StreamsConfig::new(APP)).unwrap();
    let input = d.input_topic::<String, Option<String>>("user-regions");
    input.pipe_input_at(s("alice"), Some(s("asia")), 0).unwrap();
    input.pipe_input_at(s("bob"), Some(s("asia")), 0).unwrap();
    input.pipe_input_at(s("bob"), Some(s("asia")), 0).unwrap();
    let store = d.key_value_store::<String, i64>("nights").unwrap().unwrap();
    assert_eq!(store.get(&s("asia")).unwrap(), Some(2));
    let raw = d
        .output_topic::<String, Option<Bytes>>(&format!("{APP}-nights-repartition"))
        .read_values_to_list();
    let json = br#"{"region":"asia","nights":1}"#;
    let mut combined = vec![(json.len() as u8) << 1];
    combined.extend_from_slice(json);
    combined.extend_from_slice(json);
    combined.push(2);
    assert_eq!(raw.last().unwrap().as_deref(), Some(&combined[..]));
}

#[test]
fn a_named_grouping_shares_one_repartition_topic_between_its_aggregations() {
    let builder = StreamsBuilder::new();
    let table =
        builder.table::<String, i64>("balances", Consumed::default(), Materialized::default());
    let named = table.group_by_with(|a, b| (a[..1].to_string(), *b), Grouped::as_("by-bank"));
    named.count_with(Materialized::as_("n"));
    named.reduce_with(|a, b| a + b, |a, b| a - b, Materialized::as_("sum"));
    let unnamed = table.group_by(|a, b| (a[..1].to_string(), *b));
    unnamed.count_with(Materialized::as_("n2"));
    unnamed.reduce_with(|a, b| a + b, |a, b| a - b, Materialized::as_("sum2"));
    let d = driver(builder);
    d.input_topic::<String, Option<i64>>("balances").pipe_input_at(s("a1"), Some(4), 0).unwrap();
    let repartitions: Vec<String> =
        d.output_topic_names().into_iter().filter(|t| t.ends_with("-repartition")).collect();
    assert_eq!(
        repartitions,
        vec![
            format!("{APP}-by-bank-repartition"),
            format!("{APP}-n2-repartition"),
            format!("{APP}-sum2-repartition")
        ]
    );
    for (store, want) in [("n", 1), ("sum", 4), ("n2", 1), ("sum2", 4)] {
        let st = d.key_value_store::<String, i64>(store).unwrap().unwrap();
        assert_eq!(st.get(&s("a")).unwrap(), Some(want), "store {store}");
    }
}

/// Kafka's `TopologyTest.tableZeroArgCountShouldPreserveTopologyStructure`.
#[test]
fn describe_of_a_table_group_by_count_matches_kafka() {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("input-topic", Consumed::default(), Materialized::default())
        .group_by(|_, v| (v.clone(), v.clone()))
        .count();
    let expected = "Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000001 (topics: [input-topic])
      --> KTABLE-SOURCE-0000000002
    Processor: KTABLE-SOURCE-0000000002 (stores: [input-topic-STATE-STORE-0000000000])
      --> KTABLE-SELECT-0000000003
      <-- KSTREAM-SOURCE-0000000001
    Processor: KTABLE-SELECT-0000000003 (stores: [])
      --> KSTREAM-SINK-0000000005
      <-- KTABLE-SOURCE-0000000002
    Sink: KSTREAM-SINK-0000000005 (topic: KTABLE-AGGREGATE-STATE-STORE-0000000004-repartition)
      <-- KTABLE-SELECT-0000000003

  Sub-topology: 1
    Source: KSTREAM-SOURCE-0000000006 (topics: [KTABLE-AGGREGATE-STATE-STORE-0000000004-repartition])
      --> KTABLE-AGGREGATE-0000000007
    Processor: KTABLE-AGGREGATE-0000000007 (stores: [KTABLE-AGGREGATE-STATE-STORE-0000000004])
      --> none
      <-- KSTREAM-SOURCE-0000000006

";
    assert_eq!(builder.build().unwrap().describe().to_string(), expected);
}

/// Kafka's `TopologyTest.tableNamedMaterializedCountShouldPreserveTopologyStructure`.
#[test]
fn describe_of_a_table_group_by_count_into_a_named_store_matches_kafka() {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("input-topic", Consumed::default(), Materialized::default())
        .group_by(|_, v| (v.clone(), v.clone()))
        .count_with(Materialized::as_("count-store"));
    let expected = "Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000001 (topics: [input-topic])
      --> KTABLE-SOURCE-0000000002
    Processor: KTABLE-SOURCE-0000000002 (stores: [input-topic-STATE-STORE-0000000000])
      --> KTABLE-SELECT-0000000003
      <-- KSTREAM-SOURCE-0000000001
    Processor: KTABLE-SELECT-0000000003 (stores: [])
      --> KSTREAM-SINK-0000000004
      <-- KTABLE-SOURCE-0000000002
    Sink: KSTREAM-SINK-0000000004 (topic: count-store-repartition)
      <-- KTABLE-SELECT-0000000003

  Sub-topology: 1
    Source: KSTREAM-SOURCE-0000000005 (topics: [count-store-repartition])
      --> KTABLE-AGGREGATE-0000000006
    Processor: KTABLE-AGGREGATE-0000000006 (stores: [count-store])
      --> none
      <-- KSTREAM-SOURCE-0000000005

";
    assert_eq!(builder.build().unwrap().describe().to_string(), expected);
}

/// Reasoned from Kafka's naming (not a fixture of Kafka's tests): a named grouping names the
/// select processor and the topic; reduce draws a `KTABLE-REDUCE-` processor and an
/// `KTABLE-AGGREGATE-STATE-STORE-` store; `to_stream().to()` follow.
#[test]
fn describe_of_a_named_table_group_by_reduce() {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, i64>("input-topic", Consumed::default(), Materialized::default())
        .group_by_with(|k, v| (k.clone(), *v), Grouped::as_("grouping"))
        .reduce(|a, b| a + b, |a, b| a - b)
        .to_stream()
        .to("output");
    let expected = "Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000001 (topics: [input-topic])
      --> KTABLE-SOURCE-0000000002
    Processor: KTABLE-SOURCE-0000000002 (stores: [input-topic-STATE-STORE-0000000000])
      --> grouping
      <-- KSTREAM-SOURCE-0000000001
    Processor: grouping (stores: [])
      --> KSTREAM-SINK-0000000005
      <-- KTABLE-SOURCE-0000000002
    Sink: KSTREAM-SINK-0000000005 (topic: grouping-repartition)
      <-- grouping

  Sub-topology: 1
    Source: KSTREAM-SOURCE-0000000006 (topics: [grouping-repartition])
      --> KTABLE-REDUCE-0000000007
    Processor: KTABLE-REDUCE-0000000007 (stores: [KTABLE-AGGREGATE-STATE-STORE-0000000004])
      --> KTABLE-TOSTREAM-0000000008
      <-- KSTREAM-SOURCE-0000000006
    Processor: KTABLE-TOSTREAM-0000000008 (stores: [])
      --> KSTREAM-SINK-0000000009
      <-- KTABLE-REDUCE-0000000007
    Sink: KSTREAM-SINK-0000000009 (topic: output)
      <-- KTABLE-TOSTREAM-0000000008

";
    assert_eq!(builder.build().unwrap().describe().to_string(), expected);
}
