//! Cooperative sticky assignment: balanced, moving as few partitions as balance requires, and
//! safe under the cooperative protocol.
//!
//! 1. Each member keeps the partitions it owns (its subscription's `owned_partitions`) if they
//!    still exist and it is still subscribed; when two members claim one partition, the claim of
//!    the higher generation wins (then the smaller member id).
//! 2. Unowned partitions go one by one to the least-loaded subscribed member (ties: smallest id).
//! 3. While some member has at least two partitions more than another member that could take one
//!    of them, one partition moves from the most loaded (newly placed partitions first).
//! 4. A partition whose owner changes to another current member is left out of this round:
//!    the old owner sees it missing, revokes it and rejoins, and the follow-up rebalance assigns
//!    it. No partition is ever owned by two members at once.
//!
//! With equal subscriptions the result is balanced within one partition, and a member loses an
//! owned partition only while it holds more than its share.

use std::collections::{BTreeMap, BTreeSet};

use super::{Assignor, RebalanceProtocol};
use crate::group::consumer_protocol::{Assignment, Subscription, TopicPartition};

/// Kafka's `cooperative-sticky` assignor (cooperative protocol).
#[derive(Debug, Clone, Copy, Default)]
pub struct CooperativeStickyAssignor;

impl Assignor for CooperativeStickyAssignor {
    fn name(&self) -> &str {
        "cooperative-sticky"
    }

    fn protocol(&self) -> RebalanceProtocol {
        RebalanceProtocol::Cooperative
    }

    fn assign(
        &self,
        partitions_per_topic: &BTreeMap<String, i32>,
        subscriptions: &BTreeMap<String, Subscription>,
    ) -> BTreeMap<String, Assignment> {
        let subscribed = |member: &str, tp: &TopicPartition| {
            subscriptions.get(member).is_some_and(|s| s.topics.contains(&tp.topic))
        };
        let all: BTreeSet<TopicPartition> = subscriptions
            .values()
            .flat_map(|s| &s.topics)
            .filter_map(|t| Some((t, *partitions_per_topic.get(t)?)))
            .flat_map(|(t, n)| (0..n).map(move |p| TopicPartition::new(t.clone(), p)))
            .collect();

        // 1. Current owners, and what each member keeps.
        let mut prior: BTreeMap<&TopicPartition, (i32, &str)> = BTreeMap::new();
        for (member, s) in subscriptions {
            for tp in &s.owned_partitions {
                if prior.get(tp).is_none_or(|(generation, _)| s.generation_id > *generation) {
                    prior.insert(tp, (s.generation_id, member));
                }
            }
        }
        let mut owned: BTreeMap<&str, BTreeSet<TopicPartition>> =
            subscriptions.keys().map(|m| (m.as_str(), BTreeSet::new())).collect();
        let mut placed: BTreeSet<&TopicPartition> = BTreeSet::new();
        for (&tp, &(_, member)) in &prior {
            let keep = all.contains(tp) && subscribed(member, tp);
            if let Some(set) = owned.get_mut(member).filter(|_| keep) {
                set.insert(tp.clone());
                placed.insert(tp);
            }
        }

        // 2. Unowned partitions to the least loaded.
        for tp in all.iter().filter(|tp| !placed.contains(tp)) {
            let target = owned
                .iter()
                .filter(|(m, _)| subscribed(m, tp))
                .min_by_key(|(m, set)| (set.len(), **m))
                .map(|(m, _)| *m);
            if let Some(set) = target.and_then(|m| owned.get_mut(m)) {
                set.insert(tp.clone());
            }
        }

        // 3. Balance.
        while let Some((from, to, tp)) = next_move(&owned, &prior, subscribed) {
            if let Some(set) = owned.get_mut(from) {
                set.remove(&tp);
            }
            if let Some(set) = owned.get_mut(to) {
                set.insert(tp);
            }
        }

        // 4. Withhold partitions another current member still owns.
        owned
            .into_iter()
            .map(|(member, set)| {
                let partitions = set
                    .into_iter()
                    .filter(|tp| {
                        prior.get(tp).is_none_or(|(_, owner)| {
                            *owner == member || !subscriptions.contains_key(*owner)
                        })
                    })
                    .collect();
                (member.to_owned(), Assignment { partitions, user_data: None })
            })
            .collect()
    }
}

/// The next balancing move: from the most loaded member that can give a partition to a member
/// holding at least two fewer, preferring partitions it did not own before the rebalance; the
/// receiver is the least loaded (then smallest id). `None` when balanced.
fn next_move<'a>(
    owned: &BTreeMap<&'a str, BTreeSet<TopicPartition>>,
    prior: &BTreeMap<&TopicPartition, (i32, &str)>,
    subscribed: impl Fn(&str, &TopicPartition) -> bool,
) -> Option<(&'a str, &'a str, TopicPartition)> {
    let mut by_load: Vec<(&str, &BTreeSet<TopicPartition>)> =
        owned.iter().map(|(m, s)| (*m, s)).collect();
    by_load.sort_by_key(|(m, s)| (std::cmp::Reverse(s.len()), *m));
    for &(from, set) in &by_load {
        let was_owned = |tp: &TopicPartition| prior.get(tp).is_some_and(|(_, o)| *o == from);
        let candidates =
            set.iter().filter(|tp| !was_owned(tp)).chain(set.iter().filter(|tp| was_owned(tp)));
        for tp in candidates {
            let to = by_load
                .iter()
                .filter(|(m, s)| *m != from && s.len() + 2 <= set.len() && subscribed(m, tp))
                .min_by_key(|(m, s)| (s.len(), *m));
            if let Some(&(to, _)) = to {
                return Some((from, to, tp.clone()));
            }
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::{all_subscribed, check_exclusive, counts, subs};
    use super::*;
    use proptest::prelude::*;

    /// Feeds an assignment back as the members' owned partitions (what they report on rejoin).
    fn rejoin(
        subscriptions: &BTreeMap<String, Subscription>,
        result: &BTreeMap<String, Assignment>,
        generation: i32,
    ) -> BTreeMap<String, Subscription> {
        subscriptions
            .iter()
            .map(|(m, s)| {
                let owned = result.get(m).map(|a| a.partitions.clone()).unwrap_or_default();
                (
                    m.clone(),
                    Subscription {
                        owned_partitions: owned,
                        generation_id: generation,
                        ..s.clone()
                    },
                )
            })
            .collect()
    }

    fn loads(r: &BTreeMap<String, Assignment>) -> Vec<usize> {
        r.values().map(|a| a.partitions.len()).collect()
    }

    #[test]
    fn a_new_member_gets_partitions_only_after_the_owners_revoke() {
        let per_topic = counts(&[("t", 6)]);
        let two = subs(&[("a", &["t"]), ("b", &["t"])]);
        let r1 = CooperativeStickyAssignor.assign(&per_topic, &two);
        assert_eq!(loads(&r1), [3, 3]);

        // c joins: a and b keep what they may keep; the moving partitions are withheld.
        let mut three = rejoin(&two, &r1, 1);
        three.insert(
            "c".into(),
            Subscription { topics: vec!["t".into()], ..Subscription::default() },
        );
        let r2 = CooperativeStickyAssignor.assign(&per_topic, &three);
        assert_eq!(loads(&r2), [2, 2, 0]);
        check_exclusive(&per_topic, &three, &r2);
        for m in ["a", "b"] {
            assert!(
                r2[m].partitions.iter().all(|tp| r1[m].partitions.contains(tp)),
                "{m} only keeps"
            );
        }

        // Follow-up round after a and b revoked: c gets the two freed partitions, nobody moves.
        let r3 = CooperativeStickyAssignor.assign(&per_topic, &rejoin(&three, &r2, 2));
        assert_eq!(loads(&r3), [2, 2, 2]);
        assert_eq!(check_exclusive(&per_topic, &three, &r3), all_subscribed(&per_topic, &three));
        for m in ["a", "b"] {
            assert_eq!(r3[m].partitions, r2[m].partitions);
        }
    }

    #[test]
    fn a_leaving_members_partitions_are_given_at_once() {
        let per_topic = counts(&[("t", 6)]);
        let three = subs(&[("a", &["t"]), ("b", &["t"]), ("c", &["t"])]);
        let r1 = CooperativeStickyAssignor.assign(&per_topic, &three);
        let mut two = rejoin(&three, &r1, 1);
        two.remove("c");
        let r2 = CooperativeStickyAssignor.assign(&per_topic, &two);
        assert_eq!(loads(&r2), [3, 3]);
        for m in ["a", "b"] {
            assert!(r1[m].partitions.iter().all(|tp| r2[m].partitions.contains(tp)));
        }
        assert_eq!(
            (CooperativeStickyAssignor.name(), CooperativeStickyAssignor.protocol()),
            ("cooperative-sticky", RebalanceProtocol::Cooperative)
        );
    }

    #[test]
    fn conflicting_claims_go_to_the_newer_generation() {
        let per_topic = counts(&[("t", 1)]);
        let mut s = subs(&[("a", &["t"]), ("b", &["t"])]);
        let tp = TopicPartition::new("t", 0);
        for (m, generation) in [("a", 3), ("b", 4)] {
            let sub = s.get_mut(m).unwrap();
            sub.owned_partitions = vec![tp.clone()];
            sub.generation_id = generation;
        }
        let r = CooperativeStickyAssignor.assign(&per_topic, &s);
        assert_eq!(r["b"].partitions, vec![tp]);
        assert!(r["a"].partitions.is_empty());
    }

    #[test]
    fn unsubscribing_releases_partitions_only_after_revocation() {
        let per_topic = counts(&[("t", 2), ("u", 2)]);
        let both = subs(&[("a", &["t", "u"]), ("b", &["t", "u"])]);
        let r1 = CooperativeStickyAssignor.assign(&per_topic, &both);
        // a drops topic u: its u partitions must be revoked before b gets them.
        let mut next = rejoin(&both, &r1, 1);
        next.get_mut("a").unwrap().topics = vec!["t".into()];
        let r2 = CooperativeStickyAssignor.assign(&per_topic, &next);
        let a_had_u: Vec<_> = r1["a"].partitions.iter().filter(|tp| tp.topic == "u").collect();
        assert!(!a_had_u.is_empty());
        for tp in a_had_u {
            assert!(!r2["b"].partitions.contains(tp));
            assert!(!r2["a"].partitions.contains(tp));
        }
    }

    /// Runs rebalances, members reporting the previous round's assignment as owned, until no
    /// partition is withheld. Returns the rounds' results.
    fn converge(
        per_topic: &BTreeMap<String, i32>,
        mut subscriptions: BTreeMap<String, Subscription>,
        rounds: usize,
    ) -> Vec<(BTreeMap<String, Subscription>, BTreeMap<String, Assignment>)> {
        let mut out = Vec::new();
        for generation in 1..=i32::try_from(rounds).unwrap() {
            let result = CooperativeStickyAssignor.assign(per_topic, &subscriptions);
            check_exclusive(per_topic, &subscriptions, &result);
            // Cooperative safety: nothing is given to a member while another member owns it.
            for (m, a) in &result {
                for tp in &a.partitions {
                    for (other, s) in &subscriptions {
                        assert!(
                            other == m || !s.owned_partitions.contains(tp),
                            "{tp:?} still owned by {other}"
                        );
                    }
                }
            }
            let done = check_exclusive(per_topic, &subscriptions, &result)
                == all_subscribed(per_topic, &subscriptions);
            out.push((subscriptions.clone(), result.clone()));
            if done {
                return out;
            }
            subscriptions = rejoin(&subscriptions, &result, generation);
        }
        panic!("no full assignment after {rounds} rounds: {out:?}");
    }

    fn members_and_topics() -> impl Strategy<Value = (Vec<Vec<bool>>, Vec<i32>)> {
        (1usize..6, 1usize..4).prop_flat_map(|(m, t)| {
            (
                proptest::collection::vec(proptest::collection::vec(any::<bool>(), t), m),
                proptest::collection::vec(0i32..12, t),
            )
        })
    }

    fn build(
        topics_of: &[Vec<bool>],
        counts_: &[i32],
    ) -> (BTreeMap<String, i32>, BTreeMap<String, Subscription>) {
        let per_topic = counts_.iter().enumerate().map(|(i, n)| (format!("t{i}"), *n)).collect();
        let s = topics_of
            .iter()
            .enumerate()
            .map(|(i, mask)| {
                let topics = mask
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b)
                    .map(|(j, _)| format!("t{j}"))
                    .collect();
                (format!("m{i}"), Subscription { topics, ..Subscription::default() })
            })
            .collect();
        (per_topic, s)
    }

    proptest! {
        #[test]
        fn balanced_complete_and_sticky_for_equal_subscriptions(
            members in 1usize..7, extra in 0usize..3, partitions in 0i32..25, seed_owner in any::<u64>(),
        ) {
            let per_topic = counts(&[("t", partitions)]);
            let names: Vec<String> = (0..members).map(|i| format!("m{i:02}")).collect();
            // Start from an arbitrary (possibly unbalanced) ownership among the first members.
            let mut s: BTreeMap<String, Subscription> = names
                .iter()
                .map(|m| (m.clone(), Subscription { topics: vec!["t".into()], generation_id: 1, ..Subscription::default() }))
                .collect();
            for p in 0..partitions {
                let owner = &names[(seed_owner.rotate_left(u32::try_from(p).unwrap()) as usize) % members];
                s.get_mut(owner).unwrap().owned_partitions.push(TopicPartition::new("t", p));
            }
            // Some members join with nothing.
            for i in 0..extra {
                s.insert(format!("new{i}"), Subscription { topics: vec!["t".into()], ..Subscription::default() });
            }
            let total = s.len();
            let floor = usize::try_from(partitions).unwrap() / total;
            let rounds = converge(&per_topic, s.clone(), 2);
            let first = &rounds[0].1;
            for (m, sub) in &s {
                // A member keeps at least min(owned, fair share) of what it owned.
                let kept = first[m].partitions.iter().filter(|tp| sub.owned_partitions.contains(tp)).count();
                prop_assert!(kept >= sub.owned_partitions.len().min(floor));
            }
            let last = &rounds.last().unwrap().1;
            let l = loads(last);
            prop_assert!(l.iter().max().unwrap() - l.iter().min().unwrap() <= 1);
            // Stable once converged: assigning again changes nothing.
            let again = CooperativeStickyAssignor.assign(&per_topic, &rejoin(&rounds.last().unwrap().0, last, 9));
            prop_assert_eq!(&again, last);
        }

        #[test]
        fn any_subscriptions_converge_to_a_full_exclusive_assignment((mask, n) in members_and_topics()) {
            let (per_topic, s) = build(&mask, &n);
            let first = converge(&per_topic, s, 4);
            // Then a member leaves and one joins, from the converged state.
            let (subs_, result) = first.last().unwrap().clone();
            let mut next = rejoin(&subs_, &result, 10);
            let leaving = next.keys().next().unwrap().clone();
            next.remove(&leaving);
            next.insert("zz".into(), Subscription { topics: vec!["t0".into()], ..Subscription::default() });
            converge(&per_topic, next, 4);
        }
    }
}
