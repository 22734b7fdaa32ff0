//! The aggregation processor behind a grouped table's `count`, `reduce` and `aggregate` (Kafka's
//! `KTableAggregate` / `KTableReduce`): each incoming change first subtracts its old value from
//! the key's aggregate, then adds its new value.

use std::sync::Arc;

use streams_core::{
    ProcessError, Processor, ProcessorContext, Record, TimestampedKeyValueStore, ValueAndTimestamp,
};

use crate::ktable::Change;
use crate::ktable::flushed::Flushed;

/// Adds a value to a key's aggregate (`None`: the key has none yet).
pub(crate) type Adder<K, V, VA> = dyn Fn(&K, V, Option<VA>) -> VA + Send + Sync;

/// Takes a value out of a key's aggregate.
pub(crate) type Subtractor<K, V, VA> = dyn Fn(&K, V, VA) -> VA + Send + Sync;

pub(crate) struct TableAggregate<K, V, VA> {
    store_name: Arc<str>,
    adder: Arc<Adder<K, V, VA>>,
    subtractor: Arc<Subtractor<K, V, VA>>,
    store: Option<TimestampedKeyValueStore<K, VA>>,
    flushed: Flushed,
    cached: bool,
}

impl<K, V, VA> TableAggregate<K, V, VA> {
    pub(crate) fn new(
        store_name: Arc<str>,
        adder: Arc<Adder<K, V, VA>>,
        subtractor: Arc<Subtractor<K, V, VA>>,
    ) -> Self {
        Self {
            store_name,
            adder,
            subtractor,
            store: None,
            flushed: Flushed::default(),
            cached: false,
        }
    }
}

impl<K: Clone + 'static, V: 'static, VA: Clone + 'static> TableAggregate<K, V, VA> {
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

impl<K: Clone + 'static, V: 'static, VA: Clone + 'static> Processor<K, Change<V>, K, Change<VA>>
    for TableAggregate<K, V, VA>
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
        r: Record<K, Change<V>>,
    ) -> Result<(), ProcessError> {
        let Some(store) = &self.store else { return Ok(()) };
        let Change { new, old } = r.value;
        if new.is_none() && old.is_none() {
            return Ok(());
        }
        if store.is_null_key(&r.key)? {
            tracing::debug!(store = %self.store_name, "skipping a table change with a null key");
            return Ok(());
        }
        let stored = store.get(&r.key)?;
        // The aggregate's timestamp: the change's, or the latest of it and the existing
        // aggregate's (Kafka's KTableAggregate).
        let new_ts = stored.as_ref().map_or(r.timestamp, |a| a.timestamp.max(r.timestamp));
        let old_agg = stored.map(|a| a.value);
        // Subtract first: an old value only counts against an aggregate that exists.
        let intermediate = match (old, old_agg.clone()) {
            (Some(v), Some(agg)) => Some((self.subtractor)(&r.key, v, agg)),
            (_, agg) => agg,
        };
        let new_agg = match new {
            Some(v) => (self.adder)(&r.key, v, intermediate),
            // A subtraction from nothing leaves nothing: no update.
            None => match intermediate {
                Some(agg) => agg,
                None => return Ok(()),
            },
        };
        store.put(&r.key, ValueAndTimestamp::new(new_agg.clone(), new_ts))?;
        if self.cached {
            self.forward_flushed(ctx)
        } else {
            ctx.forward(Record {
                key: r.key,
                value: Change::new(Some(new_agg), old_agg),
                timestamp: new_ts,
                headers: r.headers,
            });
            Ok(())
        }
    }

    fn flush(&mut self, ctx: &mut ProcessorContext<K, Change<VA>>) -> Result<(), ProcessError> {
        self.forward_flushed(ctx)
    }
}
