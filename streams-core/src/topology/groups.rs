//! Sub-topologies: the connected parts of the graph, numbered as Kafka numbers them.

use crate::topology::{NodeKind, NodeSpec, TopicRef};

/// One connected part of a topology: the nodes a task of it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SubTopology {
    pub(crate) id: u32,
    /// Node indices, in the order they were added (parents before children).
    pub(crate) nodes: Vec<usize>,
    /// The named topics its sources read.
    pub(crate) source_topics: Vec<TopicRef>,
    /// The indices of its pattern sources.
    pub(crate) pattern_sources: Vec<usize>,
    /// A global store's source and processor: numbered like the others, but no task runs it.
    pub(crate) global: bool,
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Splits `nodes` into sub-topologies: nodes linked as parent and child, or sharing a store, are
/// in one. Numbering follows Kafka's `makeNodeGroups` (since 2.4): each part gets the next number
/// when its first node comes up in the order nodes were added, so upstream parts come first.
pub(crate) fn sub_topologies(nodes: &[NodeSpec]) -> Vec<SubTopology> {
    let mut parent: Vec<usize> = (0..nodes.len()).collect();
    let union = |parent: &mut Vec<usize>, a: usize, b: usize| {
        let (ra, rb) = (find(parent, a), find(parent, b));
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    };
    for (i, n) in nodes.iter().enumerate() {
        for &p in &n.parents {
            union(&mut parent, i, p);
        }
    }
    // Processors sharing a store must run in one task.
    for (i, a) in nodes.iter().enumerate() {
        let NodeKind::Processor { stores: sa } = &a.kind else { continue };
        for (j, b) in nodes.iter().enumerate().skip(i + 1) {
            if let NodeKind::Processor { stores: sb } = &b.kind {
                if sa.iter().any(|s| sb.contains(s)) {
                    union(&mut parent, i, j);
                }
            }
        }
    }
    let mut id_of_root: Vec<Option<u32>> = vec![None; nodes.len()];
    let mut groups: Vec<SubTopology> = Vec::new();
    for i in 0..nodes.len() {
        let root = find(&mut parent, i);
        if id_of_root[root].is_none() {
            id_of_root[root] = Some(groups.len() as u32);
            groups.push(SubTopology {
                id: groups.len() as u32,
                nodes: Vec::new(),
                source_topics: Vec::new(),
                pattern_sources: Vec::new(),
                global: false,
            });
        }
    }
    for (i, n) in nodes.iter().enumerate() {
        let root = find(&mut parent, i);
        let Some(id) = id_of_root[root] else { continue };
        let g = &mut groups[id as usize];
        g.nodes.push(i);
        g.global |= n.global;
        if let NodeKind::Source { topics, pattern, .. } = &n.kind {
            g.source_topics.extend(topics.iter().cloned());
            if pattern.is_some() {
                g.pattern_sources.push(i);
            }
        }
    }
    groups
}
