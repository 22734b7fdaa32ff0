//! The classic consumer-group protocol over the wire, with requests encoded by the
//! `kafka-protocol` crate as a client would send them: two members join with the two-step join,
//! the leader's assignment reaches each member byte for byte, heartbeats report rebalances, members
//! leave singly and in a batch, offsets and their metadata round-trip through commit and fetch,
//! and groups are described, listed and deleted. An old client (JoinGroup v0) joins in one step.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use broker_embedded::{Broker, BrokerConfig, NewTopic, Server, ServerConfig};
use bytes::{Buf, BufMut, Bytes, BytesMut};
use integration_tests::init_tracing;
use kafka_protocol::messages::delete_groups_request::DeleteGroupsRequest;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, DescribeGroupsRequest, GroupId, HeartbeatRequest, JoinGroupRequest,
    JoinGroupResponse, LeaveGroupRequest, ListGroupsRequest, OffsetCommitRequest,
    OffsetCommitResponse, OffsetFetchRequest, OffsetFetchResponse, RequestHeader, ResponseHeader,
    SyncGroupRequest, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, Request, StrBytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const GROUP: &str = "wire-group";
const TOPIC: &str = "events";
const META_A: &[u8] = b"\x00\x03subscription-of-a\x00\xff";
const META_B: &[u8] = b"\x00\x01b";

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

/// One client connection sending one request at a time.
struct Conn {
    stream: TcpStream,
    client_id: &'static str,
    correlation_id: i32,
}

impl Conn {
    async fn connect(addr: SocketAddr, client_id: &'static str) -> Self {
        let stream = TcpStream::connect(addr).await.expect("connect");
        Self { stream, client_id, correlation_id: 0 }
    }

    async fn call<R: Request>(&mut self, version: i16, req: &R) -> R::Response {
        let key = ApiKey::try_from(R::KEY).expect("api key");
        self.correlation_id += 1;
        let mut header = RequestHeader::default();
        header.request_api_key = R::KEY;
        header.request_api_version = version;
        header.correlation_id = self.correlation_id;
        header.client_id = Some(s(self.client_id));
        let mut body = BytesMut::new();
        header.encode(&mut body, key.request_header_version(version)).expect("encode header");
        req.encode(&mut body, version).expect("encode request");
        let mut frame = BytesMut::with_capacity(body.len() + 4);
        frame.put_i32(body.len() as i32);
        frame.extend_from_slice(&body);
        self.stream.write_all(&frame).await.expect("send");

        let len = self.stream.read_i32().await.expect("response length");
        let mut buf = vec![0; usize::try_from(len).expect("length")];
        self.stream.read_exact(&mut buf).await.expect("response body");
        let mut buf = Bytes::from(buf);
        let rh = ResponseHeader::decode(&mut buf, key.response_header_version(version))
            .expect("response header");
        assert_eq!(rh.correlation_id, self.correlation_id);
        let resp = R::Response::decode(&mut buf, version).expect("decode response");
        assert!(!buf.has_remaining(), "{key:?} v{version}: trailing bytes");
        resp
    }

    async fn join(&mut self, version: i16, member_id: &str, meta: &[u8]) -> JoinGroupResponse {
        let mut req = JoinGroupRequest::default();
        req.group_id = GroupId(s(GROUP));
        req.session_timeout_ms = 10_000;
        if version >= 1 {
            req.rebalance_timeout_ms = 10_000;
        }
        req.member_id = s(member_id);
        req.protocol_type = s("consumer");
        let mut other = JoinGroupRequestProtocol::default();
        other.name = s("other");
        other.metadata = Bytes::from_static(b"not chosen");
        let mut range = JoinGroupRequestProtocol::default();
        range.name = s("range");
        range.metadata = Bytes::copy_from_slice(meta);
        // "range" is the only protocol both members support.
        req.protocols = if meta == META_A { vec![range, other] } else { vec![range] };
        self.call(version, &req).await
    }

    /// The two-step join of versions 4+: MEMBER_ID_REQUIRED, then a join with the given id.
    async fn join_two_step(&mut self, version: i16, meta: &[u8]) -> JoinGroupResponse {
        let first = self.join(version, "", meta).await;
        assert_eq!(first.error_code, 79, "MEMBER_ID_REQUIRED");
        assert!(first.member_id.starts_with(self.client_id), "{}", first.member_id.as_str());
        self.join(version, &first.member_id, meta).await
    }

    async fn sync(
        &mut self,
        version: i16,
        joined: &JoinGroupResponse,
        assignments: &[(&str, &[u8])],
    ) -> kafka_protocol::messages::SyncGroupResponse {
        let mut req = SyncGroupRequest::default();
        req.group_id = GroupId(s(GROUP));
        req.generation_id = joined.generation_id;
        req.member_id = joined.member_id.clone();
        if version >= 5 {
            req.protocol_type = Some(s("consumer"));
            req.protocol_name = Some(s("range"));
        }
        req.assignments = assignments
            .iter()
            .map(|(id, bytes)| {
                let mut a = SyncGroupRequestAssignment::default();
                a.member_id = s(id);
                a.assignment = Bytes::copy_from_slice(bytes);
                a
            })
            .collect();
        self.call(version, &req).await
    }

    async fn heartbeat(&mut self, version: i16, member_id: &str, generation_id: i32) -> i16 {
        let mut req = HeartbeatRequest::default();
        req.group_id = GroupId(s(GROUP));
        req.member_id = s(member_id);
        req.generation_id = generation_id;
        self.call(version, &req).await.error_code
    }

    /// Heartbeats until the group reports a rebalance (REBALANCE_IN_PROGRESS).
    async fn until_rebalance(&mut self, member_id: &str, generation_id: i32) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match self.heartbeat(4, member_id, generation_id).await {
                27 => return,
                0 if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                other => panic!("heartbeat answered {other} while waiting for a rebalance"),
            }
        }
    }

    async fn commit(
        &mut self,
        version: i16,
        group: &str,
        generation_id: i32,
        member_id: &str,
        offsets: &[(&str, i32, i64, Option<&str>)],
    ) -> OffsetCommitResponse {
        let mut req = OffsetCommitRequest::default();
        req.group_id = GroupId(s(group));
        req.generation_id_or_member_epoch = generation_id;
        req.member_id = s(member_id);
        if (2..=4).contains(&version) {
            req.retention_time_ms = 60_000;
        }
        for &(topic, partition, offset, metadata) in offsets {
            let mut p = OffsetCommitRequestPartition::default();
            p.partition_index = partition;
            p.committed_offset = offset;
            if version >= 6 {
                p.committed_leader_epoch = 5;
            }
            p.committed_metadata = metadata.map(s);
            let name = TopicName(s(topic));
            match req.topics.iter_mut().find(|t| t.name == name) {
                Some(t) => t.partitions.push(p),
                None => {
                    let mut t = OffsetCommitRequestTopic::default();
                    t.name = name;
                    t.partitions.push(p);
                    req.topics.push(t);
                }
            }
        }
        self.call(version, &req).await
    }

    async fn fetch(
        &mut self,
        version: i16,
        group: &str,
        partitions: Option<&[i32]>,
    ) -> OffsetFetchResponse {
        let mut req = OffsetFetchRequest::default();
        req.group_id = GroupId(s(group));
        req.topics = partitions.map(|ps| {
            let mut t = OffsetFetchRequestTopic::default();
            t.name = TopicName(s(TOPIC));
            t.partition_indexes = ps.to_vec();
            vec![t]
        });
        if version >= 7 {
            req.require_stable = true;
        }
        self.call(version, &req).await
    }

    async fn list(&mut self, version: i16, states: &[&str]) -> Vec<(String, String)> {
        let mut req = ListGroupsRequest::default();
        if version >= 4 {
            req.states_filter = states.iter().map(|st| s(st)).collect();
        }
        let resp = self.call(version, &req).await;
        assert_eq!(resp.error_code, 0);
        resp.groups
            .into_iter()
            .map(|g| (g.group_id.0.to_string(), g.group_state.to_string()))
            .collect()
    }
}

/// Every committed (partition, offset, metadata, leader epoch) of a fetch response, sorted.
fn offsets(resp: &OffsetFetchResponse) -> Vec<(i32, i64, String, i32)> {
    let mut all: Vec<_> = resp
        .topics
        .iter()
        .inspect(|t| assert_eq!(t.name.0.as_str(), TOPIC))
        .flat_map(|t| t.partitions.iter())
        .map(|p| {
            assert_eq!(p.error_code, 0);
            let meta = p.metadata.as_ref().map(|m| m.to_string()).unwrap_or_default();
            (p.partition_index, p.committed_offset, meta, p.committed_leader_epoch)
        })
        .collect();
    all.sort();
    all
}

fn commit_errors(resp: &OffsetCommitResponse) -> Vec<(String, i32, i16)> {
    resp.topics
        .iter()
        .flat_map(|t| {
            t.partitions.iter().map(|p| (t.name.0.to_string(), p.partition_index, p.error_code))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_protocol_over_the_wire() {
    init_tracing();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = BrokerConfig::new(dir.path()).group_initial_rebalance_delay(Duration::ZERO);
    let broker = Broker::open(config).await.expect("open broker");
    broker.admin().create_topic(NewTopic::new(TOPIC, 3)).await.expect("create topic");
    let server = Server::start(
        broker.clone(),
        ServerConfig { listen: "127.0.0.1:0".parse().expect("addr"), ..Default::default() },
    )
    .await
    .expect("start server");
    let addr = server.local_addr();
    let mut a = Conn::connect(addr, "client-a").await;
    let mut b = Conn::connect(addr, "client-b").await;

    // The advertised version ranges.
    let versions = a.call(3, &ApiVersionsRequest::default()).await;
    let range = |key: ApiKey| {
        let k = versions.api_keys.iter().find(|k| k.api_key == key as i16).expect("advertised");
        (k.min_version, k.max_version)
    };
    assert_eq!(range(ApiKey::JoinGroup), (0, 7));
    assert_eq!(range(ApiKey::SyncGroup), (0, 5));
    assert_eq!(range(ApiKey::Heartbeat), (0, 4));
    assert_eq!(range(ApiKey::LeaveGroup), (0, 4));
    assert_eq!(range(ApiKey::OffsetCommit), (2, 8));
    assert_eq!(range(ApiKey::OffsetFetch), (1, 7));
    assert_eq!(range(ApiKey::DescribeGroups), (0, 5));
    assert_eq!(range(ApiKey::ListGroups), (0, 4));
    assert_eq!(range(ApiKey::DeleteGroups), (0, 2));

    // A alone: generation 1, A leads and gets its own metadata.
    let a1 = a.join_two_step(7, META_A).await;
    assert_eq!(a1.error_code, 0);
    assert_eq!(a1.generation_id, 1);
    assert_eq!(a1.leader, a1.member_id);
    assert_eq!(a1.protocol_type.as_deref(), Some("consumer"));
    assert_eq!(a1.protocol_name.as_deref(), Some("range"));
    assert_eq!(a1.members.len(), 1);
    assert_eq!(a1.members[0].metadata.as_ref(), META_A);
    let a_id = a1.member_id.to_string();
    let synced = a.sync(5, &a1, &[(&a_id, b"everything")]).await;
    assert_eq!((synced.error_code, synced.assignment.as_ref()), (0, &b"everything"[..]));
    assert_eq!(synced.protocol_name.as_deref(), Some("range"));
    assert_eq!(a.heartbeat(0, &a_id, 1).await, 0);

    // B joins (v4); A learns of the rebalance from its heartbeat and rejoins.
    let (b2, a2) = tokio::join!(b.join_two_step(4, META_B), async {
        a.until_rebalance(&a_id, 1).await;
        a.join(7, &a_id, META_A).await
    });
    assert_eq!((a2.error_code, b2.error_code), (0, 0));
    assert_eq!((a2.generation_id, b2.generation_id), (2, 2));
    assert_eq!(a2.leader, b2.leader);
    let b_id = b2.member_id.to_string();
    assert!(b_id.starts_with("client-b"));
    assert_eq!(b2.protocol_name.as_deref(), Some("range"));
    let (leader, follower) = if a2.leader == a2.member_id { (&a2, &b2) } else { (&b2, &a2) };
    assert!(follower.members.is_empty());
    let mut metadata: Vec<(String, Vec<u8>)> =
        leader.members.iter().map(|m| (m.member_id.to_string(), m.metadata.to_vec())).collect();
    metadata.sort();
    let mut expected = vec![(a_id.clone(), META_A.to_vec()), (b_id.clone(), META_B.to_vec())];
    expected.sort();
    assert_eq!(metadata, expected, "the leader gets every member's metadata, exactly");

    // The leader's assignment reaches each member byte for byte (SyncGroup v5 and v0).
    let assign_a: &[u8] = b"\x00\x03for-a\x00\x00\x00\x00\xff";
    let assign_b: &[u8] = b"\x00\x03for-b";
    let plan = [(a_id.as_str(), assign_a), (b_id.as_str(), assign_b)];
    let a_leads = leader.member_id == a2.member_id;
    let (sa, sb) = tokio::join!(
        a.sync(5, &a2, if a_leads { &plan } else { &[] }),
        b.sync(0, &b2, if a_leads { &[] } else { &plan })
    );
    assert_eq!((sa.error_code, sa.assignment.as_ref()), (0, assign_a));
    assert_eq!((sb.error_code, sb.assignment.as_ref()), (0, assign_b));

    assert_eq!(a.heartbeat(4, &a_id, 2).await, 0);
    assert_eq!(b.heartbeat(1, &b_id, 2).await, 0);
    assert_eq!(b.heartbeat(3, &b_id, 1).await, 22, "ILLEGAL_GENERATION");
    assert_eq!(b.heartbeat(2, "stranger", 2).await, 25, "UNKNOWN_MEMBER_ID");

    // DescribeGroups (v5 and v0).
    let mut req = DescribeGroupsRequest::default();
    req.groups = vec![GroupId(s(GROUP)), GroupId(s("no-such-group"))];
    let described = a.call(5, &req).await;
    let g = &described.groups[0];
    assert_eq!(g.error_code, 0);
    assert_eq!(
        (g.group_state.as_str(), g.protocol_type.as_str(), g.protocol_data.as_str()),
        ("Stable", "consumer", "range")
    );
    let mut members: Vec<(String, String, Vec<u8>, Vec<u8>)> = g
        .members
        .iter()
        .map(|m| {
            (
                m.member_id.to_string(),
                m.client_id.to_string(),
                m.member_metadata.to_vec(),
                m.member_assignment.to_vec(),
            )
        })
        .collect();
    members.sort();
    let mut expected = vec![
        (a_id.clone(), "client-a".to_string(), META_A.to_vec(), assign_a.to_vec()),
        (b_id.clone(), "client-b".to_string(), META_B.to_vec(), assign_b.to_vec()),
    ];
    expected.sort();
    assert_eq!(members, expected);
    assert_eq!(described.groups[1].group_state.as_str(), "Dead");
    assert!(described.groups[1].members.is_empty());
    assert_eq!(a.call(0, &req).await.groups[0].members.len(), 2);

    // ListGroups: v4 filters by state (case-insensitively); older versions list all.
    let stable = vec![(GROUP.to_string(), "Stable".to_string())];
    assert_eq!(a.list(4, &["Stable"]).await, stable);
    assert_eq!(a.list(4, &["stable", "Empty"]).await, stable);
    assert_eq!(a.list(4, &["Empty"]).await, vec![]);
    assert_eq!(a.list(4, &["NoSuchState"]).await, vec![]);
    assert_eq!(a.list(4, &[]).await, stable);
    assert_eq!(a.list(0, &[]).await, vec![(GROUP.to_string(), String::new())]);

    // A group with members cannot be deleted.
    let mut delete = DeleteGroupsRequest::default();
    delete.groups_names = vec![GroupId(s(GROUP))];
    assert_eq!(a.call(2, &delete).await.results[0].error_code, 68, "NON_EMPTY_GROUP");

    // OffsetCommit checked by generation; metadata round-trips; unknown topics are refused.
    let committed = a
        .commit(
            8,
            GROUP,
            2,
            &a_id,
            &[
                (TOPIC, 0, 42, Some("hello, offsets ✓")),
                (TOPIC, 1, 7, None),
                ("no-such-topic", 0, 1, Some("x")),
                (TOPIC, 9, 1, None),
            ],
        )
        .await;
    assert_eq!(
        commit_errors(&committed),
        vec![
            (TOPIC.to_string(), 0, 0),
            (TOPIC.to_string(), 1, 0),
            (TOPIC.to_string(), 9, 3),
            ("no-such-topic".to_string(), 0, 3),
        ]
    );
    let stale = b.commit(2, GROUP, 1, &b_id, &[(TOPIC, 0, 99, Some("stale"))]).await;
    assert_eq!(commit_errors(&stale), vec![(TOPIC.to_string(), 0, 22)]);
    let stranger = b.commit(5, GROUP, 2, "stranger", &[(TOPIC, 0, 99, None)]).await;
    assert_eq!(commit_errors(&stranger), vec![(TOPIC.to_string(), 0, 25)]);

    // OffsetFetch: null topics (v2+) means all; v1 names partitions; leader epochs from v5.
    let all = b.fetch(7, GROUP, None).await;
    assert_eq!(all.error_code, 0);
    assert_eq!(
        offsets(&all),
        vec![(0, 42, "hello, offsets ✓".to_string(), 5), (1, 7, String::new(), 5)]
    );
    let v1 = b.fetch(1, GROUP, Some(&[0, 1, 2])).await;
    assert_eq!(
        offsets(&v1),
        vec![
            (0, 42, "hello, offsets ✓".to_string(), -1),
            (1, 7, String::new(), -1),
            (2, -1, String::new(), -1),
        ]
    );
    let unknown = b.fetch(3, "no-such-group", Some(&[0, 2])).await;
    assert_eq!(unknown.error_code, 0);
    assert_eq!(offsets(&unknown), vec![(0, -1, String::new(), -1), (2, -1, String::new(), -1)]);
    assert!(b.fetch(6, "no-such-group", None).await.topics.is_empty());

    // LeaveGroup v4: a batch, each member answered on its own.
    let mut leave = LeaveGroupRequest::default();
    leave.group_id = GroupId(s(GROUP));
    let mut me = MemberIdentity::default();
    me.member_id = s(&b_id);
    let mut stranger = MemberIdentity::default();
    stranger.member_id = s("stranger");
    stranger.group_instance_id = Some(s("instance-x"));
    leave.members = vec![me, stranger];
    let left = b.call(4, &leave).await;
    assert_eq!(left.error_code, 0);
    let results: Vec<(String, Option<String>, i16)> = left
        .members
        .iter()
        .map(|m| {
            (
                m.member_id.to_string(),
                m.group_instance_id.as_ref().map(|i| i.to_string()),
                m.error_code,
            )
        })
        .collect();
    assert_eq!(
        results,
        vec![(b_id.clone(), None, 0), ("stranger".to_string(), Some("instance-x".to_string()), 25)]
    );

    // A rebalances alone, then leaves with LeaveGroup v0; the group is Empty and keeps its offsets.
    a.until_rebalance(&a_id, 2).await;
    let a3 = a.join(5, &a_id, META_A).await;
    assert_eq!((a3.error_code, a3.generation_id, a3.members.len()), (0, 3, 1));
    assert_eq!(a.sync(3, &a3, &[(&a_id, b"all")]).await.assignment.as_ref(), b"all");
    let mut leave = LeaveGroupRequest::default();
    leave.group_id = GroupId(s(GROUP));
    leave.member_id = s(&a_id);
    assert_eq!(a.call(0, &leave).await.error_code, 0);
    assert_eq!(a.call(2, &leave).await.error_code, 25, "already gone");
    assert_eq!(a.list(4, &["Empty"]).await, vec![(GROUP.to_string(), "Empty".to_string())]);
    let described = a.call(3, &req).await;
    assert_eq!(described.groups[0].group_state.as_str(), "Empty");
    assert!(described.groups[0].members.is_empty());
    // A simple commit (no generation) is accepted by an empty group.
    let simple = a.commit(3, GROUP, -1, "", &[(TOPIC, 2, 3, Some("manual"))]).await;
    assert_eq!(commit_errors(&simple), vec![(TOPIC.to_string(), 2, 0)]);
    assert_eq!(offsets(&a.fetch(4, GROUP, None).await).len(), 3);

    // DeleteGroups removes the group and its offsets.
    delete.groups_names = vec![GroupId(s(GROUP)), GroupId(s("no-such-group"))];
    let deleted = a.call(2, &delete).await;
    let codes: Vec<(String, i16)> =
        deleted.results.iter().map(|r| (r.group_id.0.to_string(), r.error_code)).collect();
    assert_eq!(codes, vec![(GROUP.to_string(), 0), ("no-such-group".to_string(), 69)]);
    assert!(a.fetch(7, GROUP, None).await.topics.is_empty());
    assert_eq!(offsets(&a.fetch(2, GROUP, Some(&[0])).await), vec![(0, -1, String::new(), -1)]);
    assert_eq!(a.list(0, &[]).await, vec![]);

    server.shutdown().await;
    broker.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_clients_join_in_one_step_and_errors_encode_in_every_version() {
    init_tracing();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = BrokerConfig::new(dir.path()).group_initial_rebalance_delay(Duration::ZERO);
    let broker = Broker::open(config).await.expect("open broker");
    let server = Server::start(
        broker.clone(),
        ServerConfig { listen: "127.0.0.1:0".parse().expect("addr"), ..Default::default() },
    )
    .await
    .expect("start server");
    let mut c = Conn::connect(server.local_addr(), "old-client").await;

    // JoinGroup v0: a member at once, without the two-step join.
    let joined = c.join(0, "", META_B).await;
    assert_eq!((joined.error_code, joined.generation_id), (0, 1));
    assert!(joined.member_id.starts_with("old-client"));
    assert_eq!(joined.protocol_name.as_deref(), Some("range"));
    assert_eq!(joined.members[0].metadata.as_ref(), META_B);
    let synced = c.sync(0, &joined, &[(&joined.member_id, b"mine")]).await;
    assert_eq!(synced.assignment.as_ref(), b"mine");
    assert_eq!(c.heartbeat(0, &joined.member_id, 1).await, 0);

    // Failed joins encode in every version: protocol names are "" before v7, null from v7.
    for version in 0..=7 {
        let mut req = JoinGroupRequest::default();
        req.group_id = GroupId(s("other-group"));
        req.session_timeout_ms = 1; // below the broker's minimum
        req.member_id = s("");
        req.protocol_type = s("consumer");
        let mut p = JoinGroupRequestProtocol::default();
        p.name = s("range");
        req.protocols = vec![p];
        let failed = c.call(version, &req).await;
        assert_eq!(failed.error_code, 26, "INVALID_SESSION_TIMEOUT in v{version}");
        let expected = if version < 7 { Some("") } else { None };
        assert_eq!(failed.protocol_name.as_deref(), expected, "v{version}");
    }
    // Joining with a member id the unknown group never gave out.
    let stranger = c.join(6, "made-up", META_B).await;
    assert_eq!(stranger.error_code, 25);
    // SyncGroup for a stale generation, and OffsetFetch v1 with a bad group id carry the error.
    let mut stale = joined.clone();
    stale.generation_id = 0;
    assert_eq!(c.sync(4, &stale, &[]).await.error_code, 22);
    let v1 = c.fetch(1, "", Some(&[0])).await;
    assert_eq!(v1.topics[0].partitions[0].error_code, 24, "INVALID_GROUP_ID");
    assert_eq!(c.fetch(2, "", Some(&[0])).await.error_code, 24);

    server.shutdown().await;
    broker.close().await.expect("close");
}
