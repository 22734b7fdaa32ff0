//! confluent-kafka for Python (librdkafka) against the broker over TCP: the idempotent producer, a
//! consumer group of three that rebalances when one member leaves, committed offsets surviving a
//! consumer restart, and the admin client. The scenarios live in `tests/python/confluent_compat.py`
//! and print JSON that these tests check against what the broker stored.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use broker_embedded::{ConsumerRecord, NewTopic};
use integration_tests::wire::{WireBroker, run_python, stored_codecs};
use serde_json::Value;

const SCRIPT: &str = "confluent_compat.py";

fn utf8(b: &Option<bytes::Bytes>) -> String {
    String::from_utf8(b.as_deref().expect("present").to_vec()).expect("utf-8")
}

/// Stored records by (partition, offset), after checking offsets are dense from 0 per partition.
fn stored_by_position(records: &[ConsumerRecord]) -> BTreeMap<(i32, i64), &ConsumerRecord> {
    let mut next: BTreeMap<i32, i64> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for r in records {
        let expected = next.entry(r.partition).or_insert(0);
        assert_eq!(r.offset, *expected, "offsets of partition {} are not dense", r.partition);
        *expected += 1;
        out.insert((r.partition, r.offset), r);
    }
    out
}

/// `[partition, offset, value]` triples printed by a consumer scenario.
fn read_triples(v: &Value) -> Vec<(i32, i64, String)> {
    v.as_array()
        .expect("array of records")
        .iter()
        .map(|r| {
            (
                r[0].as_i64().expect("partition") as i32,
                r[1].as_i64().expect("offset"),
                r[2].as_str().expect("value").to_string(),
            )
        })
        .collect()
}

fn partitions_of(v: &Value) -> Vec<i32> {
    v.as_array().expect("partition list").iter().map(|p| p.as_i64().expect("id") as i32).collect()
}

#[test]
fn idempotent_producer_delivers_every_record_once_with_dense_offsets() {
    const COUNT: usize = 3000;
    let wb = WireBroker::start();
    wb.create_topic(NewTopic::new("idempotent", 8));
    let result = run_python(
        SCRIPT,
        &[
            "produce-idempotent",
            "--bootstrap",
            &wb.bootstrap(),
            "--topic",
            "idempotent",
            "--count",
            &COUNT.to_string(),
        ],
        Duration::from_secs(120),
    );
    assert_eq!(result["errors"], serde_json::json!([]), "delivery errors");
    assert_eq!(result["undelivered"], 0);
    let delivered = result["delivered"].as_array().expect("delivery reports");
    assert_eq!(delivered.len(), COUNT);

    let stored = wb.read_topic("idempotent");
    assert_eq!(stored.len(), COUNT, "the broker stored {} records, not {COUNT}", stored.len());
    let by_position = stored_by_position(&stored);
    let values: BTreeSet<String> = stored.iter().map(|r| utf8(&r.value)).collect();
    assert_eq!(values.len(), COUNT, "duplicates stored");

    let mut partition_of_key: BTreeMap<String, i64> = BTreeMap::new();
    for d in delivered {
        let (key, value) = (d[0].as_str().expect("key"), d[1].as_str().expect("value"));
        let position = (d[2].as_i64().expect("partition") as i32, d[3].as_i64().expect("offset"));
        let r = by_position.get(&position).unwrap_or_else(|| panic!("no record at {position:?}"));
        assert_eq!((utf8(&r.key).as_str(), utf8(&r.value).as_str()), (key, value), "{position:?}");
        let p = *partition_of_key.entry(key.to_string()).or_insert(position.0 as i64);
        assert_eq!(p, position.0 as i64, "key {key} went to two partitions");
    }
}

#[test]
fn consumer_group_of_three_rebalances_when_one_leaves() {
    const PARTITIONS: i32 = 6;
    const INITIAL: usize = 600;
    const EXTRA: usize = 300;
    let wb = WireBroker::start();
    wb.create_topic(NewTopic::new("group-topic", PARTITIONS));
    wb.produce_in_process("group-topic", INITIAL, 50);
    let result = run_python(
        SCRIPT,
        &[
            "group",
            "--bootstrap",
            &wb.bootstrap(),
            "--topic",
            "group-topic",
            "--group",
            "trio",
            "--partitions",
            &PARTITIONS.to_string(),
            "--initial",
            &INITIAL.to_string(),
            "--extra",
            &EXTRA.to_string(),
        ],
        Duration::from_secs(240),
    );
    let all: Vec<i32> = (0..PARTITIONS).collect();
    eprintln!("assignments with three members: {}", result["phase1"]);
    eprintln!("assignments after member-2 left: {}", result["phase2"]);

    // Phase 1: three members, each owning some partitions, every partition owned once.
    let phase1 = result["phase1"].as_object().expect("phase1");
    assert_eq!(phase1.len(), 3, "{phase1:?}");
    let mut owned: Vec<i32> = phase1.values().flat_map(partitions_of).collect();
    assert!(phase1.values().all(|a| !partitions_of(a).is_empty()), "{phase1:?}");
    owned.sort_unstable();
    assert_eq!(owned, all, "phase 1 assignment {phase1:?}");

    // Phase 2: after member-2 left, the other two own every partition once.
    let phase2 = result["phase2"].as_object().expect("phase2");
    assert_eq!(phase2.keys().collect::<Vec<_>>(), ["member-0", "member-1"], "{phase2:?}");
    let mut owned: Vec<i32> = phase2.values().flat_map(partitions_of).collect();
    owned.sort_unstable();
    assert_eq!(owned, all, "phase 2 assignment {phase2:?}");

    let stored = wb.read_topic("group-topic");
    assert_eq!(stored.len(), INITIAL + EXTRA);
    let by_position = stored_by_position(&stored);
    let mut seen_initial = BTreeSet::new();
    let mut extra_reads: BTreeMap<String, usize> = BTreeMap::new();
    for m in result["members"].as_array().expect("members") {
        let name = m["name"].as_str().expect("name");
        assert!(
            m["errors"].as_array().is_some_and(|e| e
                .iter()
                .all(|e| { e.as_str().is_some_and(|s| s.starts_with("commit:")) })),
            "{name} reported errors: {}",
            m["errors"]
        );
        for (p, o, value) in read_triples(&m["records"]) {
            let r = by_position.get(&(p, o)).unwrap_or_else(|| panic!("{name} read {p}/{o}"));
            assert_eq!(utf8(&r.value), value, "{name} read a wrong value at {p}/{o}");
            if value.starts_with("extra-") {
                assert_ne!(name, "member-2", "the member that left read {value}");
                *extra_reads.entry(value).or_default() += 1;
            } else {
                seen_initial.insert(value);
            }
        }
    }
    assert_eq!(seen_initial.len(), INITIAL, "records produced before the rebalance were lost");
    assert_eq!(extra_reads.len(), EXTRA, "records produced after the rebalance were lost");
    let twice: Vec<_> = extra_reads.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "read twice in a stable group: {twice:?}");
}

#[test]
fn committed_offsets_resume_without_loss_or_duplicates() {
    const PARTITIONS: i32 = 4;
    const TOTAL: usize = 400;
    const FIRST: usize = 150;
    let wb = WireBroker::start();
    wb.create_topic(NewTopic::new("resume", PARTITIONS));
    wb.produce_in_process("resume", TOTAL, 37);
    let bootstrap = wb.bootstrap();
    let run = |max: usize, linger: &str| {
        run_python(
            SCRIPT,
            &[
                "commit-resume",
                "--bootstrap",
                &bootstrap,
                "--topic",
                "resume",
                "--group",
                "resumer",
                "--partitions",
                &PARTITIONS.to_string(),
                "--max",
                &max.to_string(),
                "--linger",
                linger,
            ],
            Duration::from_secs(120),
        )
    };

    let first = run(FIRST, "0");
    let first_records = read_triples(&first["records"]);
    assert_eq!(first_records.len(), FIRST);
    let mut last: BTreeMap<i32, i64> = BTreeMap::new();
    for (p, o, _) in &first_records {
        let l = last.entry(*p).or_insert(-1);
        assert_eq!(*o, *l + 1, "partition {p} read out of order or with a gap");
        *l = *o;
    }
    for p in 0..PARTITIONS {
        let committed = first["committed"][p.to_string()].as_i64().expect("committed offset");
        // -1001 is librdkafka's "no committed offset".
        let expected = last.get(&p).map_or(-1001, |o| o + 1);
        assert_eq!(
            committed, expected,
            "committed offset of partition {p}: {}",
            first["committed"]
        );
    }

    let second = run(TOTAL - FIRST, "3");
    let second_records = read_triples(&second["records"]);
    assert_eq!(second["extra"], serde_json::json!([]), "records read beyond the committed offsets");
    assert_eq!(second_records.len(), TOTAL - FIRST);

    let stored = wb.read_topic("resume");
    let by_position = stored_by_position(&stored);
    let mut seen = BTreeSet::new();
    for (p, o, value) in first_records.iter().chain(&second_records) {
        assert!(seen.insert((*p, *o)), "{p}/{o} read twice across the restart");
        assert_eq!(utf8(&by_position[&(*p, *o)].value), *value);
    }
    assert_eq!(seen.len(), TOTAL, "records lost across the restart");
    let mut end: BTreeMap<i32, i64> = BTreeMap::new();
    for r in &stored {
        end.insert(r.partition, r.offset + 1);
    }
    for p in 0..PARTITIONS {
        let committed = second["committed"][p.to_string()].as_i64().expect("committed offset");
        assert_eq!(committed, end.get(&p).copied().unwrap_or(-1001), "partition {p}");
    }
}

#[test]
fn admin_client_creates_lists_and_describes_topics() {
    let wb = WireBroker::start();
    let result =
        run_python(SCRIPT, &["admin", "--bootstrap", &wb.bootstrap()], Duration::from_secs(120));
    assert_eq!(
        result["created"],
        serde_json::json!({"admin-created": null, "admin-other": null}),
        "create_topics"
    );
    assert_eq!(result["again"]["admin-created"], "TOPIC_ALREADY_EXISTS");
    assert_eq!(result["brokers"], serde_json::json!({"0": format!("127.0.0.1:{}", wb.port())}));
    assert_eq!(
        result["listed"]["admin-created"],
        serde_json::json!({"partitions": 5, "error": null})
    );
    assert_eq!(
        result["listed"]["admin-other"],
        serde_json::json!({"partitions": 3, "error": null})
    );

    let created = &result["described"]["admin-created"];
    assert_eq!(created["name"], "admin-created", "{created}");
    assert_eq!(created["internal"], false);
    let partitions = created["partitions"].as_array().expect("partitions");
    assert_eq!(partitions.len(), 5, "{created}");
    for (i, p) in partitions.iter().enumerate() {
        assert_eq!(p, &serde_json::json!({"id": i, "leader": 0, "replicas": [0], "isr": [0]}));
    }
    assert_eq!(result["described"]["admin-other"]["partitions"].as_array().map(Vec::len), Some(3));
    assert_eq!(result["described"]["absent"]["error"], "UNKNOWN_TOPIC_OR_PART");

    // What the broker made of the request.
    let admin = wb.broker().admin();
    assert_eq!(admin.describe_topic("admin-created").expect("created").partitions.len(), 5);
    assert_eq!(admin.describe_topic("admin-other").expect("created").partitions.len(), 3);
    assert!(admin.describe_topic("absent").is_err(), "describing created the topic `absent`");
    let configs = admin.describe_configs("admin-created").expect("configs");
    let get = |name: &str| configs.iter().find(|c| c.name == name).expect(name);
    assert_eq!(
        (get("cleanup.policy").value.as_str(), get("cleanup.policy").is_default),
        ("compact", false)
    );
    assert_eq!(
        (get("retention.ms").value.as_str(), get("retention.ms").is_default),
        ("3600000", false)
    );
}

#[test]
fn compressed_batches_of_every_codec_are_stored_as_sent_and_read_back() {
    const COUNT: usize = 200;
    let wb = WireBroker::start();
    let codecs = [("gzip", 1u8), ("snappy", 2), ("lz4", 3), ("zstd", 4)];
    for (codec, _) in codecs {
        wb.create_topic(NewTopic::new(format!("compressed-{codec}"), 2));
    }
    let result = run_python(
        SCRIPT,
        &[
            "compressed",
            "--bootstrap",
            &wb.bootstrap(),
            "--topic",
            "compressed",
            "--partitions",
            "2",
            "--count",
            &COUNT.to_string(),
        ],
        Duration::from_secs(180),
    );
    for (codec, id) in codecs {
        let r = &result[codec];
        assert_eq!(r["errors"], serde_json::json!([]), "{codec}");
        assert_eq!(r["undelivered"], 0, "{codec}");
        let mut next: BTreeMap<i64, i64> = BTreeMap::new();
        let mut indexes = Vec::new();
        for rec in r["records"].as_array().expect("records") {
            let (p, o) = (rec[0].as_i64().expect("partition"), rec[1].as_i64().expect("offset"));
            let n = next.entry(p).or_insert(0);
            assert_eq!(o, *n, "{codec}: partition {p} read with a gap or out of order");
            *n += 1;
            let value = rec[3].as_str().expect("value");
            let i: usize = value.rsplit('-').next().and_then(|v| v.parse().ok()).expect("index");
            assert_eq!(rec[2].as_str(), Some(format!("k{}", i % 7).as_str()), "{codec}: key");
            assert_eq!(value, format!("{codec}-{}-{i}", "x".repeat(100)));
            indexes.push(i);
        }
        indexes.sort_unstable();
        assert_eq!(indexes, (0..COUNT).collect::<Vec<_>>(), "{codec}: lost or duplicated");
        let topic = format!("compressed-{codec}");
        assert_eq!(
            stored_codecs(wb.broker(), &topic),
            BTreeSet::from([id]),
            "{codec}: every stored batch keeps the client's compression"
        );
        // The in-process consumer decompresses them too.
        let mut values: Vec<String> = wb
            .read_topic(&topic)
            .iter()
            .map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).to_string())
            .collect();
        values.sort();
        let mut expected: Vec<String> =
            (0..COUNT).map(|i| format!("{codec}-{}-{i}", "x".repeat(100))).collect();
        expected.sort();
        assert_eq!(values, expected, "{codec}: in-process consumer reads the compressed batches");
        assert_eq!(
            wb.read_topic_batches(&topic),
            wb.read_topic(&topic),
            "{codec}: poll_batches reads the compressed batches as poll does"
        );
    }
}
