//! What a processor sees of its task: forwarding, time, punctuation, record metadata.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use crate::processor::node::one_by_one;
use crate::processor::{PunctuationType, RecordBatch};
use crate::record::{Record, RecordMetadata};
use crate::task::TaskId;
use crate::task::shared::TaskShared;

/// A forwarding target: a child node's input.
pub(crate) type InputRef<K, V> = Rc<RefCell<dyn crate::processor::node::Input<K, V>>>;

/// Names a scheduled punctuation; given back to [`Processor::punctuate`](crate::Processor::punctuate)
/// and used to cancel it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PunctuatorId(pub(crate) u64);

/// The context of one processor in one task (Kafka's `ProcessorContext<KForward, VForward>`).
pub struct ProcessorContext<K, V> {
    node: usize,
    name: Arc<str>,
    children: Vec<(Arc<str>, InputRef<K, V>)>,
    task: Rc<TaskShared>,
    /// The stores this processor is connected to.
    stores: Vec<String>,
}

impl<K, V> std::fmt::Debug for ProcessorContext<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessorContext")
            .field("processor", &self.name)
            .field("task", &self.task.id)
            .field("children", &self.children.iter().map(|(n, _)| n).collect::<Vec<_>>())
            .finish()
    }
}

impl<K: Clone + 'static, V: Clone + 'static> ProcessorContext<K, V> {
    pub(crate) fn new(
        node: usize,
        name: Arc<str>,
        children: Vec<(Arc<str>, InputRef<K, V>)>,
        task: Rc<TaskShared>,
        stores: Vec<String>,
    ) -> Self {
        Self { node, name, children, task, stores }
    }

    /// Forwards `record` to every child of this processor, in the order they were connected.
    ///
    /// Once a processor downstream has failed on the current record, further forwards of it are
    /// dropped: the task's error handler decides what happens to the record as a whole.
    pub fn forward(&mut self, record: Record<K, V>) {
        let Some(((_, last), rest)) = self.children.split_last() else { return };
        for (_, child) in rest {
            if self.task.failed() {
                return;
            }
            child.borrow_mut().process(record.clone());
        }
        if !self.task.failed() {
            last.borrow_mut().process(record);
        }
    }

    /// Forwards a batch of records to every child, as [`forward`](Self::forward) would each of
    /// them in turn: a single child gets the batch whole; several get each record in turn.
    pub fn forward_batch(&mut self, batch: RecordBatch<K, V>) {
        match self.children.as_slice() {
            [] => {}
            [(_, child)] => {
                if !self.task.failed() {
                    child.borrow_mut().process_batch(batch);
                }
            }
            _ => {
                let task = self.task.clone();
                one_by_one(&task, batch, |r| self.forward(r));
            }
        }
    }

    /// Forwards `record` to the child called `child` only. Forwarding to a name that is not a child
    /// is a processing error of this processor.
    pub fn forward_to(&mut self, child: &str, record: Record<K, V>) {
        if self.task.failed() {
            return;
        }
        match self.children.iter().find(|(n, _)| &**n == child) {
            Some((_, c)) => c.borrow_mut().process(record),
            None => self.task.fail(
                &self.name,
                format!("processor `{}` has no child called `{child}`", self.name).into(),
            ),
        }
    }
}

impl<K, V> ProcessorContext<K, V> {
    /// The name of this processor.
    pub fn processor_name(&self) -> &str {
        &self.name
    }

    /// The names of this processor's children, in forwarding order.
    pub fn child_names(&self) -> impl Iterator<Item = &str> {
        self.children.iter().map(|(n, _)| &**n)
    }

    /// The task this processor instance belongs to.
    pub fn task_id(&self) -> TaskId {
        self.task.id
    }

    /// The application id (`application.id`).
    pub fn application_id(&self) -> &str {
        &self.task.application_id
    }

    /// Where the record being processed came from; `None` inside a punctuation.
    pub fn record_metadata(&self) -> Option<RecordMetadata> {
        self.task.record_metadata()
    }

    /// The task's stream time: the largest timestamp it has processed (`-1` before the first).
    pub fn current_stream_time_ms(&self) -> i64 {
        self.task.stream_time()
    }

    /// The wall-clock time as the task sees it (a mock clock under the test driver).
    pub fn current_system_time_ms(&self) -> i64 {
        self.task.clock.now_ms()
    }

    /// Schedules [`Processor::punctuate`](crate::Processor::punctuate) of this processor every
    /// `interval`, by stream time or by wall-clock time (see [`PunctuationType`]).
    pub fn schedule(&mut self, interval: Duration, kind: PunctuationType) -> PunctuatorId {
        self.task.schedule(self.node, interval, kind)
    }

    /// The key-value store `name`, typed (Kafka's `getStateStore`). The processor must be
    /// connected to it (`Topology::add_state_store` / `connect_store`), and `K`, `V` must be the
    /// types it was declared with. Of a timestamped store this is a plain view: reads see the
    /// values alone, writes stamp [`NO_TIMESTAMP`](crate::NO_TIMESTAMP).
    pub fn key_value_store<KS: 'static, VS: 'static>(
        &self,
        name: &str,
    ) -> Result<crate::state::KeyValueStore<KS, VS>, crate::processor::ProcessError> {
        self.check_connected(name)?;
        crate::state::task_stores::typed_store(&self.task, name)
    }

    /// The timestamped key-value store `name` (declared with
    /// [`StoreBuilder::with_timestamps`](crate::StoreBuilder::with_timestamps)), typed: its
    /// values are [`ValueAndTimestamp`](crate::ValueAndTimestamp)s of `VS`. Connected as for
    /// [`key_value_store`](Self::key_value_store).
    pub fn timestamped_key_value_store<KS: 'static, VS: 'static>(
        &self,
        name: &str,
    ) -> Result<crate::state::TimestampedKeyValueStore<KS, VS>, crate::processor::ProcessError>
    {
        self.check_connected(name)?;
        crate::state::task_stores::typed_timestamped_store(&self.task, name)
    }

    /// An error unless this processor may use store `name` (connected to it, or a global store).
    fn check_connected(&self, name: &str) -> Result<(), crate::processor::ProcessError> {
        let global = self.task.globals.borrow().iter().any(|(spec, _)| spec.name == name);
        if !global && !self.stores.iter().any(|s| s == name) {
            return Err(
                format!("processor `{}` is not connected to store `{name}`", self.name).into()
            );
        }
        Ok(())
    }

    /// The window store `name`, typed; the processor must be connected to it. Of a timestamped
    /// window store this is a plain view.
    pub fn window_store<KS: 'static, VS: 'static>(
        &self,
        name: &str,
    ) -> Result<crate::state::WindowStore<KS, VS>, crate::processor::ProcessError> {
        self.check_connected(name)?;
        crate::state::task_stores::typed_window_store(&self.task, name)
    }

    /// The timestamped window store `name` (declared with
    /// [`StoreBuilder::with_timestamps`](crate::StoreBuilder::with_timestamps)): its values are
    /// [`ValueAndTimestamp`](crate::ValueAndTimestamp)s of `VS`.
    pub fn timestamped_window_store<KS: 'static, VS: 'static>(
        &self,
        name: &str,
    ) -> Result<crate::state::TimestampedWindowStore<KS, VS>, crate::processor::ProcessError> {
        self.check_connected(name)?;
        crate::state::task_stores::typed_timestamped_window_store(&self.task, name)
    }

    /// Moves the task's stream time to `ts` if it is later (sources do, for each good record).
    pub(crate) fn advance_stream_time(&self, ts: i64) {
        self.task.advance_stream_time(ts);
    }

    /// Cancels a punctuation scheduled by this task.
    pub fn cancel(&mut self, id: PunctuatorId) {
        self.task.cancel(id);
    }
}
