//! The aggregation processor behind `count`, `reduce` and `aggregate` (Kafka's
//! `KStreamAggregate` / `KStreamReduce`).

use std::sync::Arc;

use streams_core::{
    ProcessError, Processor, ProcessorContext, Record, TimestampedKeyValueStore, ValueAndTimestamp,
};

use crate::ktable::Change;
use crate::ktable::flushed::Flushed;

/// One aggregation step: the key, the record's value, the current aggregate → the new aggregate.
pub(crate) type Step<K, V, VA> = dyn Fn(&K, V, Option<VA>) -> VA + Send + Sync;

pub(crate) struct Aggregate<K, V, VA> {
    store_name: Arc<str>,
    step: Arc<Step<K, V, VA>>,
    store: Option<TimestampedKeyValueStore<K, VA>>,
    flushed: Flushed,
    cached: bool,
}

impl<K, V, VA> Aggregate<K, V, VA> {
    pub(crate) fn new(store_name: Arc<str>, step: Arc<Step<K, V, VA>>) -> Self {
        Self { store_name, step, store: None, flushed: Flushed::default(), cached: false }
    }
}

impl<K: Clone + 'static, V: 'static, VA: Clone + 'static> Aggregate<K, V, VA> {
    /// Forwards what the store's cache wrote down since the last call.
    fn forward_flushed(
        &mut self,
        ctx: &mut ProcessorContext<K, Change<VA>>,
    ) -> Result<(), ProcessError> {
        match &self.store {
            Some(store) => self.flushed.forward(store, ctx),
            None => Ok(()),
        }
    }
}

impl<K: Clone + 'static, V: 'static, VA: Clone + 'static> Processor<K, V, K, Change<VA>>
    for Aggregate<K, V, VA>
{
    fn init(&mut self, ctx: &mut ProcessorContext<K, Change<VA>>) -> Result<(), ProcessError> {
        let store = ctx.timestamped_key_value_store::<K, VA>(&self.store_name)?;
        self.cached = self.flushed.listen(&store);
        self.store = Some(store);
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<K, Change<VA>>,
        r: Record<K, V>,
    ) -> Result<(), ProcessError> {
        let Some(store) = &self.store else { return Ok(()) };
        let step = &self.step;
        let value = r.value;
        let ts = r.timestamp;
        // The aggregate's timestamp is the latest of its records' (Kafka's KStreamAggregate).
        let Some((old, new)) = store.update(&r.key, !self.cached, |old| {
            let new_ts = old.as_ref().map_or(ts, |o| o.timestamp.max(ts));
            ValueAndTimestamp::new(step(&r.key, value, old.map(|o| o.value)), new_ts)
        })?
        else {
            tracing::debug!(store = %self.store_name, "skipping a record with a null key");
            return Ok(());
        };
        if self.cached {
            self.forward_flushed(ctx)
        } else {
            ctx.forward(Record {
                key: r.key,
                value: Change::new(Some(new.value), old.map(|o| o.value)),
                timestamp: new.timestamp,
                headers: r.headers,
            });
            Ok(())
        }
    }

    fn flush(&mut self, ctx: &mut ProcessorContext<K, Change<VA>>) -> Result<(), ProcessError> {
        self.forward_flushed(ctx)
    }
}
