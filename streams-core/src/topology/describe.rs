//! `Topology::describe()`: the text Kafka Streams prints for a topology, character for character.

use std::fmt;

use crate::topology::groups::sub_topologies;
use crate::topology::{NodeKind, Topology, java_order};

/// A node as described: its kind, name, what it reads or writes, and its neighbours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeDescription {
    /// The node's name.
    pub name: String,
    /// What kind of node, with its topics or stores.
    pub kind: NodeDescriptionKind,
    /// Children, in the order Kafka prints them.
    pub successors: Vec<String>,
    /// Parents, in the order Kafka prints them.
    pub predecessors: Vec<String>,
}

/// The kind of a described node.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeDescriptionKind {
    /// Reads topics (or the topics matching a pattern).
    Source {
        /// Named topics.
        topics: Vec<String>,
        /// The pattern, for pattern sources.
        pattern: Option<String>,
    },
    /// Runs a processor with these stores.
    Processor {
        /// Store names.
        stores: Vec<String>,
    },
    /// Writes to a topic, or to a topic chosen per record (`None`).
    Sink {
        /// The topic.
        topic: Option<String>,
        /// The extractor's name, for topics chosen per record.
        extractor: Option<String>,
    },
}

/// One sub-topology as described.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubTopologyDescription {
    /// Its number.
    pub id: u32,
    /// Its nodes, in Kafka's order.
    pub nodes: Vec<NodeDescription>,
    /// A global store's sub-topology (no task runs it): its source and the processor writing
    /// the store.
    pub global: bool,
}

/// A topology's description (Kafka's `TopologyDescription`); `Display` prints Kafka's text, and
/// [`TopologyDescription::to_mermaid`] / [`TopologyDescription::to_dot`] draw the same graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologyDescription {
    /// The sub-topologies, by number.
    pub subtopologies: Vec<SubTopologyDescription>,
}

pub(crate) fn describe(topology: &Topology) -> TopologyDescription {
    let nodes = &topology.nodes;
    let subtopologies = sub_topologies(nodes)
        .into_iter()
        .map(|g| {
            // The sub-topology as Kafka's describe loop sees it: nodes in the order they were
            // added, parents in the order they were given.
            let local: Vec<(&str, Vec<usize>)> = g
                .nodes
                .iter()
                .map(|&i| {
                    let parents = nodes[i]
                        .parents
                        .iter()
                        .filter_map(|p| g.nodes.iter().position(|n| n == p))
                        .collect();
                    (&*nodes[i].name, parents)
                })
                .collect();
            let sizes = java_order::subtree_sizes(&local);
            let arrows = java_order::arrow_orders(&local);
            let name_of = |list: &[usize]| -> Vec<String> {
                list.iter().map(|&l| local[l].0.to_string()).collect()
            };
            let mut described: Vec<(usize, NodeDescription)> = g
                .nodes
                .iter()
                .enumerate()
                .map(|(l, &i)| {
                    let n = &nodes[i];
                    let kind = match &n.kind {
                        NodeKind::Source { topics, pattern, .. } => NodeDescriptionKind::Source {
                            topics: java_set(topics.iter().map(|t| t.name.as_str())),
                            pattern: pattern.as_ref().map(|p| strip_anchors(p.as_str())),
                        },
                        NodeKind::Processor { stores } => NodeDescriptionKind::Processor {
                            stores: java_set(stores.iter().map(String::as_str)),
                        },
                        NodeKind::Sink { topic, extractor } => NodeDescriptionKind::Sink {
                            topic: topic.as_ref().map(|t| t.name.clone()),
                            extractor: extractor.clone(),
                        },
                    };
                    let (succ, pred) = &arrows[l];
                    let d = NodeDescription {
                        name: n.name.to_string(),
                        kind,
                        successors: name_of(succ),
                        predecessors: name_of(pred),
                    };
                    (sizes[l], d)
                })
                .collect();
            // Kafka's `NodeComparator` on final sizes: larger sub-tree first, then by name.
            described.sort_by(|(sa, a), (sb, b)| {
                sb.cmp(sa).then_with(|| java_order::java_compare(&a.name, &b.name))
            });
            SubTopologyDescription {
                id: g.id,
                nodes: described.into_iter().map(|(_, d)| d).collect(),
                global: g.global,
            }
        })
        .collect();
    TopologyDescription { subtopologies }
}

/// A list printed as Kafka prints `new HashSet<>(list)`: in Java's hash-set iteration order.
fn java_set<'a>(items: impl Iterator<Item = &'a str>) -> Vec<String> {
    let items: Vec<&str> = items.collect();
    java_order::hash_set_copy_order(&items).into_iter().map(|i| items[i].to_string()).collect()
}

/// The user's pattern, without the anchors added to match whole names.
fn strip_anchors(p: &str) -> String {
    p.strip_prefix("^(?:").and_then(|p| p.strip_suffix(")$")).unwrap_or(p).to_string()
}

fn names(list: &[String]) -> String {
    if list.is_empty() { "none".to_string() } else { list.join(", ") }
}

impl fmt::Display for NodeDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            NodeDescriptionKind::Source { topics, pattern } => {
                match pattern {
                    Some(p) => write!(f, "Source: {} (topics: {p})", self.name)?,
                    None => write!(f, "Source: {} (topics: [{}])", self.name, topics.join(", "))?,
                }
                write!(f, "\n      --> {}", names(&self.successors))
            }
            NodeDescriptionKind::Processor { stores } => write!(
                f,
                "Processor: {} (stores: [{}])\n      --> {}\n      <-- {}",
                self.name,
                stores.join(", "),
                names(&self.successors),
                names(&self.predecessors)
            ),
            NodeDescriptionKind::Sink { topic, extractor } => {
                match topic {
                    Some(t) => write!(f, "Sink: {} (topic: {t})", self.name)?,
                    None => write!(
                        f,
                        "Sink: {} (extractor class: {})",
                        self.name,
                        extractor.as_deref().unwrap_or("topic chosen per record")
                    )?,
                }
                write!(f, "\n      <-- {}", names(&self.predecessors))
            }
        }
    }
}

impl fmt::Display for SubTopologyDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.global {
            // Kafka's `GlobalStore.toString`: no blank line after it.
            writeln!(f, "Sub-topology: {} for global store (will not generate tasks)", self.id)?;
            for n in &self.nodes {
                writeln!(f, "    {n}")?;
            }
            return Ok(());
        }
        writeln!(f, "Sub-topology: {}", self.id)?;
        for n in &self.nodes {
            writeln!(f, "    {n}")?;
        }
        writeln!(f)
    }
}

impl fmt::Display for TopologyDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Topologies:\n ")?;
        for s in &self.subtopologies {
            write!(f, "  {s}")?;
        }
        Ok(())
    }
}
