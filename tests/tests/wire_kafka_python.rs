//! kafka-python (a pure-Python client with its own protocol code) against the broker over TCP: a
//! producer with keys and headers, a consumer group committing and resuming, and the admin client's
//! describe_configs of a topic. The scenarios live in `tests/python/kafka_python_compat.py`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use broker_embedded::NewTopic;
use integration_tests::wire::{WireBroker, run_python};
use serde_json::Value;

const SCRIPT: &str = "kafka_python_compat.py";

fn utf8(b: Option<&[u8]>) -> String {
    String::from_utf8(b.expect("present").to_vec()).expect("utf-8")
}

#[test]
fn producer_records_land_where_murmur2_puts_them_with_headers() {
    const COUNT: usize = 1000;
    const PARTITIONS: i32 = 4;
    let wb = WireBroker::start();
    wb.create_topic(NewTopic::new("kp-produce", PARTITIONS));
    let result = run_python(
        SCRIPT,
        &[
            "produce",
            "--bootstrap",
            &wb.bootstrap(),
            "--topic",
            "kp-produce",
            "--count",
            &COUNT.to_string(),
        ],
        Duration::from_secs(120),
    );
    let delivered = result["delivered"].as_array().expect("delivery reports");
    assert_eq!(delivered.len(), COUNT);

    let stored = wb.read_topic("kp-produce");
    assert_eq!(stored.len(), COUNT);
    let by_position: BTreeMap<(i32, i64), _> =
        stored.iter().map(|r| ((r.partition, r.offset), r)).collect();
    for (i, d) in delivered.iter().enumerate() {
        let position = (d[2].as_i64().expect("partition") as i32, d[3].as_i64().expect("offset"));
        let r = by_position.get(&position).unwrap_or_else(|| panic!("nothing at {position:?}"));
        assert_eq!(utf8(r.key.as_deref()), d[0].as_str().expect("key"));
        assert_eq!(utf8(r.value.as_deref()), d[1].as_str().expect("value"));
        assert_eq!(r.headers.len(), 1, "{r:?}");
        assert_eq!(r.headers[0].key, "index");
        assert_eq!(utf8(r.headers[0].value.as_deref()), i.to_string());
    }
    // Offsets dense from 0, records in send order within each partition.
    let mut per_partition: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
    for r in &stored {
        let list = per_partition.entry(r.partition).or_default();
        assert_eq!(r.offset, list.len() as i64, "offsets of partition {} not dense", r.partition);
        list.push(utf8(r.value.as_deref())[6..].parse().expect("value-N"));
    }
    for (p, order) in &per_partition {
        assert!(order.windows(2).all(|w| w[0] < w[1]), "partition {p} out of send order");
    }

    // kafka-python's default partitioner is Kafka's murmur2, like the in-process producer.
    let keys: Vec<String> = (0..53).map(|k| format!("key-{k}")).collect();
    wb.create_topic(NewTopic::new("kp-reference", PARTITIONS));
    let expected = wb.murmur2_partitions("kp-reference", &keys);
    for r in &stored {
        let key = utf8(r.key.as_deref());
        assert_eq!(r.partition, expected[&key], "key {key} in the wrong partition");
    }
}

fn triples(v: &Value) -> Vec<(i32, i64, String)> {
    v.as_array()
        .expect("records")
        .iter()
        .map(|r| {
            let p = r[0].as_i64().expect("partition") as i32;
            (p, r[1].as_i64().expect("offset"), r[2].as_str().expect("value").to_string())
        })
        .collect()
}

#[test]
fn consumer_group_commits_and_a_new_member_resumes_from_them() {
    const PARTITIONS: i32 = 3;
    const TOTAL: usize = 300;
    const FIRST: usize = 120;
    let wb = WireBroker::start();
    wb.create_topic(NewTopic::new("kp-group", PARTITIONS));
    wb.produce_in_process("kp-group", TOTAL, 29);
    let result = run_python(
        SCRIPT,
        &[
            "group",
            "--bootstrap",
            &wb.bootstrap(),
            "--topic",
            "kp-group",
            "--group",
            "kp",
            "--partitions",
            &PARTITIONS.to_string(),
            "--max",
            &FIRST.to_string(),
            "--total",
            &TOTAL.to_string(),
        ],
        Duration::from_secs(180),
    );
    let runs = result["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 2);
    let first = triples(&runs[0]["records"]);
    let second = triples(&runs[1]["records"]);
    assert_eq!((first.len(), second.len()), (FIRST, TOTAL - FIRST));
    assert_eq!(runs[0]["extra"], serde_json::json!([]));
    assert_eq!(runs[1]["extra"], serde_json::json!([]), "records read again after the restart");

    // The first run's commits are one past the last record it read of each partition.
    let mut next: BTreeMap<i32, i64> = BTreeMap::new();
    for (p, o, _) in &first {
        let n = next.entry(*p).or_insert(0);
        assert_eq!(*o, *n, "partition {p} read with a gap or out of order");
        *n += 1;
    }
    for p in 0..PARTITIONS {
        let committed = &runs[0]["committed"][p.to_string()];
        match next.get(&p) {
            Some(n) => assert_eq!(committed.as_i64(), Some(*n), "partition {p}: {committed}"),
            // commit() commits every assigned partition's position: 0 for one not read yet.
            None => assert!(
                committed.is_null() || committed.as_i64() == Some(0),
                "partition {p} never read: {committed}"
            ),
        }
    }

    let stored = wb.read_topic("kp-group");
    let by_position: BTreeMap<(i32, i64), String> =
        stored.iter().map(|r| ((r.partition, r.offset), utf8(r.value.as_deref()))).collect();
    let mut seen = BTreeSet::new();
    for (p, o, v) in first.iter().chain(&second) {
        assert!(seen.insert((*p, *o)), "{p}/{o} read twice across the restart");
        assert_eq!(&by_position[&(*p, *o)], v);
    }
    assert_eq!(seen.len(), TOTAL, "records lost across the restart");
    let mut end: BTreeMap<i32, i64> = BTreeMap::new();
    for r in &stored {
        end.insert(r.partition, r.offset + 1);
    }
    for p in 0..PARTITIONS {
        assert_eq!(runs[1]["committed"][p.to_string()].as_i64(), end.get(&p).copied());
    }
}

#[test]
fn admin_describe_configs_lists_every_topic_config_with_defaults() {
    let wb = WireBroker::start();
    wb.create_topic(
        NewTopic::new("kp-configs", 2)
            .config("retention.ms", "3600000")
            .config("cleanup.policy", "compact"),
    );
    let result = run_python(
        SCRIPT,
        &["describe-configs", "--bootstrap", &wb.bootstrap(), "--topic", "kp-configs"],
        Duration::from_secs(60),
    );
    let described = result["configs"]["topic"]["kp-configs"].as_object().unwrap_or_else(|| {
        panic!("no configs for kp-configs: {result}");
    });
    let expected = wb.broker().admin().describe_configs("kp-configs").expect("in-process configs");
    let names: BTreeSet<&str> = described.keys().map(String::as_str).collect();
    let expected_names: BTreeSet<&str> = expected.iter().map(|c| c.name).collect();
    assert_eq!(names, expected_names, "config names differ");
    for c in &expected {
        let d = &described[c.name];
        assert_eq!(d["value"].as_str(), Some(c.value.as_str()), "{}: {d}", c.name);
        assert_eq!(d["read_only"], c.read_only, "{}: {d}", c.name);
        assert_eq!(d["is_sensitive"], c.sensitive, "{}: {d}", c.name);
        let source = d["config_source"].as_str().expect("config_source");
        if c.is_default {
            assert!(
                matches!(source, "DEFAULT_CONFIG" | "STATIC_BROKER_CONFIG"),
                "{} is a default but its source is {source}",
                c.name
            );
        } else {
            assert_eq!(source, "DYNAMIC_TOPIC_CONFIG", "{} is a topic override", c.name);
        }
    }
    assert_eq!(described["retention.ms"]["value"], "3600000");
    assert_eq!(described["cleanup.policy"]["value"], "compact");
    assert_eq!(described["segment.bytes"]["config_source"], "DEFAULT_CONFIG");
}
