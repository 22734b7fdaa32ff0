//! Task placement: the group assignor every stream thread of an application uses.
//!
//! Kafka Streams assigns *tasks*, not partitions: all input partitions of one task must go to one
//! member, or the task would run in two places. This assignor groups the partitions of the
//! subscribed topics into tasks (sub-topology, partition number) and deals whole tasks out to the
//! members. It is a pure function of the subscriptions and partition counts, as the group protocol
//! requires (any member may be the leader).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use broker_embedded::{Assignment, Assignor, RebalanceProtocol, Subscription, TopicPartition};
use bytes::Bytes;

use crate::task::TaskId;
use crate::task::assignment_info::{AssignmentInfo, HostTasks, SubscriptionInfo};

/// The instance this assignor runs in: what its members put in their subscriptions.
#[derive(Debug, Clone)]
pub(crate) struct LocalClient {
    /// Unique per application instance (all its threads share it).
    pub(crate) process_id: String,
    /// `application.server`.
    pub(crate) endpoint: Option<String>,
    /// `<state.dir>/<application.id>`: task directories with a checkpoint hold state.
    pub(crate) app_dir: PathBuf,
}

impl LocalClient {
    /// The tasks with a valid checkpoint in this instance's state directory, with the sum of
    /// their checkpointed offsets (Kafka's `taskOffsetSums`).
    fn task_offset_sums(&self) -> Vec<(TaskId, i64)> {
        let Ok(dir) = std::fs::read_dir(&self.app_dir) else { return Vec::new() };
        let mut out = Vec::new();
        for entry in dir.flatten() {
            let name = entry.file_name();
            let Some(task) = name.to_str().and_then(parse_task_id) else { continue };
            if let Ok(Some(offsets)) =
                crate::state::checkpoint::read(&entry.path().join(".checkpoint"))
            {
                out.push((task, offsets.values().fold(0i64, |a, o| a.saturating_add(*o))));
            }
        }
        out.sort();
        out
    }
}

/// `"<subtopology>_<partition>"` → the task id.
pub(crate) fn parse_task_id(s: &str) -> Option<TaskId> {
    let (sub, p) = s.split_once('_')?;
    Some(TaskId::new(sub.parse().ok()?, p.parse().ok()?))
}

/// Which topics each sub-topology reads, and how to place tasks.
#[derive(Debug, Clone)]
pub(crate) struct TaskAssignor {
    /// Per sub-topology: its named (resolved) source topics and its source patterns.
    subtopologies: Vec<(Vec<String>, Vec<regex::Regex>)>,
    /// `num.standby.replicas`.
    standbys: usize,
    /// The sub-topologies with logged stores (only their tasks get standbys); `None`: all.
    stateful: Option<BTreeSet<u32>>,
    local: Option<LocalClient>,
}

/// A group member as the assignor sees it.
struct Member<'a> {
    id: &'a str,
    /// The instance it belongs to (members without subscription data are their own instance).
    client: String,
    load: usize,
}

impl TaskAssignor {
    pub(crate) fn new(subtopologies: Vec<(Vec<String>, Vec<regex::Regex>)>) -> Self {
        Self { subtopologies, standbys: 0, stateful: None, local: None }
    }

    /// Only tasks of these sub-topologies (those with logged stores) get standby replicas.
    pub(crate) fn with_stateful(mut self, subtopologies: BTreeSet<u32>) -> Self {
        self.stateful = Some(subtopologies);
        self
    }

    /// Also places `n` standby replicas of every task on other instances.
    pub(crate) fn with_standbys(mut self, n: usize) -> Self {
        self.standbys = n;
        self
    }

    /// Members of this instance describe it in their subscriptions.
    pub(crate) fn with_local_client(mut self, local: LocalClient) -> Self {
        self.local = Some(local);
        self
    }

    /// The sub-topology reading `topic`.
    pub(crate) fn subtopology_of(&self, topic: &str) -> Option<u32> {
        self.subtopologies
            .iter()
            .position(|(topics, patterns)| {
                topics.iter().any(|t| t == topic) || patterns.iter().any(|p| p.is_match(topic))
            })
            .map(|i| i as u32)
    }

    /// The tasks over these topics and their input partitions: task `s_p` reads partition `p` of
    /// every topic of sub-topology `s` that has one.
    pub(crate) fn tasks(
        &self,
        partitions_per_topic: &BTreeMap<String, i32>,
    ) -> BTreeMap<TaskId, Vec<TopicPartition>> {
        let mut tasks: BTreeMap<TaskId, Vec<TopicPartition>> = BTreeMap::new();
        for (topic, &count) in partitions_per_topic {
            let Some(sub) = self.subtopology_of(topic) else { continue };
            for p in 0..count {
                tasks
                    .entry(TaskId::new(sub, p))
                    .or_default()
                    .push(TopicPartition::new(topic.clone(), p));
            }
        }
        tasks
    }
}

/// Keeps every member within one task of the others: with `t` tasks over `m` members, each gets
/// `t / m`, and `t % m` of them one more.
struct Balance {
    low: usize,
    extra_left: usize,
}

impl Balance {
    fn new(tasks: usize, members: usize) -> Self {
        Self { low: tasks / members, extra_left: tasks % members }
    }

    fn can_take(&self, load: usize) -> bool {
        load < self.low || (load == self.low && self.extra_left > 0)
    }

    fn took(&mut self, load_before: usize) {
        if load_before == self.low {
            self.extra_left -= 1;
        }
    }
}

impl Assignor for TaskAssignor {
    fn name(&self) -> &str {
        "stream"
    }

    fn protocol(&self) -> RebalanceProtocol {
        RebalanceProtocol::Eager
    }

    fn subscription_user_data(&self, _topics: &[String]) -> Option<Bytes> {
        let local = self.local.as_ref()?;
        Some(
            SubscriptionInfo {
                process_id: local.process_id.clone(),
                endpoint: local.endpoint.clone(),
                task_offset_sums: local.task_offset_sums(),
            }
            .encode(),
        )
    }

    /// Places whole tasks on members, evenly (±1 task per member). A task goes preferably to
    /// the instance holding the most caught-up copy of its state (the largest checkpointed
    /// changelog offsets: its previous owner, or a standby), else to the least-loaded member, in
    /// the order partition then sub-topology so that each member gets a share of every
    /// sub-topology. Standby replicas go to other instances than the active one, preferably
    /// those that already hold the task's state, then the least loaded.
    fn assign(
        &self,
        partitions_per_topic: &BTreeMap<String, i32>,
        subscriptions: &BTreeMap<String, Subscription>,
    ) -> BTreeMap<String, Assignment> {
        let subscribed: BTreeMap<String, i32> = partitions_per_topic
            .iter()
            .filter(|(t, _)| subscriptions.values().any(|s| s.topics.contains(t)))
            .map(|(t, n)| (t.clone(), *n))
            .collect();
        let mut tasks: Vec<(TaskId, Vec<TopicPartition>)> =
            self.tasks(&subscribed).into_iter().collect();
        tasks.sort_by_key(|(id, _)| (id.partition, id.subtopology));
        let infos: BTreeMap<&str, SubscriptionInfo> = subscriptions
            .iter()
            .map(|(m, s)| {
                let info = s
                    .user_data
                    .as_deref()
                    .and_then(|b| match SubscriptionInfo::decode(b) {
                        Ok(i) => Some(i),
                        Err(e) => {
                            tracing::warn!(member = %m, error = %e, "unreadable subscription data");
                            None
                        }
                    })
                    .unwrap_or_else(|| SubscriptionInfo {
                        process_id: format!("member:{m}"),
                        ..SubscriptionInfo::default()
                    });
                (m.as_str(), info)
            })
            .collect();
        let mut members: Vec<Member<'_>> = infos
            .iter()
            .map(|(m, i)| Member { id: m, client: i.process_id.clone(), load: 0 })
            .collect();
        let mut out: BTreeMap<String, Assignment> =
            subscriptions.keys().map(|m| (m.clone(), Assignment::default())).collect();
        if members.is_empty() {
            return out;
        }
        // Offset sums per (task, client): the most caught-up copy of each task's state.
        let mut state: BTreeMap<TaskId, Vec<(i64, String)>> = BTreeMap::new();
        let mut seen_clients = BTreeSet::new();
        for info in infos.values() {
            if !seen_clients.insert(info.process_id.clone()) {
                continue;
            }
            for (task, sum) in &info.task_offset_sums {
                state.entry(*task).or_default().push((*sum, info.process_id.clone()));
            }
        }
        for holders in state.values_mut() {
            holders.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        }
        let least_loaded = |members: &[Member<'_>], ok: &dyn Fn(&Member<'_>) -> bool| {
            members
                .iter()
                .enumerate()
                .filter(|(_, m)| ok(m))
                .min_by_key(|(i, m)| (m.load, *i))
                .map(|(i, _)| i)
        };
        let mut balance = Balance::new(tasks.len(), members.len());
        let mut active_client: BTreeMap<TaskId, String> = BTreeMap::new();
        let mut unplaced = Vec::new();
        for (id, partitions) in tasks {
            let holders = state.get(&id).map(Vec::as_slice).unwrap_or_default();
            let mut chosen = None;
            for (_, client) in holders {
                chosen =
                    least_loaded(&members, &|m| &m.client == client && balance.can_take(m.load));
                if chosen.is_some() {
                    break;
                }
            }
            match chosen {
                Some(i) => {
                    balance.took(members[i].load);
                    members[i].load += 1;
                    active_client.insert(id, members[i].client.clone());
                    if let Some(a) = out.get_mut(members[i].id) {
                        a.partitions.extend(partitions);
                    }
                }
                None => unplaced.push((id, partitions)),
            }
        }
        for (id, partitions) in unplaced {
            let Some(i) = least_loaded(&members, &|m| balance.can_take(m.load)) else { continue };
            balance.took(members[i].load);
            members[i].load += 1;
            active_client.insert(id, members[i].client.clone());
            if let Some(a) = out.get_mut(members[i].id) {
                a.partitions.extend(partitions);
            }
        }
        // Standbys: on other instances, preferring those with the task's state.
        let mut standby_of: BTreeMap<&str, Vec<TaskId>> = BTreeMap::new();
        let mut standbys_per_client: BTreeMap<String, usize> = BTreeMap::new();
        let mut clients_standby: BTreeMap<TaskId, Vec<String>> = BTreeMap::new();
        let clients: BTreeSet<String> = members.iter().map(|m| m.client.clone()).collect();
        let mut short = 0usize;
        for (id, owner) in &active_client {
            if self.stateful.as_ref().is_some_and(|s| !s.contains(&id.subtopology)) {
                continue;
            }
            for _ in 0..self.standbys {
                let taken = clients_standby.get(id).cloned().unwrap_or_default();
                let eligible = |c: &String| c != owner && !taken.contains(c);
                let holders = state.get(id).map(Vec::as_slice).unwrap_or_default();
                let client = holders
                    .iter()
                    .map(|(_, c)| c)
                    .find(|c| eligible(c))
                    .or_else(|| {
                        clients
                            .iter()
                            .filter(|c| eligible(c))
                            .min_by_key(|c| standbys_per_client.get(*c).copied().unwrap_or(0))
                    })
                    .cloned();
                let Some(client) = client else {
                    short += 1;
                    break;
                };
                let Some(i) = least_loaded(&members, &|m| m.client == client) else { break };
                members[i].load += 1;
                *standbys_per_client.entry(client.clone()).or_default() += 1;
                clients_standby.entry(*id).or_default().push(client);
                standby_of.entry(members[i].id).or_default().push(*id);
            }
        }
        if short > 0 {
            tracing::warn!(
                missing = short,
                wanted = self.standbys,
                "not enough other instances for every standby replica"
            );
        }
        // Every member learns every instance's tasks, by endpoint.
        let mut hosts: BTreeMap<String, HostTasks> = BTreeMap::new();
        for info in infos.values() {
            if let Some(e) = &info.endpoint {
                hosts
                    .entry(info.process_id.clone())
                    .or_insert_with(|| HostTasks { endpoint: e.clone(), ..HostTasks::default() });
            }
        }
        for (id, client) in &active_client {
            if let Some(h) = hosts.get_mut(client) {
                h.active.push(*id);
            }
        }
        for (id, cs) in &clients_standby {
            for c in cs {
                if let Some(h) = hosts.get_mut(c) {
                    h.standby.push(*id);
                }
            }
        }
        let hosts: Vec<HostTasks> = hosts.into_values().collect();
        for (m, a) in out.iter_mut() {
            a.user_data = Some(
                AssignmentInfo {
                    standby: standby_of.get(m.as_str()).cloned().unwrap_or_default(),
                    hosts: hosts.clone(),
                }
                .encode(),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn assignor() -> TaskAssignor {
        TaskAssignor::new(vec![
            (vec!["a".into(), "b".into()], vec![]),
            (vec!["app-x-repartition".into()], vec![regex::Regex::new("^(?:logs-.*)$").unwrap()]),
        ])
    }

    fn subs(members: &[&str], topics: &[&str]) -> BTreeMap<String, Subscription> {
        members
            .iter()
            .map(|m| {
                let s = Subscription {
                    topics: topics.iter().map(|t| t.to_string()).collect(),
                    ..Default::default()
                };
                (m.to_string(), s)
            })
            .collect()
    }

    #[test]
    fn tasks_group_the_same_partition_of_a_subtopologys_topics() {
        let counts: BTreeMap<String, i32> = [("a", 2), ("b", 3), ("logs-1", 1), ("other", 4)]
            .iter()
            .map(|(t, n)| (t.to_string(), *n))
            .collect();
        let tasks = assignor().tasks(&counts);
        let ids: Vec<String> = tasks.keys().map(|t| t.to_string()).collect();
        assert_eq!(ids, ["0_0", "0_1", "0_2", "1_0"]);
        assert_eq!(
            tasks[&TaskId::new(0, 1)],
            vec![TopicPartition::new("a", 1), TopicPartition::new("b", 1)]
        );
        assert_eq!(tasks[&TaskId::new(0, 2)], vec![TopicPartition::new("b", 2)]);
        assert_eq!(tasks[&TaskId::new(1, 0)], vec![TopicPartition::new("logs-1", 0)]);
    }

    #[test]
    fn whole_tasks_go_to_one_member_and_the_load_is_even() {
        let counts: BTreeMap<String, i32> = [("a", 4), ("b", 4), ("app-x-repartition", 4)]
            .iter()
            .map(|(t, n)| (t.to_string(), *n))
            .collect();
        for n in 1..=5 {
            let members: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
            let refs: Vec<&str> = members.iter().map(String::as_str).collect();
            let result = assignor().assign(&counts, &subs(&refs, &["a", "b", "app-x-repartition"]));
            assert_eq!(result.len(), n);
            let mut seen = BTreeSet::new();
            let mut owner_of_task: BTreeMap<(u32, i32), &str> = BTreeMap::new();
            for (m, a) in &result {
                for tp in &a.partitions {
                    assert!(seen.insert(tp.clone()), "{tp:?} twice");
                    let sub = assignor().subtopology_of(&tp.topic).unwrap();
                    let owner = owner_of_task.entry((sub, tp.partition)).or_insert(m);
                    assert_eq!(
                        *owner,
                        m.as_str(),
                        "task {sub}_{} split across members",
                        tp.partition
                    );
                }
            }
            assert_eq!(seen.len(), 12, "every partition assigned");
            let loads: Vec<usize> = members
                .iter()
                .map(|m| owner_of_task.values().filter(|o| **o == m.as_str()).count())
                .collect();
            let (min, max) = (loads.iter().min().unwrap(), loads.iter().max().unwrap());
            assert!(max - min <= 1, "uneven task load {loads:?}");
        }
    }

    /// A member: its id, its instance, and the task state that instance holds.
    type MemberSpec<'a> = (&'a str, &'a str, &'a [(TaskId, i64)]);

    fn subs_with_info(
        members: &[MemberSpec<'_>],
        topics: &[&str],
    ) -> BTreeMap<String, Subscription> {
        members
            .iter()
            .map(|(m, client, sums)| {
                let info = SubscriptionInfo {
                    process_id: client.to_string(),
                    endpoint: Some(format!("{client}:9090")),
                    task_offset_sums: sums.to_vec(),
                };
                let s = Subscription {
                    topics: topics.iter().map(|t| t.to_string()).collect(),
                    user_data: Some(info.encode()),
                    ..Default::default()
                };
                (m.to_string(), s)
            })
            .collect()
    }

    fn owner(result: &BTreeMap<String, Assignment>, tp: (&str, i32)) -> String {
        result
            .iter()
            .find(|(_, a)| a.partitions.contains(&TopicPartition::new(tp.0, tp.1)))
            .map(|(m, _)| m.clone())
            .unwrap()
    }

    fn info(a: &Assignment) -> AssignmentInfo {
        AssignmentInfo::decode(a.user_data.as_deref().unwrap()).unwrap()
    }

    #[test]
    fn standbys_go_to_another_instance_than_the_active() {
        let counts: BTreeMap<String, i32> = [("a".to_string(), 4)].into_iter().collect();
        let members: &[MemberSpec<'_>] =
            &[("m1", "c1", &[]), ("m2", "c1", &[]), ("m3", "c2", &[]), ("m4", "c2", &[])];
        let result = assignor().with_standbys(1).assign(&counts, &subs_with_info(members, &["a"]));
        let client_of = |m: &str| members.iter().find(|x| x.0 == m).unwrap().1;
        let mut standby_count = 0;
        for p in 0..4 {
            let active = owner(&result, ("a", p));
            let standbys: Vec<&String> = result
                .iter()
                .filter(|(_, a)| info(a).standby.contains(&TaskId::new(0, p)))
                .map(|(m, _)| m)
                .collect();
            assert_eq!(standbys.len(), 1, "task 0_{p} has one standby");
            assert_ne!(client_of(standbys[0]), client_of(&active), "standby on another instance");
            standby_count += 1;
        }
        assert_eq!(standby_count, 4);
        // Every member learns both instances' tasks by endpoint.
        let hosts = info(&result["m1"]).hosts;
        assert_eq!(hosts.len(), 2);
        assert_eq!(hosts.iter().map(|h| h.active.len()).sum::<usize>(), 4);
        assert_eq!(hosts.iter().map(|h| h.standby.len()).sum::<usize>(), 4);
        assert!(hosts.iter().any(|h| h.endpoint == "c2:9090"));
    }

    #[test]
    fn a_single_instance_gets_no_standbys() {
        let counts: BTreeMap<String, i32> = [("a".to_string(), 2)].into_iter().collect();
        let members: &[MemberSpec<'_>] = &[("m1", "c1", &[]), ("m2", "c1", &[])];
        let result = assignor().with_standbys(1).assign(&counts, &subs_with_info(members, &["a"]));
        assert!(result.values().all(|a| info(a).standby.is_empty()));
        assert_eq!(result.values().map(|a| a.partitions.len()).sum::<usize>(), 2);
    }

    #[test]
    fn tasks_go_to_the_instance_with_the_most_caught_up_state() {
        let counts: BTreeMap<String, i32> = [("a".to_string(), 2)].into_iter().collect();
        // c2 holds task 0_0 further along than c1; c1 holds 0_1.
        let members: &[MemberSpec<'_>] = &[
            ("m1", "c1", &[(TaskId::new(0, 0), 10), (TaskId::new(0, 1), 50)]),
            ("m2", "c2", &[(TaskId::new(0, 0), 40)]),
        ];
        let result = assignor().with_standbys(1).assign(&counts, &subs_with_info(members, &["a"]));
        assert_eq!(owner(&result, ("a", 0)), "m2");
        assert_eq!(owner(&result, ("a", 1)), "m1");
        assert_eq!(info(&result["m1"]).standby, vec![TaskId::new(0, 0)]);
        assert_eq!(info(&result["m2"]).standby, vec![TaskId::new(0, 1)]);
    }

    #[test]
    fn stickiness_never_unbalances_the_members() {
        let counts: BTreeMap<String, i32> = [("a".to_string(), 4)].into_iter().collect();
        // One instance holds every task's state; the other is new.
        let all: Vec<(TaskId, i64)> = (0..4).map(|p| (TaskId::new(0, p), 5)).collect();
        let members: &[MemberSpec<'_>] = &[("m1", "c1", &all), ("m2", "c2", &[])];
        let result = assignor().assign(&counts, &subs_with_info(members, &["a"]));
        assert_eq!(result["m1"].partitions.len(), 2);
        assert_eq!(result["m2"].partitions.len(), 2);
    }

    #[test]
    fn task_ids_parse_from_directory_names() {
        assert_eq!(parse_task_id("3_12"), Some(TaskId::new(3, 12)));
        assert_eq!(parse_task_id("x_1"), None);
        assert_eq!(parse_task_id("12"), None);
    }
}
