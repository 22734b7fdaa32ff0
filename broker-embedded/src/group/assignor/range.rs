//! Kafka's range assignor: for each topic, the subscribed members sorted by member id receive
//! contiguous ranges of partitions; the first `partitions % members` members get one extra.
//! Members with the same subscriptions therefore get the same partition numbers of every topic,
//! which keeps co-partitioned topics together.

use std::collections::BTreeMap;

use super::{Assignor, RebalanceProtocol};
use crate::group::consumer_protocol::{Assignment, Subscription, TopicPartition};

/// Kafka's `range` assignor (eager protocol).
#[derive(Debug, Clone, Copy, Default)]
pub struct RangeAssignor;

impl Assignor for RangeAssignor {
    fn name(&self) -> &str {
        "range"
    }

    fn protocol(&self) -> RebalanceProtocol {
        RebalanceProtocol::Eager
    }

    fn assign(
        &self,
        partitions_per_topic: &BTreeMap<String, i32>,
        subscriptions: &BTreeMap<String, Subscription>,
    ) -> BTreeMap<String, Assignment> {
        let mut result: BTreeMap<String, Assignment> =
            subscriptions.keys().map(|m| (m.clone(), Assignment::default())).collect();
        for (topic, &count) in partitions_per_topic {
            // BTreeMap order: members sorted by id.
            let members: Vec<&String> = subscriptions
                .iter()
                .filter(|(_, s)| s.topics.contains(topic))
                .map(|(m, _)| m)
                .collect();
            if members.is_empty() || count <= 0 {
                continue;
            }
            let n = i32::try_from(members.len()).unwrap_or(i32::MAX);
            let (per_member, extra) = (count / n, count % n);
            for (i, member) in (0..).zip(members) {
                let start = per_member * i + i.min(extra);
                let len = per_member + i32::from(i < extra);
                if let Some(a) = result.get_mut(member) {
                    a.partitions.extend(
                        (start..start + len).map(|p| TopicPartition::new(topic.clone(), p)),
                    );
                }
            }
        }
        result
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::{all_subscribed, check_exclusive, counts, subs};
    use super::*;
    use proptest::prelude::*;

    fn partitions(a: &Assignment) -> Vec<(String, i32)> {
        a.partitions.iter().map(|tp| (tp.topic.clone(), tp.partition)).collect()
    }

    #[test]
    fn kafka_example_two_members_two_topics_three_partitions() {
        // Kafka's documented example: C0 gets t0p0, t0p1, t1p0, t1p1; C1 gets t0p2, t1p2.
        let subscriptions = subs(&[("c0", &["t0", "t1"]), ("c1", &["t0", "t1"])]);
        let r = RangeAssignor.assign(&counts(&[("t0", 3), ("t1", 3)]), &subscriptions);
        let p = |v: &[(&str, i32)]| v.iter().map(|(t, p)| (t.to_string(), *p)).collect::<Vec<_>>();
        assert_eq!(partitions(&r["c0"]), p(&[("t0", 0), ("t0", 1), ("t1", 0), ("t1", 1)]));
        assert_eq!(partitions(&r["c1"]), p(&[("t0", 2), ("t1", 2)]));
    }

    #[test]
    fn unsubscribed_members_and_unknown_topics_get_nothing() {
        let subscriptions = subs(&[("a", &["t"]), ("b", &["u"]), ("c", &["missing"])]);
        let r = RangeAssignor.assign(&counts(&[("t", 2), ("u", 1)]), &subscriptions);
        assert_eq!(r["a"].partitions.len(), 2);
        assert_eq!(r["b"].partitions.len(), 1);
        assert!(r["c"].partitions.is_empty());
        assert_eq!(
            (RangeAssignor.name(), RangeAssignor.protocol()),
            ("range", RebalanceProtocol::Eager)
        );
    }

    proptest! {
        #[test]
        fn every_partition_once_and_balanced_for_equal_subscriptions(
            members in 1usize..8,
            topics in proptest::collection::vec(0i32..20, 1..4),
        ) {
            let names: Vec<String> = (0..members).map(|i| format!("m{i}")).collect();
            let topic_names: Vec<String> = (0..topics.len()).map(|i| format!("t{i}")).collect();
            let topic_refs: Vec<&str> = topic_names.iter().map(String::as_str).collect();
            let list: Vec<(&str, &[&str])> = names.iter().map(|m| (m.as_str(), &topic_refs[..])).collect();
            let subscriptions = subs(&list);
            let per_topic: BTreeMap<String, i32> = topic_names.iter().cloned().zip(topics.iter().copied()).collect();
            let r = RangeAssignor.assign(&per_topic, &subscriptions);
            let assigned = check_exclusive(&per_topic, &subscriptions, &r);
            prop_assert_eq!(assigned, all_subscribed(&per_topic, &subscriptions));
            // Per topic, counts differ by at most one.
            for t in &topic_names {
                let n: Vec<usize> = r.values().map(|a| a.partitions.iter().filter(|tp| &tp.topic == t).count()).collect();
                prop_assert!(n.iter().max().unwrap() - n.iter().min().unwrap() <= 1);
            }
        }
    }
}
