//! `peek`: look at each record, pass it on unchanged.

use std::sync::Arc;

use streams_core::{ProcessError, Processor, ProcessorContext, Record};

use crate::config::Named;
use crate::kstream::KStream;

struct Peek<F> {
    f: Arc<F>,
}

impl<K, V, F> Processor<K, V> for Peek<F>
where
    K: Clone + 'static,
    V: Clone + 'static,
    F: Fn(&K, &V) + 'static,
{
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<K, V>,
        r: Record<K, V>,
    ) -> Result<(), ProcessError> {
        (self.f)(&r.key, &r.value);
        ctx.forward(r);
        Ok(())
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Calls `f` on each record and forwards it unchanged (`KSTREAM-PEEK-`).
    ///
    /// ```
    /// use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
    /// use streams_dsl::prelude::*;
    ///
    /// let seen = Arc::new(AtomicUsize::new(0));
    /// let counter = seen.clone();
    /// let builder = StreamsBuilder::new();
    /// builder.stream::<String, String>("in")
    ///     .peek(move |_, _| { counter.fetch_add(1, Ordering::SeqCst); })
    ///     .to("out");
    /// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
    /// driver.input_topic::<String, String>("in").pipe_input_at("k".into(), "v".into(), 0)?;
    /// assert_eq!(seen.load(Ordering::SeqCst), 1);
    /// assert_eq!(driver.output_topic::<String, String>("out").queue_size(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn peek(&self, f: impl Fn(&K, &V) + Send + Sync + 'static) -> KStream<K, V> {
        self.peek_impl(None, f)
    }

    /// [`KStream::peek`] with a processor name.
    pub fn peek_named(
        &self,
        named: Named,
        f: impl Fn(&K, &V) + Send + Sync + 'static,
    ) -> KStream<K, V> {
        self.peek_impl(Some(named), f)
    }

    fn peek_impl(
        &self,
        named: Option<Named>,
        f: impl Fn(&K, &V) + Send + Sync + 'static,
    ) -> KStream<K, V> {
        let name = self.name(named, "KSTREAM-PEEK-");
        let f = Arc::new(f);
        let next = self.then(name, move || Peek { f: f.clone() });
        self.same_shape(next)
    }
}
