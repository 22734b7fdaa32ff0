//! `map_values` on a table: a new value per key.

use std::sync::Arc;

use streams_core::{ProcessError, Processor, ProcessorContext, Record};

use crate::ktable::{Change, KTable};

struct TableMapValues<F> {
    f: Arc<F>,
}

impl<K, V, VR, F> Processor<K, Change<V>, K, Change<VR>> for TableMapValues<F>
where
    K: Clone + 'static,
    V: 'static,
    VR: Clone + 'static,
    F: Fn(V) -> VR + 'static,
{
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<K, Change<VR>>,
        r: Record<K, Change<V>>,
    ) -> Result<(), ProcessError> {
        let Change { new, old } = r.value;
        let change = Change::new(new.map(|v| (self.f)(v)), old.map(|v| (self.f)(v)));
        ctx.forward(Record {
            key: r.key,
            value: change,
            timestamp: r.timestamp,
            headers: r.headers,
        });
        Ok(())
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KTable<K, V> {
    /// The table with each value replaced by `f(value)` (`KTABLE-MAPVALUES-`); deletes stay
    /// deletes.
    pub fn map_values<VR: Clone + 'static>(
        &self,
        f: impl Fn(V) -> VR + Send + Sync + 'static,
    ) -> KTable<K, VR> {
        let name = self.name(None, "KTABLE-MAPVALUES-");
        let f = Arc::new(f);
        let node = self.then(name, move || TableMapValues { f: f.clone() });
        KTable::new(self.builder.clone(), node, None, self.key_serde.clone(), None)
    }
}
