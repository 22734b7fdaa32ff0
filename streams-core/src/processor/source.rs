//! Source nodes: deserialize raw records and hand them to the topology.

use std::cell::RefCell;
use std::rc::Rc;

use crate::error::{StreamsError, TopologyError};
use crate::processor::{ProcessorContext, RecordBatch};
use crate::task::shared::TaskShared;
use bytes::Bytes;

use crate::record::{Header, Record};
use crate::serde::{RawColumn, SerdeError, SerdeRegistry, SharedSerde};
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
    /// Deserializes the records at positions `from..to` of the task's queue `q` and forwards
    /// them in batches, a column at a time (one serde call per column part per batch); a record
    /// that does not deserialize ends a batch and goes to `failed` with its position (the
    /// records before it forwarded first), then the next batch starts after it. `take` moves
    /// each record's key, value and headers out of the queue (as
    /// [`process_taken`](RawInput::process_taken)) instead of cloning them. Stops early, with
    /// `Ok`, once the task has failed, and with `failed`'s error if it returns one.
    fn process_run(
        &mut self,
        task: &TaskShared,
        q: usize,
        from: usize,
        to: usize,
        take: bool,
        failed: &mut dyn FnMut(usize, SerdeError) -> Result<(), StreamsError>,
    ) -> Result<(), StreamsError>;
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
        mut from: usize,
        to: usize,
        take: bool,
        failed: &mut dyn FnMut(usize, SerdeError) -> Result<(), StreamsError>,
    ) -> Result<(), StreamsError> {
        // Keys that deserialized past a record whose value did not, and the error of the key
        // after them if one did not: the start of the next batch (their bytes may be gone).
        let mut carried: (Vec<K>, Option<SerdeError>) = (Vec::new(), None);
        while from < to {
            let (mut keys, mut key_error) = std::mem::take(&mut carried);
            let mut values = Vec::with_capacity(to - from);
            let mut timestamps = Vec::with_capacity(to - from);
            let mut headers = Vec::new();
            let value_error;
            {
                // Deserializers see only the bytes, never the task: the queue stays borrowed
                // while the columns are built and is released before anything is forwarded.
                let mut group = task.group.borrow_mut();
                let partition = &mut group.queues[q];
                if partition.records.len() <= from {
                    return Ok(());
                }
                let topic = partition.topic.clone();
                let queue = &mut partition.records;
                if key_error.is_none() {
                    let columns = queue
                        .parts_mut(from + keys.len(), to)
                        .map(|(records, range, _)| column(&mut records.keys[range], take));
                    key_error = read_column(&self.key_serde, &topic, columns, &mut keys);
                }
                // The values of the records whose keys deserialized.
                let columns = queue
                    .parts_mut(from, from + keys.len())
                    .map(|(records, range, _)| column(&mut records.values[range], take));
                value_error = read_column(&self.value_serde, &topic, columns, &mut values);
                let good = values.len();
                if value_error.is_some() {
                    // The record at `good` had a key but no value: its key goes, the keys
                    // after it wait for the next batch.
                    carried = (keys.split_off(good + 1), key_error.take());
                    keys.truncate(good);
                }
                // Headers only once a record has some (then one entry per record).
                for (records, range, ts) in queue.parts_mut(from, from + good) {
                    timestamps.extend_from_slice(ts);
                    if records.headers.is_empty() {
                        if !headers.is_empty() {
                            headers.resize_with(timestamps.len(), Vec::new);
                        }
                        continue;
                    }
                    headers.resize_with(timestamps.len() - ts.len(), Vec::new);
                    headers.extend(records.headers[range].iter_mut().map(|h| match take {
                        true => std::mem::take(h),
                        false => h.clone(),
                    }));
                }
            }
            let good = values.len();
            if let Some(&latest) = timestamps.iter().max() {
                self.ctx.advance_stream_time(latest);
            }
            if good > 0 {
                let batch =
                    RecordBatch::from_columns(keys, values, timestamps, headers, from as u32);
                self.ctx.forward_batch(batch);
            }
            if task.failed() {
                return Ok(());
            }
            let Some(e) = value_error.or(key_error) else { break };
            failed(from + good, e)?;
            from += good + 1;
        }
        Ok(())
    }
}

/// Keys or values of a part of a run: handed over (`take`) or lent.
fn column(bytes: &mut [Option<Bytes>], take: bool) -> RawColumn<'_> {
    match take {
        true => RawColumn::taken(bytes),
        false => RawColumn::lent(bytes),
    }
}

/// Deserializes `columns` (the keys, or the values, of consecutive records) into `out` with
/// `serde`, up to the first record that does not deserialize: its error.
fn read_column<'a, T: 'static>(
    serde: &SharedSerde<T>,
    topic: &str,
    columns: impl IntoIterator<Item = RawColumn<'a>>,
    out: &mut Vec<T>,
) -> Option<SerdeError> {
    for column in columns {
        if let Err((_, e)) = serde.deserialize_column(topic, column, out) {
            return Some(e);
        }
    }
    None
}
