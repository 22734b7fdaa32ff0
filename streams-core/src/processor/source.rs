//! Source nodes: deserialize raw records and hand them to the topology.

use std::cell::RefCell;
use std::rc::Rc;

use crate::error::TopologyError;
use crate::processor::{ProcessorContext, RecordBatch};
use crate::task::shared::TaskShared;
use bytes::Bytes;

use crate::record::{Header, Record};
use crate::serde::{SerdeError, SerdeRegistry, SharedSerde};
use crate::time::RawRecord;
use crate::topology::{BuildCtx, BuiltNode, NodeFactory};

/// Where a task feeds the raw records of a source's topics.
pub(crate) trait RawInput {
    /// Deserializes `raw` and forwards it with timestamp `timestamp`.
    fn process_raw(&mut self, raw: &RawRecord, timestamp: i64) -> Result<(), SerdeError>;
    /// Like [`process_raw`](RawInput::process_raw) with the record's key, value and headers
    /// handed over (taken out of the raw record of `topic`), so deserializers can keep them.
    fn process_taken(
        &mut self,
        topic: &str,
        key: Option<Bytes>,
        value: Option<Bytes>,
        headers: Vec<Header>,
        timestamp: i64,
    ) -> Result<(), SerdeError>;
    /// Deserializes the records at positions `from..to` of the task's queue `q` and forwards, as
    /// one batch, those before the first that does not deserialize; returns that one's position
    /// and error. `take` moves each record's key, value and headers out of the queue (as
    /// [`process_taken`](RawInput::process_taken)) instead of cloning them.
    fn process_run(
        &mut self,
        task: &TaskShared,
        q: usize,
        from: usize,
        to: usize,
        take: bool,
    ) -> Result<(), (usize, SerdeError)>;
}

pub(crate) struct SourceFactory<K, V> {
    pub(crate) key_serde: Option<SharedSerde<K>>,
    pub(crate) value_serde: Option<SharedSerde<V>>,
}

pub(crate) fn resolve<T: 'static>(
    given: &Option<SharedSerde<T>>,
    serdes: &SerdeRegistry,
    node: &str,
) -> Result<SharedSerde<T>, TopologyError> {
    given.clone().or_else(|| serdes.get::<T>()).ok_or_else(|| TopologyError::NoSerde {
        node: node.to_string(),
        type_name: std::any::type_name::<T>(),
    })
}

pub(crate) use resolve as resolve_serde;

impl<K: Clone + 'static, V: Clone + 'static> NodeFactory for SourceFactory<K, V> {
    fn check(&self, name: &str, serdes: &SerdeRegistry) -> Result<(), TopologyError> {
        let node = format!("source `{name}`");
        resolve(&self.key_serde, serdes, &node)?;
        resolve(&self.value_serde, serdes, &node)?;
        Ok(())
    }

    fn build(&self, ctx: BuildCtx<'_>) -> Result<BuiltNode, TopologyError> {
        let node = format!("source `{}`", ctx.name);
        let key_serde = resolve(&self.key_serde, ctx.serdes, &node)?;
        let value_serde = resolve(&self.value_serde, ctx.serdes, &node)?;
        let children = ctx.typed_children::<K, V>();
        let ctx = ProcessorContext::new(
            ctx.index,
            ctx.name.clone(),
            children,
            ctx.task.clone(),
            Vec::new(),
        );
        let node = Rc::new(RefCell::new(SourceNode { key_serde, value_serde, ctx }));
        let raw: Rc<RefCell<dyn RawInput>> = node;
        Ok(BuiltNode { input: None, raw: Some(raw), lifecycle: None, batches: false })
    }
}

struct SourceNode<K, V> {
    key_serde: SharedSerde<K>,
    value_serde: SharedSerde<V>,
    ctx: ProcessorContext<K, V>,
}

impl<K: Clone + 'static, V: Clone + 'static> RawInput for SourceNode<K, V> {
    fn process_raw(&mut self, raw: &RawRecord, timestamp: i64) -> Result<(), SerdeError> {
        let topic: &str = &raw.topic;
        let key = self.key_serde.deserialize(topic, raw.key.as_ref())?;
        let value = self.value_serde.deserialize(topic, raw.value.as_ref())?;
        self.ctx.advance_stream_time(timestamp);
        self.ctx.forward(Record { key, value, timestamp, headers: raw.headers.clone() });
        Ok(())
    }

    fn process_taken(
        &mut self,
        topic: &str,
        key: Option<Bytes>,
        value: Option<Bytes>,
        headers: Vec<Header>,
        timestamp: i64,
    ) -> Result<(), SerdeError> {
        let key = self.key_serde.deserialize_owned(topic, key)?;
        let value = self.value_serde.deserialize_owned(topic, value)?;
        self.ctx.advance_stream_time(timestamp);
        self.ctx.forward(Record { key, value, timestamp, headers });
        Ok(())
    }

    fn process_run(
        &mut self,
        task: &TaskShared,
        q: usize,
        from: usize,
        to: usize,
        take: bool,
    ) -> Result<(), (usize, SerdeError)> {
        let mut batch = RecordBatch::with_capacity(to.saturating_sub(from));
        let mut failed = None;
        {
            // Deserializers see only the bytes, never the task: the queue stays borrowed while
            // the batch is built and is released before anything is forwarded.
            let mut group = task.group.borrow_mut();
            let records = group.queues[q].records.iter_mut().enumerate().take(to).skip(from);
            for (pos, (raw, timestamp)) in records {
                let topic: &str = &raw.topic;
                let read = if take {
                    let (key, value) = (raw.key.take(), raw.value.take());
                    let headers = std::mem::take(&mut raw.headers);
                    self.key_serde.deserialize_owned(topic, key).and_then(|key| {
                        Ok((key, self.value_serde.deserialize_owned(topic, value)?, headers))
                    })
                } else {
                    self.key_serde.deserialize(topic, raw.key.as_ref()).and_then(|key| {
                        let value = self.value_serde.deserialize(topic, raw.value.as_ref())?;
                        Ok((key, value, raw.headers.clone()))
                    })
                };
                match read {
                    Ok((key, value, headers)) => {
                        self.ctx.advance_stream_time(timestamp);
                        let record = Record { key, value, timestamp, headers };
                        batch.push(pos as u32, record);
                    }
                    Err(e) => {
                        failed = Some((pos, e));
                        break;
                    }
                }
            }
        }
        if !batch.is_empty() {
            self.ctx.forward_batch(batch);
        }
        failed.map_or(Ok(()), Err)
    }
}
