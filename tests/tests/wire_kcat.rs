//! kcat (librdkafka's command-line client) against the broker over TCP: the metadata listing, keyed
//! records with headers produced with Kafka's murmur2 partitioning, and all of them consumed back
//! with their partitions, offsets, keys, values and headers.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Duration;

use broker_embedded::NewTopic;
use integration_tests::wire::{WireBroker, run, stored_codecs};

const PARTITIONS: i32 = 8;
const RECORDS: usize = 400;
const TIMEOUT: Duration = Duration::from_secs(60);

fn kcat(wb: &WireBroker) -> Command {
    let mut cmd = Command::new("kcat");
    cmd.args([
        "-b",
        &wb.bootstrap(),
        "-X",
        "socket.timeout.ms=10000",
        "-X",
        "topic.metadata.refresh.interval.ms=5000",
    ]);
    cmd
}

/// The key of record `i`; `foobar` has a known murmur2 answer.
fn key_of(i: usize) -> String {
    if i % 61 == 60 { "foobar".to_string() } else { format!("key-{}", i % 61) }
}

/// The headers kcat is told to add to record `i` (the second half is produced by a second run).
fn headers_of(i: usize) -> Vec<(String, String)> {
    let run = if i < RECORDS / 2 { "1" } else { "2" };
    vec![("source".into(), "kcat".into()), ("run".into(), run.into())]
}

#[test]
fn kcat_lists_the_broker_and_the_topic_partitions() {
    let wb = WireBroker::start();
    wb.create_topic(NewTopic::new("listed", PARTITIONS));
    let mut cmd = kcat(&wb);
    cmd.args(["-L", "-J"]);
    let out = run("kcat -L", cmd, None, TIMEOUT);
    let meta: serde_json::Value = serde_json::from_str(out.stdout.trim())
        .unwrap_or_else(|e| panic!("kcat -L -J printed no JSON ({e}): {}", out.stdout));

    let brokers = meta["brokers"].as_array().expect("brokers");
    assert_eq!(brokers.len(), 1, "{meta}");
    assert_eq!(brokers[0]["id"], 0, "{meta}");
    assert_eq!(brokers[0]["name"], format!("127.0.0.1:{}", wb.port()), "{meta}");
    assert_eq!(meta["controllerid"], 0, "{meta}");

    let topics = meta["topics"].as_array().expect("topics");
    let topic = topics.iter().find(|t| t["topic"] == "listed").unwrap_or_else(|| {
        panic!("topic `listed` missing from the listing: {meta}");
    });
    assert!(topic.get("error").is_none(), "{topic}");
    let partitions = topic["partitions"].as_array().expect("partitions");
    let mut ids: Vec<i64> =
        partitions.iter().map(|p| p["partition"].as_i64().expect("id")).collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..i64::from(PARTITIONS)).collect::<Vec<_>>(), "{topic}");
    for p in partitions {
        assert_eq!(p["leader"], 0, "{p}");
        assert_eq!(p["replicas"], serde_json::json!([{"id": 0}]), "{p}");
        assert_eq!(p["isrs"], serde_json::json!([{"id": 0}]), "{p}");
    }
}

/// One record as kcat printed it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Printed {
    partition: i32,
    offset: i64,
    key: String,
    value: String,
    headers: Vec<(String, String)>,
}

fn parse_headers(s: &str) -> Vec<(String, String)> {
    if s.is_empty() {
        return Vec::new();
    }
    s.split(',')
        .map(|h| {
            let (k, v) = h.split_once('=').unwrap_or_else(|| panic!("header without `=`: {h}"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

#[test]
fn kcat_keyed_records_with_headers_round_trip_with_murmur2_partitioning() {
    let wb = WireBroker::start();
    let topic = "kcat-records";
    wb.create_topic(NewTopic::new(topic, PARTITIONS));

    // Two producer runs, so the second appends after the first's offsets.
    for (run_no, range) in [(1, 0..RECORDS / 2), (2, RECORDS / 2..RECORDS)] {
        let lines: String = range.map(|i| format!("{}:value-{i}\n", key_of(i))).collect();
        let mut cmd = kcat(&wb);
        cmd.args(["-P", "-t", topic, "-K:", "-H", "source=kcat", "-H", &format!("run={run_no}")])
            .args(["-X", "partitioner=murmur2_random", "-X", "message.timeout.ms=20000"]);
        let out = run("kcat -P", cmd, Some(lines.into_bytes()), TIMEOUT);
        assert!(!out.stderr.contains("ERROR"), "kcat -P reported errors:\n{}", out.stderr);
    }

    let mut cmd = kcat(&wb);
    cmd.args(["-C", "-t", topic, "-e", "-q", "-o", "beginning", "-f", "%p\t%o\t%k\t%s\t%h\n"]);
    let out = run("kcat -C", cmd, None, TIMEOUT);
    let printed: Vec<Printed> = out
        .stdout
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 5, "unexpected kcat line {l:?}");
            Printed {
                partition: f[0].parse().expect("partition"),
                offset: f[1].parse().expect("offset"),
                key: f[2].to_string(),
                value: f[3].to_string(),
                headers: parse_headers(f[4]),
            }
        })
        .collect();
    assert_eq!(printed.len(), RECORDS, "kcat -C read {} records:\n{}", printed.len(), out.stderr);

    // Every record once, with its key and headers.
    let mut by_index = BTreeMap::new();
    for r in &printed {
        let i: usize =
            r.value.strip_prefix("value-").and_then(|v| v.parse().ok()).expect("value-N");
        assert_eq!(r.key, key_of(i), "{r:?}");
        assert_eq!(r.headers, headers_of(i), "{r:?}");
        assert!(by_index.insert(i, r.clone()).is_none(), "record {i} read twice");
    }
    assert_eq!(by_index.len(), RECORDS);

    // Per partition: offsets dense from 0, records in the order they were produced.
    let mut per_partition: BTreeMap<i32, Vec<&Printed>> = BTreeMap::new();
    for r in &printed {
        per_partition.entry(r.partition).or_default().push(r);
    }
    for (p, records) in &per_partition {
        let offsets: Vec<i64> = records.iter().map(|r| r.offset).collect();
        assert_eq!(offsets, (0..records.len() as i64).collect::<Vec<_>>(), "partition {p}");
        let indexes: Vec<usize> =
            records.iter().map(|r| r.value[6..].parse().expect("index")).collect();
        assert!(indexes.windows(2).all(|w| w[0] < w[1]), "partition {p} out of order: {indexes:?}");
    }

    // What the broker stored, read in-process, is exactly what kcat printed.
    let stored: Vec<Printed> = wb
        .read_topic(topic)
        .into_iter()
        .map(|r| Printed {
            partition: r.partition,
            offset: r.offset,
            key: String::from_utf8(r.key.expect("key").to_vec()).expect("utf-8 key"),
            value: String::from_utf8(r.value.expect("value").to_vec()).expect("utf-8 value"),
            headers: r
                .headers
                .iter()
                .map(|h| {
                    let v = h.value.as_deref().expect("header value");
                    (h.key.clone(), String::from_utf8(v.to_vec()).expect("utf-8 header"))
                })
                .collect(),
        })
        .collect();
    let mut kcat_sorted = printed.clone();
    kcat_sorted.sort_by_key(|r| (r.partition, r.offset));
    assert_eq!(stored, kcat_sorted);

    // Keyed records landed where Kafka's murmur2 partitioner (the Java client's, and the in-process
    // producer's) puts them.
    let keys: Vec<String> = (0..61).map(key_of).collect();
    wb.create_topic(NewTopic::new("murmur2-reference", PARTITIONS));
    let expected = wb.murmur2_partitions("murmur2-reference", &keys);
    for r in &printed {
        assert_eq!(r.partition, expected[&r.key], "key {} in the wrong partition", r.key);
    }
    // Kafka's known answer: toPositive(murmur2("foobar")) = 1357151166, and 1357151166 % 8 = 6.
    assert_eq!(expected["foobar"], 6);
    assert!(per_partition.len() > 4, "keys spread over too few partitions: {per_partition:?}");
}

#[test]
fn kcat_compressed_records_round_trip() {
    let wb = WireBroker::start();
    for (codec, id) in [("gzip", 1u8), ("snappy", 2), ("lz4", 3), ("zstd", 4)] {
        let topic = format!("kcat-{codec}");
        wb.create_topic(NewTopic::new(topic.clone(), 2));
        let lines: String = (0..200)
            .map(|i| format!("k{}:{codec}-{}-value-{i}\n", i % 7, "x".repeat(100)))
            .collect();
        let mut cmd = kcat(&wb);
        cmd.args(["-P", "-t", &topic, "-K:", "-z", codec, "-X", "partitioner=murmur2_random"])
            .args(["-X", "linger.ms=50", "-X", "message.timeout.ms=20000"]);
        run("kcat -P -z", cmd, Some(lines.into_bytes()), TIMEOUT);

        let mut cmd = kcat(&wb);
        cmd.args(["-C", "-t", &topic, "-e", "-q", "-o", "beginning", "-f", "%p %o %k %s\n"]);
        let out = run("kcat -C", cmd, None, TIMEOUT);
        let mut next = BTreeMap::new();
        let mut values = Vec::new();
        for line in out.stdout.lines().filter(|l| !l.is_empty()) {
            let f: Vec<&str> = line.split(' ').collect();
            assert_eq!(f.len(), 4, "{line:?}");
            let (p, o): (i32, i64) = (f[0].parse().expect("p"), f[1].parse().expect("o"));
            let n = next.entry(p).or_insert(0i64);
            assert_eq!(o, *n, "{codec}: offsets of partition {p} not dense");
            *n += 1;
            let i: usize = f[3].rsplit('-').next().and_then(|v| v.parse().ok()).expect("index");
            assert_eq!(f[2], format!("k{}", i % 7), "{codec}: key of record {i}");
            values.push(i);
        }
        values.sort_unstable();
        assert_eq!(values, (0..200).collect::<Vec<_>>(), "{codec}: records lost or duplicated");

        let d = wb.broker().admin().describe_topic(&topic).expect("describe");
        assert_eq!(d.partitions.iter().map(|p| p.high_watermark).sum::<i64>(), 200);
        // The log holds the batches as the client sent them. Debian's kcat links librdkafka
        // 2.0.2, which sends gzip, snappy and lz4 uncompressed to a broker whose Produce and Fetch
        // start above version 2 (as Kafka 4 does); zstd it compresses.
        let codecs = stored_codecs(wb.broker(), &topic);
        if codec == "zstd" {
            assert_eq!(codecs, BTreeSet::from([id]), "{codec}: codecs of the stored batches");
        } else {
            assert!(codecs.is_subset(&BTreeSet::from([0, id])), "{codec}: stored as {codecs:?}");
        }
    }
}
