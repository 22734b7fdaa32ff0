//! `Topology::describe()`: the text Kafka Streams prints for a topology, character for character.

use std::cmp::Ordering;
use std::fmt;

use crate::topology::groups::sub_topologies;
use crate::topology::{NodeKind, Topology};

/// A node as described: its kind, name, what it reads or writes, and its neighbours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeDescription {
    /// The node's name.
    pub name: String,
    /// What kind of node, with its topics or stores.
    pub kind: NodeDescriptionKind,
    /// Children, in Kafka's order (larger sub-tree first, then by name).
    pub successors: Vec<String>,
    /// Parents, in the same order.
    pub predecessors: Vec<String>,
    size: usize,
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
}

/// A topology's description (Kafka's `TopologyDescription`); `Display` prints Kafka's text, and
/// [`TopologyDescription::to_mermaid`] / [`TopologyDescription::to_dot`] draw the same graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologyDescription {
    /// The sub-topologies, by number.
    pub subtopologies: Vec<SubTopologyDescription>,
}

/// Kafka's `NodeComparator`: the node with the larger sub-tree first, then by name.
fn kafka_order(a: &NodeDescription, b: &NodeDescription) -> Ordering {
    b.size.cmp(&a.size).then_with(|| a.name.cmp(&b.name))
}

pub(crate) fn describe(topology: &Topology) -> TopologyDescription {
    let nodes = &topology.nodes;
    // Sub-tree sizes: a node counts itself and every node below it, once per path.
    let mut size = vec![0usize; nodes.len()];
    for i in (0..nodes.len()).rev() {
        size[i] = 1 + nodes[i].children.iter().map(|&c| size[c]).sum::<usize>();
    }
    let order_names = |list: &[usize]| -> Vec<String> {
        let mut v: Vec<usize> = list.to_vec();
        v.sort_by(|&a, &b| size[b].cmp(&size[a]).then_with(|| nodes[a].name.cmp(&nodes[b].name)));
        v.into_iter().map(|i| nodes[i].name.to_string()).collect()
    };
    let subtopologies = sub_topologies(nodes)
        .into_iter()
        .map(|g| {
            let mut described: Vec<NodeDescription> = g
                .nodes
                .iter()
                .map(|&i| {
                    let n = &nodes[i];
                    let kind = match &n.kind {
                        NodeKind::Source { topics, pattern, .. } => NodeDescriptionKind::Source {
                            topics: topics.iter().map(|t| t.name.clone()).collect(),
                            pattern: pattern.as_ref().map(|p| strip_anchors(p.as_str())),
                        },
                        NodeKind::Processor { stores } => {
                            NodeDescriptionKind::Processor { stores: stores.clone() }
                        }
                        NodeKind::Sink { topic, extractor } => NodeDescriptionKind::Sink {
                            topic: topic.as_ref().map(|t| t.name.clone()),
                            extractor: extractor.clone(),
                        },
                    };
                    NodeDescription {
                        name: n.name.to_string(),
                        kind,
                        successors: order_names(&n.children),
                        predecessors: order_names(&n.parents),
                        size: size[i],
                    }
                })
                .collect();
            described.sort_by(kafka_order);
            SubTopologyDescription { id: g.id, nodes: described }
        })
        .collect();
    TopologyDescription { subtopologies }
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
