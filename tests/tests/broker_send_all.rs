//! `Producer::send_all_detached` and `Producer::send_all_borrowed`: many records per call, with
//! what one `send` per record would write.

use std::time::Duration;

use broker_embedded::{
    Broker, BrokerConfig, ConsumerRecord, Error, Header, NewTopic, Producer, ProducerConfig,
    ProducerRecord, ProducerRecordRef,
};
use bytes::Bytes;
use integration_tests::read_partition;

const PARTITIONS: i32 = 3;

/// Keyed records (an empty key too), null values, headers, explicit partitions and timestamps.
/// Every record has a key or a partition: where the sticky partitioner puts records with neither
/// depends on batch boundaries, which one-by-one and many-per-call sending may draw differently.
fn records(topic: &str, n: usize) -> Vec<ProducerRecord> {
    (0..n)
        .map(|i| {
            let mut r = ProducerRecord::new(topic, format!("value {i} {}", "x".repeat(i % 50)))
                .timestamp(1_700_000_000_000 + i as i64);
            match i % 5 {
                0 => r = r.key(format!("key {}", i % 17)),
                1 => r = r.key(format!("key {}", i % 17)).header("h", format!("{i}")),
                2 => {
                    r = r.key(format!("tombstone {i}"));
                    r.value = None;
                }
                3 => r = r.partition((i % 3) as i32),
                _ => {
                    r = r.key("");
                    r.headers.push(Header { key: "null".into(), value: None });
                }
            }
            r
        })
        .collect()
}

async fn open() -> (tempfile::TempDir, Broker) {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Broker::open(BrokerConfig::new(dir.path())).await.expect("open");
    (dir, broker)
}

/// Small batches that fill in the middle of a call; a linger long enough that only `flush` or a
/// full batch ships one.
fn producer(broker: &Broker) -> Producer {
    let config = ProducerConfig::default().batch_size(700).linger(Duration::from_secs(30));
    broker.producer(config).expect("producer")
}

/// Every partition's records, as (key, value, headers, timestamp), partition by partition.
async fn contents(
    broker: &Broker,
    topic: &str,
) -> Vec<Vec<(Option<Bytes>, Option<Bytes>, Vec<Header>, i64)>> {
    let mut out = Vec::new();
    for p in 0..PARTITIONS {
        let records: Vec<ConsumerRecord> = read_partition(broker, topic, p).await.expect("read");
        for (i, r) in records.iter().enumerate() {
            assert_eq!(r.offset, i as i64, "{topic}-{p}: offsets are dense from 0");
        }
        out.push(records.into_iter().map(|r| (r.key, r.value, r.headers, r.timestamp)).collect());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_records_per_call_land_where_and_as_single_sends_put_them() {
    let (_dir, broker) = open().await;
    for topic in ["one-by-one", "owned", "borrowed"] {
        broker.admin().create_topic(NewTopic::new(topic, PARTITIONS)).await.expect("create");
    }
    let n = 3000; // more than one run of records per hold of the producer's lock
    let producer = producer(&broker);
    for r in records("one-by-one", n) {
        producer.send_detached(r).await.expect("send");
    }
    producer.send_all_detached(records("owned", n)).await.expect("send_all_detached");
    let borrowed = records("borrowed", n);
    producer
        .send_all_borrowed(borrowed.iter().map(ProducerRecord::as_record_ref))
        .await
        .expect("send_all_borrowed");
    producer.flush().await.expect("flush");
    assert!(producer.take_send_error().is_none());

    let expected = contents(&broker, "one-by-one").await;
    assert_eq!(expected.iter().map(Vec::len).sum::<usize>(), n);
    assert!(expected.iter().all(|p| p.len() > n / 10), "every partition got records");
    // Compared partition by partition, record by record, to keep a failure's message short.
    for (name, got) in [
        ("owned", contents(&broker, "owned").await),
        ("borrowed", contents(&broker, "borrowed").await),
    ] {
        for (p, (got, want)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(got.len(), want.len(), "{name}: partition {p} holds as many records");
            for (i, (g, w)) in got.iter().zip(want).enumerate() {
                assert_eq!(g, w, "{name}: partition {p}, offset {i}");
            }
        }
    }
    broker.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_stops_at_the_first_record_it_cannot_send_and_keeps_those_before() {
    let (_dir, broker) = open().await;
    broker.admin().create_topic(NewTopic::new("t", 1)).await.expect("create");
    let producer = producer(&broker);
    let values: Vec<String> = (0..6).map(|i| format!("record {i}")).collect();
    let refs = values.iter().enumerate().map(|(i, v)| {
        let r = ProducerRecordRef::new("t", v.as_bytes()).timestamp(i as i64);
        if i == 3 { r.partition(7) } else { r.partition(0) }
    });
    match producer.send_all_borrowed(refs).await {
        Err(Error::UnknownPartition { topic, partition }) => {
            assert_eq!((topic.as_str(), partition), ("t", 7));
        }
        other => panic!("expected an unknown-partition error, got {other:?}"),
    }
    let owned = (0..3).map(|i| {
        ProducerRecord::new("t", format!("after {i}")).partition(if i == 1 { -1 } else { 0 })
    });
    assert!(
        matches!(
            producer.send_all_detached(owned).await,
            Err(Error::UnknownPartition { partition: -1, .. })
        ),
        "a negative partition is refused too"
    );
    producer.flush().await.expect("flush");
    assert!(producer.take_send_error().is_none());
    let got: Vec<String> = read_partition(&broker, "t", 0)
        .await
        .expect("read")
        .into_iter()
        .map(|r| String::from_utf8(r.value.expect("value").to_vec()).expect("utf-8"))
        .collect();
    assert_eq!(got, ["record 0", "record 1", "record 2", "after 0"]);
    broker.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_producer_refuses_a_call_and_an_empty_call_is_fine() {
    let (_dir, broker) = open().await;
    broker.admin().create_topic(NewTopic::new("t", 1)).await.expect("create");
    let producer = producer(&broker);
    producer.send_all_borrowed(std::iter::empty()).await.expect("nothing to send");
    producer.send_all_detached(Vec::new()).await.expect("nothing to send");
    broker.close().await.expect("close");
    let r = producer.send_all_borrowed([ProducerRecordRef::new("t", b"late")]).await;
    assert!(r.is_err(), "sending after the broker closed fails: {r:?}");
}
