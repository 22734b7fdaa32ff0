//! How many partitions each internal (repartition) topic gets.

use std::collections::BTreeMap;

use crate::topology::groups::SubTopology;
use crate::topology::{NodeKind, Topology};

/// The partition count of every internal topic: the count it was declared with, else the largest
/// count among the source topics of the sub-topologies that write to it (Kafka's
/// `RepartitionTopics::computePartitionCount`); internal sources count with their own computed
/// count, so chains of repartitions resolve in turn. `external` gives a user topic's count.
pub(crate) fn internal_topic_partitions(
    topology: &Topology,
    subs: &[SubTopology],
    external: &dyn Fn(&str) -> Option<i32>,
) -> Result<BTreeMap<String, i32>, String> {
    let mut known: BTreeMap<String, i32> = topology
        .internal_topics
        .iter()
        .filter_map(|t| t.partitions.map(|p| (t.name.clone(), p)))
        .collect();
    let mut writers: BTreeMap<&str, Vec<&SubTopology>> = BTreeMap::new();
    for sub in subs {
        for &i in &sub.nodes {
            if let NodeKind::Sink { topic: Some(t), .. } = &topology.nodes[i].kind {
                if t.internal {
                    writers.entry(t.name.as_str()).or_default().push(sub);
                }
            }
        }
    }
    loop {
        let mut progressed = false;
        for t in &topology.internal_topics {
            if known.contains_key(&t.name) {
                continue;
            }
            let mut max: Option<i32> = None;
            let mut complete = true;
            for sub in writers.get(t.name.as_str()).into_iter().flatten() {
                for src in &sub.source_topics {
                    let count = if src.internal {
                        known.get(&src.name).copied()
                    } else {
                        external(&src.name)
                    };
                    match count {
                        Some(c) => max = Some(max.map_or(c, |m| m.max(c))),
                        None => complete = false,
                    }
                }
            }
            if let (true, Some(m)) = (complete, max) {
                known.insert(t.name.clone(), m);
                progressed = true;
            }
        }
        if topology.internal_topics.iter().all(|t| known.contains_key(&t.name)) {
            return Ok(known);
        }
        if !progressed {
            let missing: Vec<&str> = topology
                .internal_topics
                .iter()
                .filter(|t| !known.contains_key(&t.name))
                .map(|t| t.name.as_str())
                .collect();
            return Err(format!(
                "cannot tell how many partitions internal topics {missing:?} need: a source topic \
                 of the sub-topology writing them does not exist"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::groups::sub_topologies;
    use crate::topology::{Sink, Source};
    use crate::{ProcessError, Processor, ProcessorContext, Record};

    struct Pass;
    impl Processor<String, String> for Pass {
        fn process(
            &mut self,
            ctx: &mut ProcessorContext<String, String>,
            r: Record<String, String>,
        ) -> Result<(), ProcessError> {
            ctx.forward(r);
            Ok(())
        }
    }

    /// a, b → r1 (internal) → r2 (internal, declared 7) ; c → r3
    fn topology() -> Topology {
        let mut t = Topology::new();
        t.add_internal_topic("r1", None)
            .add_internal_topic("r2", Some(7))
            .add_internal_topic("r3", None);
        t.add_source::<String, String>("a", &["a", "b"]).unwrap();
        t.add_sink_with("to-r1", Sink::<String, String>::internal_topic("r1"), &["a"]).unwrap();
        t.add_source_with("from-r1", Source::<String, String>::internal_topic("r1")).unwrap();
        t.add_processor("p", || Pass, &["from-r1"]).unwrap();
        t.add_sink_with("to-r2", Sink::<String, String>::internal_topic("r2"), &["p"]).unwrap();
        t.add_source_with("from-r2", Source::<String, String>::internal_topic("r2")).unwrap();
        t.add_sink_with("to-r3", Sink::<String, String>::internal_topic("r3"), &["from-r2"])
            .unwrap();
        t
    }

    #[test]
    fn repartition_topics_take_the_largest_upstream_count_and_declared_counts_win() {
        let t = topology();
        let subs = sub_topologies(&t.nodes);
        let counts = internal_topic_partitions(&t, &subs, &|name| match name {
            "a" => Some(3),
            "b" => Some(5),
            _ => None,
        })
        .unwrap();
        assert_eq!(counts["r1"], 5);
        assert_eq!(counts["r2"], 7);
        assert_eq!(counts["r3"], 7, "chained through r2's declared count");
    }

    #[test]
    fn a_missing_source_topic_is_an_error_naming_the_topics() {
        let t = topology();
        let subs = sub_topologies(&t.nodes);
        let err = internal_topic_partitions(&t, &subs, &|_| None).unwrap_err();
        assert!(err.contains("r1") && !err.contains("r2"), "{err}");
    }
}
