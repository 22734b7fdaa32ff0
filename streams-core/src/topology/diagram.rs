//! The same graph as `describe()`, drawn: Mermaid flowcharts and Graphviz DOT.

use std::fmt::Write;

use crate::topology::describe::{NodeDescriptionKind, TopologyDescription};

impl TopologyDescription {
    /// A Mermaid flowchart: one subgraph per sub-topology, topics as their own shapes.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart TD\n");
        let mut topics: Vec<String> = Vec::new();
        let mut edges = String::new();
        for s in &self.subtopologies {
            let _ = writeln!(out, "  subgraph sub{}[\"Sub-topology: {}\"]", s.id, s.id);
            for n in &s.nodes {
                let _ = writeln!(out, "    {}[\"{}\"]", id(&n.name), n.name);
                for c in &n.successors {
                    let _ = writeln!(edges, "  {} --> {}", id(&n.name), id(c));
                }
                for (t, from_topic) in topics_of(&n.kind) {
                    if !topics.contains(&t) {
                        topics.push(t.clone());
                    }
                    let (a, b) = if from_topic {
                        (topic_id(&t), id(&n.name))
                    } else {
                        (id(&n.name), topic_id(&t))
                    };
                    let _ = writeln!(edges, "  {a} --> {b}");
                }
            }
            out.push_str("  end\n");
        }
        for t in &topics {
            let _ = writeln!(out, "  {}[(\"{}\")]", topic_id(t), t);
        }
        out + &edges
    }

    /// A Graphviz DOT digraph: one cluster per sub-topology, topics as cylinders.
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph topology {\n  rankdir=TB;\n");
        let mut topics: Vec<String> = Vec::new();
        let mut edges = String::new();
        for s in &self.subtopologies {
            let _ = writeln!(
                out,
                "  subgraph cluster_{} {{\n    label=\"Sub-topology: {}\";",
                s.id, s.id
            );
            for n in &s.nodes {
                let _ = writeln!(out, "    \"{}\" [shape=box];", n.name);
                for c in &n.successors {
                    let _ = writeln!(edges, "  \"{}\" -> \"{}\";", n.name, c);
                }
                for (t, from_topic) in topics_of(&n.kind) {
                    if !topics.contains(&t) {
                        topics.push(t.clone());
                    }
                    let (a, b) = if from_topic { (&t, &n.name) } else { (&n.name, &t) };
                    let _ = writeln!(edges, "  \"{a}\" -> \"{b}\";");
                }
            }
            out.push_str("  }\n");
        }
        for t in &topics {
            let _ = writeln!(out, "  \"{t}\" [shape=cylinder];");
        }
        out + &edges + "}\n"
    }
}

/// The topics a node touches, each with whether it is read (true) or written (false).
fn topics_of(kind: &NodeDescriptionKind) -> Vec<(String, bool)> {
    match kind {
        NodeDescriptionKind::Source { topics, pattern } => match pattern {
            Some(p) => vec![(format!("/{p}/"), true)],
            None => topics.iter().map(|t| (t.clone(), true)).collect(),
        },
        NodeDescriptionKind::Sink { topic: Some(t), .. } => vec![(t.clone(), false)],
        _ => Vec::new(),
    }
}

fn id(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

fn topic_id(name: &str) -> String {
    format!("topic_{}", id(name))
}
