//! Task placement: the group assignor every stream thread of an application uses.
//!
//! Kafka Streams assigns *tasks*, not partitions: all input partitions of one task must go to one
//! member, or the task would run in two places. This assignor groups the partitions of the
//! subscribed topics into tasks (sub-topology, partition number) and deals whole tasks out to the
//! members. It is a pure function of the subscriptions and partition counts, as the group protocol
//! requires (any member may be the leader).

use std::collections::BTreeMap;

use broker_embedded::{Assignment, Assignor, RebalanceProtocol, Subscription, TopicPartition};

use crate::task::TaskId;

/// Which topics each sub-topology reads.
#[derive(Debug, Clone)]
pub(crate) struct TaskAssignor {
    /// Per sub-topology: its named (resolved) source topics and its source patterns.
    subtopologies: Vec<(Vec<String>, Vec<regex::Regex>)>,
}

impl TaskAssignor {
    pub(crate) fn new(subtopologies: Vec<(Vec<String>, Vec<regex::Regex>)>) -> Self {
        Self { subtopologies }
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

impl Assignor for TaskAssignor {
    fn name(&self) -> &str {
        "stream"
    }

    fn protocol(&self) -> RebalanceProtocol {
        RebalanceProtocol::Eager
    }

    /// Deals tasks out round-robin, ordered by partition then sub-topology, so every member gets
    /// an equal share (±1) of each sub-topology's tasks.
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
        let members: Vec<&String> = subscriptions.keys().collect();
        let mut out: BTreeMap<String, Assignment> =
            members.iter().map(|m| ((*m).clone(), Assignment::default())).collect();
        if members.is_empty() {
            return out;
        }
        for (i, (_, partitions)) in tasks.into_iter().enumerate() {
            let member = members[i % members.len()];
            if let Some(a) = out.get_mut(member) {
                a.partitions.extend(partitions);
            }
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
}
