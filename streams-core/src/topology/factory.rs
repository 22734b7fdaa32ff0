//! Node factories: what the topology keeps per node, and how a task instantiates it.

use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use crate::error::TopologyError;
use crate::processor::node::{Lifecycle, ProcessorNode};
use crate::processor::source::RawInput;
use crate::processor::{Processor, ProcessorContext};
use crate::serde::SerdeRegistry;
use crate::task::shared::TaskShared;

/// What a factory gets to build one node of one task.
pub(crate) struct BuildCtx<'a> {
    pub(crate) index: usize,
    pub(crate) name: Arc<str>,
    /// Each child's name and input (an `InputRef<K, V>` of this node's output types).
    pub(crate) children: Vec<(Arc<str>, &'a dyn Any)>,
    pub(crate) task: Rc<TaskShared>,
    pub(crate) serdes: &'a SerdeRegistry,
    /// The stores the node may use.
    pub(crate) stores: Vec<String>,
}

impl BuildCtx<'_> {
    /// The children as typed inputs; the topology checked the types when the links were added.
    pub(crate) fn typed_children<K: 'static, V: 'static>(
        &self,
    ) -> Vec<(Arc<str>, crate::processor::context::InputRef<K, V>)> {
        self.children
            .iter()
            .filter_map(|(n, any)| {
                any.downcast_ref::<crate::processor::context::InputRef<K, V>>()
                    .map(|i| (n.clone(), i.clone()))
            })
            .collect()
    }
}

/// One node of one task.
pub(crate) struct BuiltNode {
    /// The node's input (`InputRef<K, V>`), for its parents; `None` for sources.
    pub(crate) input: Option<Box<dyn Any>>,
    /// Set for sources: where the task feeds raw records.
    pub(crate) raw: Option<Rc<RefCell<dyn RawInput>>>,
    pub(crate) lifecycle: Option<Rc<RefCell<dyn Lifecycle>>>,
    /// Whether the node takes a run of records at once (a processor that declares
    /// [`Processor::BATCHES`], or a sink).
    pub(crate) batches: bool,
}

pub(crate) trait NodeFactory: Send + Sync {
    /// Checks that the node can be built with these default serdes.
    fn check(&self, name: &str, serdes: &SerdeRegistry) -> Result<(), TopologyError>;
    fn build(&self, ctx: BuildCtx<'_>) -> Result<BuiltNode, TopologyError>;
}

/// The input and output types a processor factory is for.
type Types<KIn, VIn, KOut, VOut> = std::marker::PhantomData<fn() -> (KIn, VIn, KOut, VOut)>;

/// Builds one processor per task from the application's supplier.
struct ProcessorFactory<F, KIn, VIn, KOut, VOut> {
    supplier: F,
    _types: Types<KIn, VIn, KOut, VOut>,
}

pub(crate) fn processor<KIn, VIn, KOut, VOut, P>(
    supplier: impl Fn() -> P + Send + Sync + 'static,
) -> Arc<dyn NodeFactory>
where
    KIn: 'static,
    VIn: 'static,
    KOut: Clone + 'static,
    VOut: Clone + 'static,
    P: Processor<KIn, VIn, KOut, VOut>,
{
    Arc::new(ProcessorFactory::<_, KIn, VIn, KOut, VOut> {
        supplier,
        _types: std::marker::PhantomData,
    })
}

impl<F, P, KIn, VIn, KOut, VOut> NodeFactory for ProcessorFactory<F, KIn, VIn, KOut, VOut>
where
    F: Fn() -> P + Send + Sync,
    P: Processor<KIn, VIn, KOut, VOut>,
    KIn: 'static,
    VIn: 'static,
    KOut: Clone + 'static,
    VOut: Clone + 'static,
{
    fn check(&self, _name: &str, _serdes: &SerdeRegistry) -> Result<(), TopologyError> {
        Ok(())
    }

    fn build(&self, ctx: BuildCtx<'_>) -> Result<BuiltNode, TopologyError> {
        let children = ctx.typed_children::<KOut, VOut>();
        let node = ProcessorNode {
            name: ctx.name.clone(),
            processor: (self.supplier)(),
            ctx: ProcessorContext::new(
                ctx.index,
                ctx.name.clone(),
                children,
                ctx.task.clone(),
                ctx.stores.clone(),
            ),
            task: ctx.task.clone(),
            _input: std::marker::PhantomData,
        };
        let node = Rc::new(RefCell::new(node));
        let input: crate::processor::context::InputRef<KIn, VIn> = node.clone();
        let lifecycle: Rc<RefCell<dyn Lifecycle>> = node;
        Ok(BuiltNode {
            input: Some(Box::new(input)),
            raw: None,
            lifecycle: Some(lifecycle),
            batches: P::BATCHES,
        })
    }
}
