//! `print`: a terminal operation writing each record as `[label]: key, value`.

use std::fs::OpenOptions;
use std::io::Write;
use std::sync::Arc;

use parking_lot::Mutex;
use streams_core::{ProcessError, Processor, ProcessorContext, Record};

use crate::config::{PrintTarget, Printed};
use crate::kstream::KStream;

enum Out {
    Stdout,
    File(Arc<Mutex<std::fs::File>>),
    /// The file could not be opened: the task fails when it starts.
    Unopened(Arc<str>),
}

struct Print<K, V> {
    label: Arc<str>,
    out: Out,
    _types: std::marker::PhantomData<fn(K, V)>,
}

impl<K: std::fmt::Debug + 'static, V: std::fmt::Debug + 'static> Processor<K, V, (), ()>
    for Print<K, V>
{
    fn init(&mut self, _ctx: &mut ProcessorContext<(), ()>) -> Result<(), ProcessError> {
        match &self.out {
            Out::Unopened(why) => Err(why.to_string().into()),
            _ => Ok(()),
        }
    }

    fn process(
        &mut self,
        _ctx: &mut ProcessorContext<(), ()>,
        r: Record<K, V>,
    ) -> Result<(), ProcessError> {
        let line = format!("[{}]: {:?}, {:?}\n", self.label, r.key, r.value);
        match &self.out {
            Out::Stdout => std::io::stdout().lock().write_all(line.as_bytes())?,
            Out::File(f) => f.lock().write_all(line.as_bytes())?,
            Out::Unopened(why) => return Err(why.to_string().into()),
        }
        Ok(())
    }
}

impl<K: Clone + std::fmt::Debug + 'static, V: Clone + std::fmt::Debug + 'static> KStream<K, V> {
    /// Writes each record as `[label]: key, value` (keys and values in their `Debug` form) to
    /// standard output or a file, which is emptied first as Kafka's `Printed.toFile` does
    /// (`KSTREAM-PRINTER-`). A file that cannot be opened fails the
    /// task when it starts; a failed write is a processing error.
    ///
    /// ```
    /// use streams_dsl::prelude::*;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("out.txt");
    /// let builder = StreamsBuilder::new();
    /// builder.stream::<String, i64>("in").print(Printed::to_file(&path).with_label("amounts"));
    /// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
    /// driver.input_topic::<String, i64>("in").pipe_input_at("a".into(), 5, 0)?;
    /// assert_eq!(std::fs::read_to_string(&path)?, "[amounts]: \"a\", 5\n");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn print(&self, printed: Printed) {
        let name = self.name(printed.name.map(crate::config::Named), "KSTREAM-PRINTER-");
        let label: Arc<str> = Arc::from(printed.label.unwrap_or_else(|| self.node.clone()));
        let file: Option<Result<Arc<Mutex<std::fs::File>>, Arc<str>>> = match &printed.target {
            PrintTarget::Stdout => None,
            PrintTarget::File(path) => Some(
                OpenOptions::new()
                    .create(true)
                    .write(true)
                    .truncate(true)
                    .open(path)
                    .map(|f| Arc::new(Mutex::new(f)))
                    .map_err(|e| Arc::from(format!("print: cannot open {}: {e}", path.display()))),
            ),
        };
        let _: KStream<(), ()> = self.then(name, move || Print::<K, V> {
            label: label.clone(),
            out: match &file {
                None => Out::Stdout,
                Some(Ok(f)) => Out::File(f.clone()),
                Some(Err(why)) => Out::Unopened(why.clone()),
            },
            _types: std::marker::PhantomData,
        });
    }
}
