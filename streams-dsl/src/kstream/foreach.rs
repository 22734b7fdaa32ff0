//! `foreach`: a terminal operation calling a function on each record.

use std::sync::Arc;

use streams_core::{ProcessError, Processor, ProcessorContext, Record};

use crate::config::Named;
use crate::kstream::KStream;

/// Consumes each record with `f`; forwards nothing.
pub(crate) struct ForEach<F> {
    pub(crate) f: Arc<F>,
}

impl<K, V, F> Processor<K, V, (), ()> for ForEach<F>
where
    K: 'static,
    V: 'static,
    F: Fn(&K, &V) + 'static,
{
    fn process(
        &mut self,
        _ctx: &mut ProcessorContext<(), ()>,
        r: Record<K, V>,
    ) -> Result<(), ProcessError> {
        (self.f)(&r.key, &r.value);
        Ok(())
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Calls `f` on each record; the stream ends here (`KSTREAM-FOREACH-`).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use streams_dsl::prelude::*;
    ///
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let sink = seen.clone();
    /// let builder = StreamsBuilder::new();
    /// builder.stream::<String, i32>("in").foreach(move |k, v| sink.lock().unwrap().push((k.clone(), *v)));
    /// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
    /// driver.input_topic::<String, i32>("in").pipe_input_at("a".into(), 1, 0)?;
    /// assert_eq!(*seen.lock().unwrap(), vec![("a".to_string(), 1)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn foreach(&self, f: impl Fn(&K, &V) + Send + Sync + 'static) {
        self.foreach_impl(None, f)
    }

    /// [`KStream::foreach`] with a processor name.
    pub fn foreach_named(&self, named: Named, f: impl Fn(&K, &V) + Send + Sync + 'static) {
        self.foreach_impl(Some(named), f)
    }

    fn foreach_impl(&self, named: Option<Named>, f: impl Fn(&K, &V) + Send + Sync + 'static) {
        let name = self.name(named, "KSTREAM-FOREACH-");
        let f = Arc::new(f);
        let _: KStream<(), ()> = self.then(name, move || ForEach { f: f.clone() });
    }
}
