//! The topology: a graph of sources, processors and sinks, and its split into sub-topologies.
//!
//! A [`Topology`] is a *description*: it holds a factory per node, and every task builds its own
//! instances from them, so processors may keep per-task state. Nodes are added parents first, which
//! keeps the graph acyclic; each parent-child link is type-checked when it is added.

mod describe;
mod diagram;
mod factory;
pub(crate) mod groups;
pub(crate) mod internal_topics;
pub(crate) mod java_order;
pub(crate) mod spec;

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::Arc;

pub use describe::{
    NodeDescription, NodeDescriptionKind, SubTopologyDescription, TopologyDescription,
};
pub use spec::{Sink, Source};

pub(crate) use factory::{BuildCtx, BuiltNode, NodeFactory};

use crate::error::TopologyError;
use crate::processor::Processor;
use crate::state::{StoreBuilder, StoreSpec};
use crate::time::TimestampExtractor;

/// The node that writes a global store. The global store's thread applies the topic's records
/// to the store directly (the bytes on the topic are the bytes in the store), so no task ever
/// runs this processor.
struct GlobalWriter;

impl<K: 'static, V: 'static> Processor<K, V, (), ()> for GlobalWriter {
    fn process(
        &mut self,
        _ctx: &mut crate::ProcessorContext<(), ()>,
        _record: crate::Record<K, V>,
    ) -> Result<(), crate::ProcessError> {
        Ok(())
    }
}

/// The types a node takes or forwards, for checking links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TypeKey {
    id: TypeId,
    name: &'static str,
}

impl TypeKey {
    pub(crate) fn of<K: 'static, V: 'static>() -> Self {
        Self { id: TypeId::of::<(K, V)>(), name: std::any::type_name::<(K, V)>() }
    }
}

/// A topic a source reads or a sink writes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct TopicRef {
    /// The name as the topology gives it; internal topics get the application id prefixed.
    pub(crate) name: String,
    /// An internal (repartition) topic: `<application.id>-<name>`, created by the application.
    pub(crate) internal: bool,
}

impl TopicRef {
    pub(crate) fn resolve(&self, application_id: &str) -> String {
        if self.internal { format!("{application_id}-{}", self.name) } else { self.name.clone() }
    }
}

pub(crate) enum NodeKind {
    Source {
        topics: Vec<TopicRef>,
        pattern: Option<regex::Regex>,
        extractor: Option<Arc<dyn TimestampExtractor>>,
    },
    Processor {
        stores: Vec<String>,
    },
    Sink {
        /// `None`: the topic is chosen per record.
        topic: Option<TopicRef>,
        /// For per-record topics: the extractor's name, shown by `describe`.
        extractor: Option<String>,
    },
}

pub(crate) struct NodeSpec {
    pub(crate) name: Arc<str>,
    pub(crate) kind: NodeKind,
    pub(crate) parents: Vec<usize>,
    pub(crate) children: Vec<usize>,
    pub(crate) output: Option<TypeKey>,
    pub(crate) factory: Arc<dyn NodeFactory>,
    /// A node of a global store (its source and the processor that fills the store).
    pub(crate) global: bool,
}

/// A topic the application creates and owns, named `<application.id>-<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InternalTopic {
    pub(crate) name: String,
    /// `None`: as many partitions as the upstream sub-topology's source topics have (the most).
    pub(crate) partitions: Option<i32>,
}

/// A graph of sources, processors and sinks (Kafka's `Topology`).
///
/// ```
/// use streams_core::{Processor, ProcessorContext, ProcessError, Record, Topology};
///
/// struct Upper;
/// impl Processor<String, String> for Upper {
///     fn process(&mut self, ctx: &mut ProcessorContext<String, String>, r: Record<String, String>)
///         -> Result<(), ProcessError> {
///         let v = r.value.to_uppercase();
///         ctx.forward(r.with_value(v));
///         Ok(())
///     }
/// }
///
/// let mut topology = Topology::new();
/// topology
///     .add_source::<String, String>("Source", &["input"]).unwrap()
///     .add_processor("Upper", || Upper, &["Source"]).unwrap()
///     .add_sink::<String, String>("Sink", "output", &["Upper"]).unwrap();
/// assert!(topology.describe().to_string().contains("Processor: Upper (stores: [])"));
/// ```
#[derive(Default)]
pub struct Topology {
    pub(crate) nodes: Vec<NodeSpec>,
    by_name: HashMap<Arc<str>, usize>,
    pub(crate) internal_topics: Vec<InternalTopic>,
    pub(crate) stores: Vec<StoreSpec>,
}

impl std::fmt::Debug for Topology {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.describe())
    }
}

impl Topology {
    /// An empty topology.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a source reading `topics` with the application's default serdes for `K` and `V`.
    pub fn add_source<K: Clone + 'static, V: Clone + 'static>(
        &mut self,
        name: &str,
        topics: &[&str],
    ) -> Result<&mut Self, TopologyError> {
        self.add_source_with(name, Source::<K, V>::topics(topics))
    }

    /// Adds a source as `source` describes it (topics or pattern, serdes, timestamp extractor).
    pub fn add_source_with<K: Clone + 'static, V: Clone + 'static>(
        &mut self,
        name: &str,
        source: Source<K, V>,
    ) -> Result<&mut Self, TopologyError> {
        self.check_new_name(name)?;
        let (kind, factory) = source.into_parts(name)?;
        if let NodeKind::Source { topics, .. } = &kind {
            for t in topics {
                if let Some(other) = self.source_of(t) {
                    return Err(TopologyError::TopicReadTwice {
                        topic: t.name.clone(),
                        source_node: other.to_string(),
                    });
                }
            }
        }
        self.push(name, kind, Vec::new(), Some(TypeKey::of::<K, V>()), factory);
        Ok(self)
    }

    /// Adds a processor created per task by `supplier`, fed by `parents`.
    pub fn add_processor<KIn, VIn, KOut, VOut, P>(
        &mut self,
        name: &str,
        supplier: impl Fn() -> P + Send + Sync + 'static,
        parents: &[&str],
    ) -> Result<&mut Self, TopologyError>
    where
        KIn: 'static,
        VIn: 'static,
        KOut: Clone + 'static,
        VOut: Clone + 'static,
        P: Processor<KIn, VIn, KOut, VOut>,
    {
        self.check_new_name(name)?;
        let parents = self.check_parents(name, parents, TypeKey::of::<KIn, VIn>())?;
        let factory = factory::processor::<KIn, VIn, KOut, VOut, P>(supplier);
        self.push(
            name,
            NodeKind::Processor { stores: Vec::new() },
            parents,
            Some(TypeKey::of::<KOut, VOut>()),
            factory,
        );
        Ok(self)
    }

    /// Adds a sink writing to `topic` with the default serdes for `K` and `V`.
    pub fn add_sink<K: 'static, V: 'static>(
        &mut self,
        name: &str,
        topic: &str,
        parents: &[&str],
    ) -> Result<&mut Self, TopologyError> {
        self.add_sink_with(name, Sink::<K, V>::topic(topic), parents)
    }

    /// Adds a sink as `sink` describes it (topic or topic per record, serdes, partitioner).
    pub fn add_sink_with<K: 'static, V: 'static>(
        &mut self,
        name: &str,
        sink: Sink<K, V>,
        parents: &[&str],
    ) -> Result<&mut Self, TopologyError> {
        self.check_new_name(name)?;
        let parents = self.check_parents(name, parents, TypeKey::of::<K, V>())?;
        let (kind, factory) = sink.into_parts();
        self.push(name, kind, parents, None, factory);
        Ok(self)
    }

    /// Declares an internal topic (`<application.id>-<name>`) that the application creates at
    /// start, with `partitions` partitions or, with `None`, as many as the most any source topic
    /// of the sub-topology writing it has. Sources and sinks refer to it with
    /// [`Source::internal_topic`] and [`Sink::internal_topic`].
    pub fn add_internal_topic(&mut self, name: &str, partitions: Option<i32>) -> &mut Self {
        if !self.internal_topics.iter().any(|t| t.name == name) {
            self.internal_topics.push(InternalTopic { name: name.to_string(), partitions });
        }
        self
    }

    /// Declares a state store and gives it to `processors` (Kafka's `addStateStore`). Each task of
    /// the sub-topology holding those processors gets its own instance.
    pub fn add_state_store<K: 'static, V: 'static>(
        &mut self,
        store: StoreBuilder<K, V>,
        processors: &[&str],
    ) -> Result<&mut Self, TopologyError> {
        if self.stores.iter().any(|s| s.name == store.name) {
            return Err(TopologyError::DuplicateStore(store.name.clone()));
        }
        let name = store.name.clone();
        self.stores.push(store.into_spec());
        for p in processors {
            self.connect_store(p, &name)?;
        }
        Ok(self)
    }

    /// Gives processor `processor` access to the declared store `store` (Kafka's
    /// `connectProcessorAndStateStores`).
    pub fn connect_store(
        &mut self,
        processor: &str,
        store: &str,
    ) -> Result<&mut Self, TopologyError> {
        if !self.stores.iter().any(|s| s.name == store) {
            return Err(TopologyError::UnknownStore {
                processor: processor.into(),
                store: store.into(),
            });
        }
        let i = *self.by_name.get(processor).ok_or_else(|| TopologyError::UnknownParent {
            child: store.into(),
            parent: processor.into(),
        })?;
        if let NodeKind::Processor { stores } = &mut self.nodes[i].kind {
            if !stores.iter().any(|s| s == store) {
                stores.push(store.to_string());
            }
        }
        Ok(self)
    }

    /// Declares a global store: every instance keeps a full copy of `store`, filled from all
    /// partitions of `source`'s topic, loaded completely before any task processes a record and
    /// kept current while the application runs (Kafka's `addGlobalStore`, as a `GlobalKTable`
    /// uses it). The store mirrors the topic: each record sets its key to its value, a null value
    /// deletes the key. The topic itself is the store's changelog, so `store` must have logging
    /// disabled; every processor may read the store
    /// ([`ProcessorContext::key_value_store`](crate::ProcessorContext::key_value_store)) without
    /// being connected to it.
    ///
    /// Unlike Kafka's `addGlobalStore`, no custom processor runs between the topic and the store:
    /// `processor_name` names the node that writes it. The source's value type `VS` may differ
    /// from the store's (`Option<V>` for a table whose topic carries tombstones) as long as both
    /// serdes agree on the bytes.
    pub fn add_global_store<K: Clone + 'static, V: 'static, VS: Clone + 'static>(
        &mut self,
        store: StoreBuilder<K, V>,
        source_name: &str,
        source: Source<K, VS>,
        processor_name: &str,
    ) -> Result<&mut Self, TopologyError> {
        if store.logging {
            return Err(TopologyError::GlobalStoreLogged(store.name.clone()));
        }
        if source.topic_count() != 1 {
            return Err(TopologyError::NoTopics(source_name.to_string()));
        }
        if self.stores.iter().any(|s| s.name == store.name) {
            return Err(TopologyError::DuplicateStore(store.name.clone()));
        }
        self.check_new_name(source_name)?;
        self.check_new_name(processor_name)?;
        let (kind, factory) = source.into_parts(source_name)?;
        if let NodeKind::Source { topics, .. } = &kind {
            for t in topics {
                if let Some(other) = self.source_of(t) {
                    return Err(TopologyError::TopicReadTwice {
                        topic: t.name.clone(),
                        source_node: other.to_string(),
                    });
                }
            }
        }
        let store_name = store.name.clone();
        let mut spec = store.into_spec();
        spec.global = true;
        self.stores.push(spec);
        self.push(source_name, kind, Vec::new(), Some(TypeKey::of::<K, VS>()), factory);
        let source_index = self.nodes.len() - 1;
        self.nodes[source_index].global = true;
        let writer = factory::processor::<K, VS, (), (), GlobalWriter>(|| GlobalWriter);
        self.push(
            processor_name,
            NodeKind::Processor { stores: vec![store_name] },
            vec![source_index],
            Some(TypeKey::of::<(), ()>()),
            writer,
        );
        let processor_index = self.nodes.len() - 1;
        self.nodes[processor_index].global = true;
        Ok(self)
    }

    /// The global stores: each with the topic that fills it.
    pub(crate) fn global_stores(&self) -> Vec<(StoreSpec, String)> {
        self.nodes
            .iter()
            .filter(|n| n.global)
            .filter_map(|n| match &n.kind {
                NodeKind::Processor { stores } => {
                    let parent = n.parents.first().map(|&p| &self.nodes[p].kind)?;
                    let NodeKind::Source { topics, .. } = parent else { return None };
                    let topic = topics.first()?.name.clone();
                    let spec = self.stores.iter().find(|s| stores.contains(&s.name))?.clone();
                    Some((spec, topic))
                }
                _ => None,
            })
            .collect()
    }

    /// Whether a node called `name` exists.
    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// The sub-topologies, processors, stores and topics, as Kafka Streams prints them.
    pub fn describe(&self) -> TopologyDescription {
        describe::describe(self)
    }

    fn check_new_name(&self, name: &str) -> Result<(), TopologyError> {
        if self.by_name.contains_key(name) {
            return Err(TopologyError::DuplicateName(name.to_string()));
        }
        Ok(())
    }

    fn check_parents(
        &self,
        child: &str,
        parents: &[&str],
        input: TypeKey,
    ) -> Result<Vec<usize>, TopologyError> {
        if parents.is_empty() {
            return Err(TopologyError::NoParent(child.to_string()));
        }
        let mut out = Vec::with_capacity(parents.len());
        for p in parents {
            let i = *self.by_name.get(*p).ok_or_else(|| TopologyError::UnknownParent {
                child: child.to_string(),
                parent: p.to_string(),
            })?;
            let Some(output) = self.nodes[i].output else {
                return Err(TopologyError::SinkAsParent(p.to_string()));
            };
            if output.id != input.id {
                return Err(TopologyError::TypeMismatch {
                    child: child.to_string(),
                    parent: p.to_string(),
                    expected: input.name,
                    found: output.name,
                });
            }
            if !out.contains(&i) {
                out.push(i);
            }
        }
        Ok(out)
    }

    fn push(
        &mut self,
        name: &str,
        kind: NodeKind,
        parents: Vec<usize>,
        output: Option<TypeKey>,
        factory: Arc<dyn NodeFactory>,
    ) {
        let index = self.nodes.len();
        let name: Arc<str> = Arc::from(name);
        for &p in &parents {
            self.nodes[p].children.push(index);
        }
        self.by_name.insert(name.clone(), index);
        self.nodes.push(NodeSpec {
            name,
            kind,
            parents,
            children: Vec::new(),
            output,
            factory,
            global: false,
        });
    }

    fn source_of(&self, topic: &TopicRef) -> Option<&str> {
        self.nodes.iter().find_map(|n| match &n.kind {
            NodeKind::Source { topics, .. } if topics.contains(topic) => Some(&*n.name),
            _ => None,
        })
    }
}

impl Topology {
    /// The specs of the stores the processors of `nodes` use.
    pub(crate) fn stores_of(&self, nodes: &[usize]) -> Vec<StoreSpec> {
        let mut names: Vec<&str> = Vec::new();
        for &i in nodes {
            if let NodeKind::Processor { stores } = &self.nodes[i].kind {
                for s in stores {
                    if !names.contains(&s.as_str()) {
                        names.push(s);
                    }
                }
            }
        }
        self.stores.iter().filter(|s| names.contains(&s.name.as_str())).cloned().collect()
    }
}
