//! `to_stream`: a table's updates as a stream of `(key, new value)`.

use streams_core::{ProcessError, Processor, ProcessorContext, Record};

use crate::kstream::KStream;
use crate::ktable::{Change, KTable};

struct ToStream;

impl<K: Clone + 'static, V: Clone + 'static> Processor<K, Change<V>, K, Option<V>> for ToStream {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<K, Option<V>>,
        r: Record<K, Change<V>>,
    ) -> Result<(), ProcessError> {
        ctx.forward(Record {
            key: r.key,
            value: r.value.new,
            timestamp: r.timestamp,
            headers: r.headers,
        });
        Ok(())
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KTable<K, V> {
    /// Every update of the table as a record: `Some(value)` for an update, `None` for a delete
    /// (`KTABLE-TOSTREAM-`). `.flat_map_values(|v| v)` keeps the updates only.
    pub fn to_stream(&self) -> KStream<K, Option<V>> {
        let name = self.name(None, "KTABLE-TOSTREAM-");
        let node = self.then(name, || ToStream);
        KStream::new(self.builder.clone(), node, self.key_serde.clone(), None)
    }
}
