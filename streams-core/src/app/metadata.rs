//! Where the application's tasks, stores and keys live across its instances (Kafka's
//! `StreamsMetadata`, `KeyQueryMetadata`, `HostInfo`), from the `application.server` endpoints
//! the instances exchange through the group assignment.

use std::collections::BTreeSet;
use std::fmt;

use crate::task::TaskId;
use crate::task::assignment_info::HostTasks;
use crate::thread::ThreadContext;

/// An instance's `application.server` endpoint.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostInfo {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
}

impl HostInfo {
    /// Parses `host:port` (the host may be a bracketed IPv6 address).
    pub fn parse(endpoint: &str) -> Option<Self> {
        let (host, port) = endpoint.rsplit_once(':')?;
        let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        if host.is_empty() || host.contains(char::is_whitespace) {
            return None;
        }
        Some(Self { host: host.to_owned(), port: port.parse().ok()? })
    }
}

impl fmt::Display for HostInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// One instance of the application: where it answers queries and what it hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamsMetadata {
    /// Its `application.server`.
    pub host_info: HostInfo,
    /// The stores of its active tasks.
    pub state_store_names: BTreeSet<String>,
    /// The input partitions of its active tasks.
    pub topic_partitions: BTreeSet<(String, i32)>,
    /// The stores it keeps as standby replicas.
    pub standby_state_store_names: BTreeSet<String>,
    /// The input partitions of the tasks it keeps standby replicas of.
    pub standby_topic_partitions: BTreeSet<(String, i32)>,
}

/// Which instances hold a key of a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyQueryMetadata {
    /// The instance running the key's task.
    pub active_host: HostInfo,
    /// Instances keeping standby replicas of that task.
    pub standby_hosts: BTreeSet<HostInfo>,
    /// The key's partition (the task's partition number).
    pub partition: i32,
}

/// The input topics of sub-topology `sub` (named ones, resolved).
fn topics_of(ctx: &ThreadContext, sub: u32) -> Vec<String> {
    ctx.subs
        .get(sub as usize)
        .map(|s| s.source_topics.iter().map(|t| t.resolve(&ctx.config.application_id)).collect())
        .unwrap_or_default()
}

/// The stores of sub-topology `sub`.
fn stores_of(ctx: &ThreadContext, sub: u32) -> Vec<String> {
    ctx.subs
        .get(sub as usize)
        .map(|s| ctx.topology.stores_of(&s.nodes).iter().map(|x| x.name.clone()).collect())
        .unwrap_or_default()
}

fn gather(
    ctx: &ThreadContext,
    tasks: &[TaskId],
    stores: &mut BTreeSet<String>,
    partitions: &mut BTreeSet<(String, i32)>,
) {
    for t in tasks {
        stores.extend(stores_of(ctx, t.subtopology));
        for topic in topics_of(ctx, t.subtopology) {
            partitions.insert((topic, t.partition));
        }
    }
}

/// Every instance with an endpoint, from the latest assignment.
pub(crate) fn all_clients(ctx: &ThreadContext, hosts: &[HostTasks]) -> Vec<StreamsMetadata> {
    let mut out: Vec<StreamsMetadata> = hosts
        .iter()
        .filter_map(|h| {
            let host_info = HostInfo::parse(&h.endpoint)?;
            let mut m = StreamsMetadata {
                host_info,
                state_store_names: BTreeSet::new(),
                topic_partitions: BTreeSet::new(),
                standby_state_store_names: BTreeSet::new(),
                standby_topic_partitions: BTreeSet::new(),
            };
            gather(ctx, &h.active, &mut m.state_store_names, &mut m.topic_partitions);
            gather(
                ctx,
                &h.standby,
                &mut m.standby_state_store_names,
                &mut m.standby_topic_partitions,
            );
            Some(m)
        })
        .collect();
    out.sort_by(|a, b| a.host_info.cmp(&b.host_info));
    out
}

/// The instances holding task `task`.
pub(crate) fn for_task(hosts: &[HostTasks], task: TaskId) -> Option<KeyQueryMetadata> {
    let active = hosts.iter().find(|h| h.active.contains(&task))?;
    Some(KeyQueryMetadata {
        active_host: HostInfo::parse(&active.endpoint)?,
        standby_hosts: hosts
            .iter()
            .filter(|h| h.standby.contains(&task))
            .filter_map(|h| HostInfo::parse(&h.endpoint))
            .collect(),
        partition: task.partition,
    })
}

/// The sub-topology holding store `name`.
pub(crate) fn subtopology_of_store(ctx: &ThreadContext, name: &str) -> Option<u32> {
    ctx.subs
        .iter()
        .position(|s| ctx.topology.stores_of(&s.nodes).iter().any(|x| x.name == name))
        .map(|i| i as u32)
}

/// The input topics of the sub-topology holding store `name`.
pub(crate) fn input_topics_of_store(ctx: &ThreadContext, name: &str) -> Vec<String> {
    subtopology_of_store(ctx, name).map(|s| topics_of(ctx, s)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_as_host_and_port() {
        assert_eq!(
            HostInfo::parse("localhost:8080"),
            Some(HostInfo { host: "localhost".into(), port: 8080 })
        );
        assert_eq!(HostInfo::parse("[::1]:9"), Some(HostInfo { host: "::1".into(), port: 9 }));
        assert_eq!(HostInfo::parse("[::1]:9").unwrap().to_string(), "[::1]:9");
        for bad in ["localhost", ":80", "h:99999", "h:-1", "a b:1", "h:"] {
            assert_eq!(HostInfo::parse(bad), None, "{bad}");
        }
    }
}
