//! The windowed aggregation processor behind `windowed_by(..).count()`, `reduce` and `aggregate`
//! (Kafka's `KStreamWindowAggregate`).

use std::sync::Arc;

use streams_core::{
    ProcessError, Processor, ProcessorContext, Record, TimestampedWindowStore, ValueAndTimestamp,
};

use crate::kgrouped::aggregate::Step;
use crate::ktable::Change;
use crate::ktable::flushed::Flushed;
use crate::windows::{TimeWindow, TimeWindows, Windowed};

pub(crate) struct WindowAggregate<K, V, VA> {
    store_name: Arc<str>,
    windows: TimeWindows,
    step: Arc<Step<K, V, VA>>,
    store: Option<TimestampedWindowStore<K, VA>>,
    /// What the store's cache wrote down, waiting to be forwarded.
    pending: Flushed,
    cached: bool,
    /// The largest record time seen (Kafka's `observedStreamTime`).
    observed: i64,
}

impl<K, V, VA> WindowAggregate<K, V, VA> {
    pub(crate) fn new(
        store_name: Arc<str>,
        windows: TimeWindows,
        step: Arc<Step<K, V, VA>>,
    ) -> Self {
        Self {
            store_name,
            windows,
            step,
            store: None,
            pending: Flushed::default(),
            cached: false,
            observed: -1,
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static, VA: Clone + 'static> WindowAggregate<K, V, VA> {
    fn window(&self, start: i64) -> TimeWindow {
        TimeWindow { start, end: start.saturating_add(self.windows.size_ms) }
    }

    /// Forwards what the store's cache wrote down since the last call, each update stamped with
    /// its new value's timestamp (a delete with the stream time).
    fn forward_flushed(
        &mut self,
        ctx: &mut ProcessorContext<Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessError> {
        let Some(store) = &self.store else { return Ok(()) };
        let flushed = self.pending.take();
        let now = ctx.current_stream_time_ms().max(0);
        for (k, new, old) in flushed {
            let (key, start) = store.windowed_key_from_bytes(&k)?;
            let new = new.map(|b| store.value_from_bytes(&b)).transpose()?;
            let old = old.map(|b| store.value_from_bytes(&b)).transpose()?;
            let ts = new.as_ref().map_or(now, |n| n.timestamp);
            let change = Change::new(new.map(|n| n.value), old.map(|o| o.value));
            let window = self.window(start);
            ctx.forward(Record::new(Windowed { key, window }, change, ts));
        }
        Ok(())
    }
}

impl<K: Clone + 'static, V: Clone + 'static, VA: Clone + 'static>
    Processor<K, V, Windowed<K>, Change<VA>> for WindowAggregate<K, V, VA>
{
    fn init(
        &mut self,
        ctx: &mut ProcessorContext<Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessError> {
        let store = ctx.timestamped_window_store::<K, VA>(&self.store_name)?;
        self.cached = store.set_flush_listener(self.pending.listener(), true);
        self.store = Some(store);
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<Windowed<K>, Change<VA>>,
        r: Record<K, V>,
    ) -> Result<(), ProcessError> {
        let Some(store) = &self.store else { return Ok(()) };
        if store.is_null_key(&r.key)? {
            tracing::debug!(store = %self.store_name, "skipping a record with a null key");
            return Ok(());
        }
        self.observed = self.observed.max(r.timestamp);
        let close_time = self.observed - self.windows.grace_ms;
        let mut updates = Vec::new();
        for start in self.windows.window_starts_for(r.timestamp) {
            let end = start.saturating_add(self.windows.size_ms);
            if end <= close_time {
                tracing::debug!(
                    store = %self.store_name,
                    timestamp = r.timestamp,
                    window_start = start,
                    "skipping a record for a closed window"
                );
                continue;
            }
            let old = store.fetch(&r.key, start)?;
            // A window's timestamp is the latest of its records' (Kafka's
            // KStreamWindowAggregate).
            let ts = old.as_ref().map_or(r.timestamp, |o| o.timestamp.max(r.timestamp));
            let old = old.map(|o| o.value);
            let new = (self.step)(&r.key, r.value.clone(), old.clone());
            store.put(&r.key, Some(ValueAndTimestamp::new(new.clone(), ts)), start)?;
            updates.push((start, new, old, ts));
        }
        if self.cached {
            return self.forward_flushed(ctx);
        }
        for (start, new, old, ts) in updates {
            let window = self.window(start);
            ctx.forward(Record {
                key: Windowed { key: r.key.clone(), window },
                value: Change::new(Some(new), old),
                timestamp: ts,
                headers: r.headers.clone(),
            });
        }
        Ok(())
    }

    fn flush(
        &mut self,
        ctx: &mut ProcessorContext<Windowed<K>, Change<VA>>,
    ) -> Result<(), ProcessError> {
        self.forward_flushed(ctx)
    }
}
