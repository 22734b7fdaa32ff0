//! `StreamsBuilder::table`: a topic read as a table, materialized in a store (Kafka's
//! `KTableSource`).

use std::sync::Arc;

use streams_core::{
    ProcessError, Processor, ProcessorContext, Record, TimestampedKeyValueStore, ValueAndTimestamp,
};

use crate::ktable::Change;
use crate::ktable::flushed::Flushed;

/// Upserts each record into the table's store (a null value deletes) and forwards the change.
pub(crate) struct TableSource<K, V> {
    pub(crate) store_name: Arc<str>,
    pub(crate) store: Option<TimestampedKeyValueStore<K, V>>,
    pub(crate) flushed: Flushed,
    pub(crate) cached: bool,
}

impl<K, V> TableSource<K, V> {
    pub(crate) fn new(store_name: Arc<str>) -> Self {
        Self { store_name, store: None, flushed: Flushed::default(), cached: false }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> TableSource<K, V> {
    fn forward_flushed(
        &mut self,
        ctx: &mut ProcessorContext<K, Change<V>>,
    ) -> Result<(), ProcessError> {
        match &self.store {
            Some(store) => self.flushed.forward(store, ctx),
            None => Ok(()),
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> Processor<K, Option<V>, K, Change<V>>
    for TableSource<K, V>
{
    fn init(&mut self, ctx: &mut ProcessorContext<K, Change<V>>) -> Result<(), ProcessError> {
        let store = ctx.timestamped_key_value_store::<K, V>(&self.store_name)?;
        self.cached = self.flushed.listen(&store);
        self.store = Some(store);
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<K, Change<V>>,
        r: Record<K, Option<V>>,
    ) -> Result<(), ProcessError> {
        let Some(store) = &self.store else { return Ok(()) };
        if store.is_null_key(&r.key)? {
            return Ok(());
        }
        let old = store.get(&r.key)?.map(|o| o.value);
        match &r.value {
            Some(v) => store.put(&r.key, ValueAndTimestamp::new(v.clone(), r.timestamp))?,
            None => {
                store.delete(&r.key)?;
            }
        }
        if self.cached {
            self.forward_flushed(ctx)
        } else {
            ctx.forward(Record {
                key: r.key,
                value: Change::new(r.value, old),
                timestamp: r.timestamp,
                headers: r.headers,
            });
            Ok(())
        }
    }

    fn flush(&mut self, ctx: &mut ProcessorContext<K, Change<V>>) -> Result<(), ProcessError> {
        self.forward_flushed(ctx)
    }
}
