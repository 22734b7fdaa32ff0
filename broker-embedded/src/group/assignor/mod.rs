//! Partition assignors. As in Kafka's protocol, the group leader computes the assignment on the
//! client side from every member's [`Subscription`]; the coordinator only relays the bytes. An
//! assignor is a pure, deterministic function, so any member computes the same answer.

mod cooperative_sticky;
mod range;

use std::collections::BTreeMap;

pub use cooperative_sticky::CooperativeStickyAssignor;
pub use range::RangeAssignor;

use super::consumer_protocol::{Assignment, Subscription};

/// How members hand partitions over during a rebalance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RebalanceProtocol {
    /// Every member revokes all its partitions before rejoining (stop the world).
    Eager,
    /// Members keep their partitions while rejoining and revoke only those the new assignment
    /// takes away, then rejoin so those can be handed to their new owners.
    Cooperative,
}

/// Computes which member consumes which partition.
pub trait Assignor: Send + Sync {
    /// The protocol name members advertise in JoinGroup (`range`, `cooperative-sticky`).
    fn name(&self) -> &str;

    /// The rebalance protocol the assignor's output relies on.
    fn protocol(&self) -> RebalanceProtocol;

    /// Assigns the partitions of the subscribed topics (`partitions_per_topic`: topic → partition
    /// count; topics missing from it are ignored) to the members (`subscriptions`: member id →
    /// subscription). Returns an entry for every member, possibly empty.
    fn assign(
        &self,
        partitions_per_topic: &BTreeMap<String, i32>,
        subscriptions: &BTreeMap<String, Subscription>,
    ) -> BTreeMap<String, Assignment>;

    /// What this member puts in its subscription's `user_data` for this assignor (Kafka's
    /// `ConsumerPartitionAssignor.subscriptionUserData`), asked before every join. Default: none.
    fn subscription_user_data(&self, _topics: &[String]) -> Option<bytes::Bytes> {
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::group::consumer_protocol::TopicPartition;

    pub(crate) fn subs(members: &[(&str, &[&str])]) -> BTreeMap<String, Subscription> {
        members
            .iter()
            .map(|(m, topics)| {
                let topics = topics.iter().map(|t| t.to_string()).collect();
                (m.to_string(), Subscription { topics, ..Subscription::default() })
            })
            .collect()
    }

    pub(crate) fn counts(topics: &[(&str, i32)]) -> BTreeMap<String, i32> {
        topics.iter().map(|(t, n)| (t.to_string(), *n)).collect()
    }

    /// Checks that no partition is assigned twice, only to subscribers, and that the partitions
    /// exist; returns the set of assigned partitions.
    pub(crate) fn check_exclusive(
        partitions_per_topic: &BTreeMap<String, i32>,
        subscriptions: &BTreeMap<String, Subscription>,
        result: &BTreeMap<String, Assignment>,
    ) -> BTreeSet<TopicPartition> {
        assert_eq!(result.keys().collect::<Vec<_>>(), subscriptions.keys().collect::<Vec<_>>());
        let mut seen = BTreeSet::new();
        for (member, a) in result {
            for tp in &a.partitions {
                assert!(seen.insert(tp.clone()), "{tp:?} assigned twice");
                assert!(
                    subscriptions[member].topics.contains(&tp.topic),
                    "{member} not subscribed to {tp:?}"
                );
                assert!((0..partitions_per_topic[&tp.topic]).contains(&tp.partition));
            }
        }
        seen
    }

    /// Every partition of every subscribed topic.
    pub(crate) fn all_subscribed(
        partitions_per_topic: &BTreeMap<String, i32>,
        subscriptions: &BTreeMap<String, Subscription>,
    ) -> BTreeSet<TopicPartition> {
        subscriptions
            .values()
            .flat_map(|s| s.topics.iter())
            .filter_map(|t| partitions_per_topic.get(t).map(|n| (t, *n)))
            .flat_map(|(t, n)| (0..n).map(move |p| TopicPartition::new(t.clone(), p)))
            .collect()
    }
}
