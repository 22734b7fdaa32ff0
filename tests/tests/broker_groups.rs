//! Consumer groups through the in-process consumer: three members join, one leaves, one stops
//! heartbeating; in every generation each partition has exactly one owner; committed offsets
//! survive a broker restart.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use broker_embedded::{
    AssignmentStrategy, Broker, BrokerConfig, Consumer, ConsumerConfig, NewTopic,
    OffsetAndMetadata, OffsetReset, ProducerConfig, ProducerRecord, TopicPartition,
};
use integration_tests::init_tracing;

const TOPIC: &str = "orders";
const PARTITIONS: i32 = 6;

fn config(dir: &std::path::Path) -> BrokerConfig {
    BrokerConfig::new(dir).group_initial_rebalance_delay(Duration::ZERO)
}

fn consumer_config(strategy: &AssignmentStrategy, name: &str) -> ConsumerConfig {
    let mut c = ConsumerConfig::group("g")
        .offset_reset(OffsetReset::Earliest)
        .session_timeout(Duration::from_secs(6), Duration::from_millis(200))
        .assignment_strategies(vec![strategy.clone()]);
    c.client_id = name.to_string();
    c
}

/// Polls in a loop until told to stop, committing after each poll.
fn spawn_member(consumer: Arc<Consumer>, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while !stop.load(Ordering::SeqCst) {
            match consumer.poll(Duration::from_millis(50)).await {
                Ok(records) if !records.is_empty() => {
                    // A rebalance may have moved the partition meanwhile: a refused commit is fine.
                    let _ = consumer.commit_sync(None).await;
                }
                Ok(_) => {}
                Err(e) => panic!("poll failed: {e}"),
            }
        }
    })
}

/// Waits until the group is stable with `members` members, then checks that every partition has
/// exactly one owner. Returns owner by partition.
async fn stable_assignment(broker: &Broker, members: usize) -> BTreeMap<i32, String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let d = broker.admin().describe_group("g").await.expect("describe");
        let assigned: usize = d.members.iter().map(|m| m.assignment.len()).sum();
        if d.state == "Stable" && d.members.len() == members && assigned == PARTITIONS as usize {
            let mut owners = BTreeMap::new();
            for m in &d.members {
                for tp in &m.assignment {
                    assert_eq!(tp.topic, TOPIC);
                    let previous = owners.insert(tp.partition, m.member_id.clone());
                    assert!(previous.is_none(), "partition {} has two owners: {d:?}", tp.partition);
                }
            }
            assert_eq!(owners.len(), PARTITIONS as usize, "every partition owned: {d:?}");
            return owners;
        }
        assert!(Instant::now() < deadline, "group never settled with {members} members: {d:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn scenario(strategy: AssignmentStrategy) {
    init_tracing();
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Broker::open(config(dir.path())).await.expect("open");
    broker.admin().create_topic(NewTopic::new(TOPIC, PARTITIONS)).await.expect("topic");
    let producer = broker.producer(ProducerConfig::default()).expect("producer");
    for i in 0..600 {
        producer
            .send(ProducerRecord::new(TOPIC, format!("v{i}")).partition(i % PARTITIONS))
            .await
            .expect("send");
    }
    producer.flush().await.expect("flush");

    let stops: Vec<Arc<AtomicBool>> = (0..3).map(|_| Arc::new(AtomicBool::new(false))).collect();
    let mut consumers = Vec::new();
    let mut tasks = Vec::new();
    for (i, stop) in stops.iter().enumerate() {
        let c = Arc::new(broker.consumer(consumer_config(&strategy, &format!("c{i}"))).expect("c"));
        c.subscribe(&[TOPIC]).await.expect("subscribe");
        tasks.push(spawn_member(c.clone(), stop.clone()));
        consumers.push(c);
    }
    let three = stable_assignment(&broker, 3).await;
    let per_member: BTreeMap<&String, usize> = three.values().fold(BTreeMap::new(), |mut m, o| {
        *m.entry(o).or_default() += 1;
        m
    });
    assert!(per_member.values().all(|&n| n == 2), "balanced over three members: {per_member:?}");

    // Member 2 leaves the group.
    stops[2].store(true, Ordering::SeqCst);
    tasks.pop().expect("task").await.expect("member 2 task");
    consumers[2].close().await.expect("leave");
    stable_assignment(&broker, 2).await;

    // Member 1 stops heartbeating (its task stops polling) and is expelled after its session.
    stops[1].store(true, Ordering::SeqCst);
    tasks.pop().expect("task").await.expect("member 1 task");
    let one = stable_assignment(&broker, 1).await;
    assert!(one.values().all(|o| o == one.values().next().expect("owner")));

    // Let the last member read everything and commit, then stop.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let tps: Vec<TopicPartition> =
            (0..PARTITIONS).map(|p| TopicPartition::new(TOPIC, p)).collect();
        let committed = consumers[0].committed(&tps).await.expect("committed");
        if committed.iter().all(|(_, c)| c.as_ref().is_some_and(|c| c.offset == 100)) {
            break;
        }
        assert!(Instant::now() < deadline, "member 0 never committed the end: {committed:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stops[0].store(true, Ordering::SeqCst);
    tasks.pop().expect("task").await.expect("member 0 task");
    consumers[0].close().await.expect("close");
    drop(consumers);

    // Committed offsets survive a restart of the broker.
    broker.close().await.expect("close broker");
    drop(broker);
    let broker = Broker::open(config(dir.path())).await.expect("reopen");
    let c = broker.consumer(consumer_config(&strategy, "after-restart")).expect("consumer");
    let tps: Vec<TopicPartition> = (0..PARTITIONS).map(|p| TopicPartition::new(TOPIC, p)).collect();
    let committed = c.committed(&tps).await.expect("committed after restart");
    for (tp, off) in &committed {
        assert_eq!(off.as_ref().map(|o| o.offset), Some(100), "{tp} after restart");
    }
    // A member resuming reads nothing old: its positions start at the committed offsets.
    c.assign(&tps).expect("assign");
    for tp in &tps {
        assert_eq!(c.position(tp).await.expect("position"), 100);
    }
    broker.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_assignor_group_lifecycle() {
    scenario(AssignmentStrategy::Range).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cooperative_sticky_group_lifecycle() {
    scenario(AssignmentStrategy::CooperativeSticky).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_metadata_round_trips_and_simple_commits_work_without_membership() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Broker::open(config(dir.path())).await.expect("open");
    broker.admin().create_topic(NewTopic::new("t", 2)).await.expect("topic");
    let c = broker.consumer(ConsumerConfig::group("simple")).expect("consumer");
    let tp = TopicPartition::new("t", 1);
    c.commit_sync(Some(vec![(
        tp.clone(),
        OffsetAndMetadata { offset: 42, metadata: "m-é".into() },
    )]))
    .await
    .expect("commit");
    let got = c.committed(std::slice::from_ref(&tp)).await.expect("committed");
    assert_eq!(got, vec![(tp, Some(OffsetAndMetadata { offset: 42, metadata: "m-é".into() }))]);
    assert!(broker.admin().list_groups().await.contains(&"simple".to_string()));
    broker.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_async_commits_positions_or_given_offsets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Broker::open(config(dir.path())).await.expect("open");
    broker.admin().create_topic(NewTopic::new("t", 1)).await.expect("topic");
    let producer = broker.producer(ProducerConfig::default()).expect("producer");
    for i in 0..10 {
        producer.send(ProducerRecord::new("t", format!("v{i}"))).await.expect("send");
    }
    producer.flush().await.expect("flush");
    let c = Arc::new(
        broker
            .consumer(ConsumerConfig::group("async").offset_reset(OffsetReset::Earliest))
            .expect("consumer"),
    );
    let tp = TopicPartition::new("t", 0);
    c.assign(std::slice::from_ref(&tp)).expect("assign");
    let mut seen = 0;
    while seen < 10 {
        seen += c.poll(Duration::from_secs(5)).await.expect("poll").len();
    }
    // No offsets given: the positions are committed.
    c.commit_async(None).await.expect("join").expect("commit");
    let got = c.committed(std::slice::from_ref(&tp)).await.expect("committed");
    assert_eq!(got[0].1.as_ref().map(|o| o.offset), Some(10));
    // Given offsets are committed as they are, metadata included.
    let given = OffsetAndMetadata { offset: 3, metadata: "replay".into() };
    c.commit_async(Some(vec![(tp.clone(), given.clone())])).await.expect("join").expect("commit");
    let got = c.committed(std::slice::from_ref(&tp)).await.expect("committed");
    assert_eq!(got, vec![(tp, Some(given))]);
    broker.close().await.expect("close");
}
