//! The `rdkafka` crate (librdkafka built from source) against the broker over TCP: a FutureProducer
//! sends 10,000 keyed records with acks=all, and a StreamConsumer in a group reads every one back
//! where its delivery report said it was stored, then commits.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use broker_embedded::NewTopic;
use integration_tests::wire::WireBroker;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

const TOPIC: &str = "rdkafka-records";
const PARTITIONS: i32 = 6;
const COUNT: usize = 10_000;

fn client_config(wb: &WireBroker) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", wb.bootstrap())
        .set("broker.address.family", "v4")
        .set("socket.timeout.ms", "10000");
    c
}

#[test]
fn future_producer_and_stream_consumer_round_trip_ten_thousand_records() {
    let wb = WireBroker::start();
    wb.create_topic(NewTopic::new(TOPIC, PARTITIONS));

    // Produce: every record acknowledged by all in-sync replicas (here: fsynced).
    let started = Instant::now();
    let deliveries: BTreeMap<(i32, i64), (String, String)> = wb.block_on(async {
        let producer: FutureProducer = client_config(&wb)
            .set("acks", "all")
            .set("linger.ms", "5")
            .set("message.timeout.ms", "30000")
            .create()
            .expect("creating the producer");
        let mut pending = Vec::with_capacity(COUNT);
        for i in 0..COUNT {
            let (key, value) = (format!("key-{}", i % 100), format!("value-{i}"));
            let deadline = Instant::now() + Duration::from_secs(30);
            let future = loop {
                match producer.send_result(FutureRecord::to(TOPIC).key(&key).payload(&value)) {
                    Ok(f) => break f,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _))
                        if Instant::now() < deadline =>
                    {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    Err((e, _)) => panic!("enqueueing record {i}: {e}"),
                }
            };
            pending.push((key, value, future));
        }
        let mut out = BTreeMap::new();
        let all = async {
            for (key, value, future) in pending {
                let delivery = future
                    .await
                    .expect("delivery report")
                    .unwrap_or_else(|(e, _)| panic!("delivering {value}: {e}"));
                let previous = out.insert((delivery.partition, delivery.offset), (key, value));
                assert!(previous.is_none(), "two records reported at one offset");
            }
        };
        tokio::time::timeout(Duration::from_secs(60), all)
            .await
            .expect("every delivery report within 60 s");
        out
    });
    eprintln!("produced {COUNT} records in {:?}", started.elapsed());
    assert_eq!(deliveries.len(), COUNT);
    // Same key, same partition; offsets dense from 0 in every partition.
    let mut key_partition = BTreeMap::new();
    let mut next_offset: BTreeMap<i32, i64> = BTreeMap::new();
    for ((p, o), (key, _)) in &deliveries {
        assert_eq!(*key_partition.entry(key.clone()).or_insert(*p), *p, "{key} in two partitions");
        let n = next_offset.entry(*p).or_insert(0);
        assert_eq!(*o, *n, "offsets of partition {p} not dense");
        *n += 1;
    }
    assert_eq!(wb.read_topic(TOPIC).len(), COUNT, "records stored in-process");

    // Consume them all back in a group, then commit.
    let started = Instant::now();
    let committed = wb.block_on(async {
        let consumer: StreamConsumer = client_config(&wb)
            .set("group.id", "rdkafka-group")
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "6000")
            .set("heartbeat.interval.ms", "500")
            .create()
            .expect("creating the consumer");
        consumer.subscribe(&[TOPIC]).expect("subscribing");
        let mut seen = BTreeSet::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        while seen.len() < COUNT {
            let m = tokio::time::timeout_at(deadline, consumer.recv())
                .await
                .unwrap_or_else(|_| panic!("read {} of {COUNT} records within 90 s", seen.len()))
                .expect("consumer error");
            let position = (m.partition(), m.offset());
            let (key, value) = deliveries
                .get(&position)
                .unwrap_or_else(|| panic!("read a record at {position:?} nobody produced"));
            assert_eq!(m.key(), Some(key.as_bytes()), "{position:?}");
            assert_eq!(m.payload(), Some(value.as_bytes()), "{position:?}");
            assert!(seen.insert(position), "{position:?} read twice");
        }
        consumer.commit_consumer_state(CommitMode::Sync).expect("committing");
        let mut tpl = TopicPartitionList::new();
        for p in 0..PARTITIONS {
            tpl.add_partition(TOPIC, p);
        }
        let committed =
            consumer.committed_offsets(tpl, Duration::from_secs(10)).expect("committed");
        (0..PARTITIONS)
            .map(|p| {
                let e = committed.find_partition(TOPIC, p).expect("partition in the list");
                (p, e.offset())
            })
            .collect::<BTreeMap<i32, Offset>>()
    });
    eprintln!("consumed {COUNT} records in {:?}", started.elapsed());
    for p in 0..PARTITIONS {
        let end = next_offset.get(&p).copied().unwrap_or(0);
        assert_eq!(committed[&p], Offset::Offset(end), "committed offset of partition {p}");
    }
}
