//! Nodes as a task runs them: each takes typed records from its parents.

use std::sync::Arc;

use crate::processor::RecordBatch;
use crate::processor::{Processor, ProcessorContext, PunctuatorId};
use crate::record::Record;
use crate::task::shared::TaskShared;

/// A node's input: records of one type from its parents.
pub(crate) trait Input<K, V> {
    fn process(&mut self, record: Record<K, V>);
    /// The records of `batch`, in order, with the task's current record following each one's
    /// origin while it is processed.
    fn process_batch(&mut self, batch: RecordBatch<K, V>);
}

/// What a task does with every node regardless of its types.
pub(crate) trait Lifecycle {
    fn init(&mut self);
    fn punctuate(&mut self, id: PunctuatorId, timestamp: i64);
    fn flush(&mut self);
    fn close(&mut self);
}

/// A user or DSL processor with its context. Generic over the processor's own type, so a record
/// costs one dynamic call per node (its parent's), not two.
pub(crate) struct ProcessorNode<P, KIn, VIn, KOut, VOut> {
    pub(crate) name: Arc<str>,
    pub(crate) processor: P,
    pub(crate) ctx: ProcessorContext<KOut, VOut>,
    pub(crate) task: std::rc::Rc<TaskShared>,
    pub(crate) _input: std::marker::PhantomData<fn(KIn, VIn)>,
}

impl<P, KIn: 'static, VIn: 'static, KOut: 'static, VOut: 'static> Input<KIn, VIn>
    for ProcessorNode<P, KIn, VIn, KOut, VOut>
where
    P: Processor<KIn, VIn, KOut, VOut>,
{
    fn process(&mut self, record: Record<KIn, VIn>) {
        if let Err(e) = self.processor.process(&mut self.ctx, record) {
            self.task.fail(&self.name, e);
        }
    }

    fn process_batch(&mut self, batch: RecordBatch<KIn, VIn>) {
        if !P::BATCHES {
            let task = self.task.clone();
            return one_by_one(&task, batch, |r| self.process(r));
        }
        if self.task.failed() {
            return;
        }
        if let Err(e) = self.processor.process_batch(&mut self.ctx, batch) {
            self.task.fail(&self.name, e);
        }
    }
}

/// A batch's records handed to `process` one at a time, each made the task's current record
/// first; stops once the task has failed.
pub(crate) fn one_by_one<K, V>(
    task: &TaskShared,
    batch: RecordBatch<K, V>,
    mut process: impl FnMut(Record<K, V>),
) {
    for (origin, record) in batch.into_entries() {
        if task.failed() {
            return;
        }
        task.set_position(origin);
        process(record);
    }
}

impl<P, KIn: 'static, VIn: 'static, KOut: 'static, VOut: 'static> Lifecycle
    for ProcessorNode<P, KIn, VIn, KOut, VOut>
where
    P: Processor<KIn, VIn, KOut, VOut>,
{
    fn init(&mut self) {
        if let Err(e) = self.processor.init(&mut self.ctx) {
            self.task.fail(&self.name, e);
        }
    }
    fn punctuate(&mut self, id: PunctuatorId, timestamp: i64) {
        if let Err(e) = self.processor.punctuate(&mut self.ctx, id, timestamp) {
            self.task.fail(&self.name, e);
        }
    }
    fn flush(&mut self) {
        if let Err(e) = self.processor.flush(&mut self.ctx) {
            self.task.fail(&self.name, e);
        }
    }
    fn close(&mut self) {
        self.processor.close();
    }
}
