//! Sink nodes: serialize records and hand them to the task's record collector.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use bytes::Bytes;

use crate::error::TopologyError;
use crate::processor::RecordBatch;
use crate::processor::node::{Input, one_by_one};
use crate::processor::source::resolve_serde;
use crate::record::Record;
use crate::serde::{SerdeRegistry, SharedSerde};
use crate::task::shared::{Outgoing, TaskShared};
use crate::topology::spec::{Partitioner, TopicExtractor};
use crate::topology::{BuildCtx, BuiltNode, NodeFactory, TopicRef};

pub(crate) enum SinkTarget<K, V> {
    Fixed(TopicRef),
    PerRecord(TopicExtractor<K, V>),
}

pub(crate) struct SinkFactory<K, V> {
    pub(crate) target: SinkTarget<K, V>,
    pub(crate) key_serde: Option<SharedSerde<K>>,
    pub(crate) value_serde: Option<SharedSerde<V>>,
    pub(crate) partitioner: Option<Partitioner<K, V>>,
}

enum Target<K, V> {
    Fixed(Arc<str>),
    PerRecord(TopicExtractor<K, V>),
}

impl<K: 'static, V: 'static> NodeFactory for SinkFactory<K, V> {
    fn check(&self, name: &str, serdes: &SerdeRegistry) -> Result<(), TopologyError> {
        let node = format!("sink `{name}`");
        resolve_serde(&self.key_serde, serdes, &node)?;
        resolve_serde(&self.value_serde, serdes, &node)?;
        Ok(())
    }

    fn build(&self, ctx: BuildCtx<'_>) -> Result<BuiltNode, TopologyError> {
        let node = format!("sink `{}`", ctx.name);
        let target = match &self.target {
            SinkTarget::Fixed(t) => Target::Fixed(Arc::from(t.resolve(&ctx.task.application_id))),
            SinkTarget::PerRecord(f) => Target::PerRecord(f.clone()),
        };
        let sink = SinkNode {
            name: ctx.name.clone(),
            target,
            key_serde: resolve_serde(&self.key_serde, ctx.serdes, &node)?,
            value_serde: resolve_serde(&self.value_serde, ctx.serdes, &node)?,
            partitioner: self.partitioner.clone(),
            task: ctx.task.clone(),
        };
        let input: crate::processor::context::InputRef<K, V> = Rc::new(RefCell::new(sink));
        Ok(BuiltNode { input: Some(Box::new(input)), raw: None, lifecycle: None, batches: true })
    }
}

struct SinkNode<K, V> {
    name: Arc<str>,
    target: Target<K, V>,
    key_serde: SharedSerde<K>,
    value_serde: SharedSerde<V>,
    partitioner: Option<Partitioner<K, V>>,
    task: Rc<TaskShared>,
}

impl<K: 'static, V: 'static> Input<K, V> for SinkNode<K, V> {
    fn process(&mut self, record: Record<K, V>) {
        let per_record: Arc<str>;
        let topic = match &self.target {
            // Borrowed: the collector refers to the sink's topic without a reference per record.
            Target::Fixed(t) => t,
            Target::PerRecord(f) => {
                let meta = self.task.record_metadata();
                per_record = Arc::from(f(&record.key, &record.value, meta.as_ref()));
                &per_record
            }
        };
        let partition = match &self.partitioner {
            None => None,
            Some(p) => {
                let count = self.task.collector.borrow().partition_count(topic);
                count.and_then(|n| {
                    p(topic, &record.key, &record.value, n).filter(|p| (0..n).contains(p))
                })
            }
        };
        let out = match serialize(&self.key_serde, &self.value_serde, topic, record) {
            Ok(out) => Outgoing { partition, ..out },
            Err(e) => return self.task.fail_production(&self.name, topic, e),
        };
        let sent = self.task.collector.borrow_mut().send_to(topic, out);
        if let Err(failed) = sent {
            let (out, e) = *failed;
            self.task.fail_production(&self.name, &out.topic, e);
        }
    }

    /// A fixed topic without a partitioner (the common case), sending into the thread's outbox,
    /// serializes the batch a column at a time (one serde call per column) straight into the
    /// outbox's columns; the rest goes record by record.
    fn process_batch(&mut self, batch: RecordBatch<K, V>) {
        let outbox = self.task.collector.borrow_mut().outbox().is_some();
        let (Target::Fixed(topic), None, true) = (&self.target, &self.partitioner, outbox) else {
            let task = self.task.clone();
            return one_by_one(&task, batch, |r| self.process(r));
        };
        let topic = topic.clone();
        let batch = batch.into_columns();
        let n = batch.keys.len();
        let (mut keys, mut values) = (batch.keys.into_iter(), batch.values.into_iter());
        let (mut timestamps, mut headers) = (batch.timestamps.iter(), batch.headers.into_iter());
        // Keys serialized past a record whose value did not serialize, for the next round; the
        // error of the key after them, if it did not serialize.
        let mut pending: Vec<Option<Bytes>> = Vec::new();
        let mut key_error = None;
        let mut done = 0;
        while done < n {
            let value_error = {
                let mut collector = self.task.collector.borrow_mut();
                let Some(mut outbox) = collector.outbox() else { break };
                let slot = outbox.slot(&topic);
                let base = outbox.len();
                let (out_keys, out_values) = outbox.key_value_columns();
                out_keys.append(&mut pending);
                if key_error.is_none() {
                    let want = n - done - (out_keys.len() - base);
                    key_error =
                        self.key_serde.serialize_column(&topic, &mut keys, want, out_keys).err();
                }
                let with_keys = out_keys.len() - base;
                let value_error = self
                    .value_serde
                    .serialize_column(&topic, &mut values, with_keys, out_values)
                    .err();
                let good = out_values.len() - base;
                if value_error.is_some() {
                    // The record at `good` had a key but no value: its key goes, the keys after
                    // it wait for the next round.
                    pending = out_keys.split_off(base + good + 1);
                    out_keys.truncate(base + good);
                }
                outbox.complete(slot, &mut timestamps, &mut headers);
                done += good;
                value_error
            };
            // The record at `done` did not serialize: its key or its value.
            let error = match value_error {
                Some(e) => format!("serializing the value: {e}"),
                None => match key_error.take() {
                    Some(e) => {
                        values.next();
                        format!("serializing the key: {e}")
                    }
                    None => break,
                },
            };
            timestamps.next();
            headers.next();
            // The handler may send a dead letter through the collector: released above.
            self.task.set_position(batch.origins.get(done));
            self.task.fail_production(&self.name, &topic, error);
            if self.task.failed() {
                break;
            }
            done += 1;
        }
    }
}

/// The outgoing record of `record` for `topic`, with no partition chosen; the error names what
/// did not serialize.
#[inline(always)]
fn serialize<K: 'static, V: 'static>(
    key_serde: &SharedSerde<K>,
    value_serde: &SharedSerde<V>,
    topic: &str,
    record: Record<K, V>,
) -> Result<Outgoing, String> {
    let Record { key, value, timestamp, headers } = record;
    let key =
        key_serde.serialize_owned(topic, key).map_err(|e| format!("serializing the key: {e}"))?;
    let value = value_serde
        .serialize_owned(topic, value)
        .map_err(|e| format!("serializing the value: {e}"))?;
    Ok(Outgoing { partition: None, key, value, timestamp, headers })
}
