//! `filter` and `filter_not` on a table: keys whose value fails the predicate leave the table.

use std::sync::Arc;

use streams_core::{ProcessError, Processor, ProcessorContext, Record};

use crate::ktable::{Change, KTable};

struct TableFilter<F> {
    predicate: Arc<F>,
    keep: bool,
}

impl<K, V, F> Processor<K, Change<V>, K, Change<V>> for TableFilter<F>
where
    K: Clone + 'static,
    V: Clone + 'static,
    F: Fn(&K, &V) -> bool + 'static,
{
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<K, Change<V>>,
        r: Record<K, Change<V>>,
    ) -> Result<(), ProcessError> {
        let pass = |v: Option<V>| v.filter(|v| (self.predicate)(&r.key, v) == self.keep);
        let new = pass(r.value.new.clone());
        let old = pass(r.value.old.clone());
        // Neither the new nor the old value is in the filtered table: nothing changed there.
        if new.is_none() && old.is_none() {
            return Ok(());
        }
        ctx.forward(Record {
            key: r.key,
            value: Change::new(new, old),
            timestamp: r.timestamp,
            headers: r.headers,
        });
        Ok(())
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KTable<K, V> {
    /// The table of the entries for which `predicate` holds (`KTABLE-FILTER-`): a key whose new
    /// value fails it is deleted downstream.
    pub fn filter(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
    ) -> KTable<K, V> {
        self.filter_impl(predicate, true)
    }

    /// The table of the entries for which `predicate` does not hold.
    pub fn filter_not(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
    ) -> KTable<K, V> {
        self.filter_impl(predicate, false)
    }

    fn filter_impl(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
        keep: bool,
    ) -> KTable<K, V> {
        let name = self.name(None, "KTABLE-FILTER-");
        let predicate = Arc::new(predicate);
        let node = self.then(name, move || TableFilter { predicate: predicate.clone(), keep });
        KTable::new(
            self.builder.clone(),
            node,
            None,
            self.key_serde.clone(),
            self.value_serde.clone(),
        )
    }
}
