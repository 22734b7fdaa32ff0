//! Pipelined requests on one connection are answered in order, and a Produce with acks=0 gets no
//! response (but is stored).

use std::time::Duration;

use broker_embedded::format::BatchBuilder;
use broker_embedded::{Broker, BrokerConfig, NewTopic, Server, ServerConfig};
use bytes::{Buf, BufMut, BytesMut};
use integration_tests::read_partition;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, MetadataRequest, ProduceRequest, RequestHeader, TopicName,
};
use kafka_protocol::protocol::{Encodable, StrBytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn frame<T: Encodable>(key: ApiKey, version: i16, correlation: i32, body: &T) -> Vec<u8> {
    let mut header = RequestHeader::default();
    header.request_api_key = key as i16;
    header.request_api_version = version;
    header.correlation_id = correlation;
    header.client_id = Some(StrBytes::from_static_str("pipelining-test"));
    let mut buf = BytesMut::new();
    header.encode(&mut buf, key.request_header_version(version)).expect("header");
    body.encode(&mut buf, version).expect("body");
    let mut out = Vec::with_capacity(buf.len() + 4);
    out.put_i32(buf.len() as i32);
    out.extend_from_slice(&buf);
    out
}

fn produce(acks: i16, value: &str) -> ProduceRequest {
    let mut b = BatchBuilder::new();
    b.push(1_000, None, Some(value.as_bytes()), &[]);
    let mut p = PartitionProduceData::default();
    p.index = 0;
    p.records = Some(b.build(0).expect("batch").freeze());
    let mut t = TopicProduceData::default();
    t.name = TopicName(StrBytes::from_static_str("pipe"));
    t.partition_data = vec![p];
    let mut req = ProduceRequest::default();
    req.acks = acks;
    req.timeout_ms = 5_000;
    req.topic_data = vec![t];
    req
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_requests_are_answered_in_order_and_acks_zero_gets_no_response() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Broker::open(BrokerConfig::new(dir.path())).await.expect("open");
    broker.admin().create_topic(NewTopic::new("pipe", 1)).await.expect("topic");
    let server = Server::start(
        broker.clone(),
        ServerConfig { listen: "127.0.0.1:0".parse().expect("addr"), ..ServerConfig::default() },
    )
    .await
    .expect("server");
    let mut socket = TcpStream::connect(server.local_addr()).await.expect("connect");

    // Four requests in one write, before reading anything.
    let mut bytes = Vec::new();
    bytes.extend(frame(ApiKey::Metadata, 1, 1, &MetadataRequest::default()));
    bytes.extend(frame(ApiKey::Produce, 3, 2, &produce(0, "fire-and-forget")));
    bytes.extend(frame(ApiKey::ApiVersions, 0, 3, &ApiVersionsRequest::default()));
    bytes.extend(frame(ApiKey::Produce, 3, 4, &produce(-1, "acknowledged")));
    socket.write_all(&bytes).await.expect("write");

    let mut correlations = Vec::new();
    for _ in 0..3 {
        let mut size = [0u8; 4];
        tokio::time::timeout(Duration::from_secs(10), socket.read_exact(&mut size))
            .await
            .expect("a response in time")
            .expect("read size");
        let mut body = vec![0u8; i32::from_be_bytes(size) as usize];
        socket.read_exact(&mut body).await.expect("read body");
        correlations.push((&body[..]).get_i32());
    }
    assert_eq!(correlations, vec![1, 3, 4], "responses in request order, none for acks=0");
    // Nothing more arrives: the acks=0 request really had no response.
    let mut extra = [0u8; 1];
    let more = tokio::time::timeout(Duration::from_millis(300), socket.read(&mut extra)).await;
    assert!(more.is_err(), "no further bytes on the connection");

    let values: Vec<_> = read_partition(&broker, "pipe", 0)
        .await
        .expect("read")
        .into_iter()
        .map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).to_string())
        .collect();
    assert_eq!(values, vec!["fire-and-forget".to_string(), "acknowledged".to_string()]);
    server.shutdown().await;
    broker.close().await.expect("close");
}
