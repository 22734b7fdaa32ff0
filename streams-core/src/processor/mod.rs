//! The processor API: user code that receives records one at a time, forwards records to its
//! children, and schedules punctuations (Kafka's `org.apache.kafka.streams.processor.api`).
//!
//! A [`Processor`] is created per task by the supplier given to
//! [`Topology::add_processor`](crate::Topology::add_processor), so it may keep per-task state in
//! its fields. Each call gets the task's [`ProcessorContext`], through which it forwards records
//! and reads the current record's metadata and the task's time.

pub(crate) mod batch;
pub(crate) mod context;
pub(crate) mod node;
pub(crate) mod sink;
pub(crate) mod source;

pub use batch::RecordBatch;
pub use context::{ProcessorContext, PunctuatorId};

use crate::record::Record;

/// What a processor's failure carries: any error. The task hands it to the processing error
/// handler (`StreamsConfig::processing_error_handler`), which fails the task or skips the record.
pub type ProcessError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// When a scheduled punctuation fires (Kafka's `PunctuationType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PunctuationType {
    /// By stream time: the largest record timestamp the task has seen. Aligned to 0, so the first
    /// punctuation happens as soon as the task has data; fires only when records arrive.
    StreamTime,
    /// By the system clock: first one interval after scheduling.
    WallClockTime,
}

/// A record processor with input type `(KIn, VIn)` and output type `(KOut, VOut)`.
///
/// ```
/// use streams_core::{Processor, ProcessorContext, ProcessError, Record};
///
/// /// Forwards each value's length, keyed as it came.
/// struct Lengths;
///
/// impl Processor<String, String, String, usize> for Lengths {
///     fn process(
///         &mut self,
///         ctx: &mut ProcessorContext<String, usize>,
///         record: Record<String, String>,
///     ) -> Result<(), ProcessError> {
///         let len = record.value.len();
///         ctx.forward(record.with_value(len));
///         Ok(())
///     }
/// }
/// ```
pub trait Processor<KIn, VIn, KOut = KIn, VOut = VIn>: 'static {
    /// Called once when the task starts, before any record.
    fn init(&mut self, ctx: &mut ProcessorContext<KOut, VOut>) -> Result<(), ProcessError> {
        let _ = ctx;
        Ok(())
    }

    /// Processes one record.
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<KOut, VOut>,
        record: Record<KIn, VIn>,
    ) -> Result<(), ProcessError>;

    /// Whether this processor may be given a run of records at once, through
    /// [`process_batch`](Processor::process_batch). A processor that says `true` promises that
    /// what it does with a record depends on the record alone: it reads no record metadata, no
    /// store, no time from its context, schedules nothing, and only forwards (with
    /// [`ProcessorContext::forward`] or [`ProcessorContext::forward_batch`]). When every
    /// processor of a sub-topology says so and each has at most one child, its tasks move the
    /// records of one partition through it a run at a time, with the same results and the same
    /// output order as one at a time. `false` by default.
    const BATCHES: bool = false;

    /// Processes records that arrived together, in order (only called when
    /// [`BATCHES`](Processor::BATCHES) is `true`). The default calls
    /// [`process`](Processor::process) for each.
    fn process_batch(
        &mut self,
        ctx: &mut ProcessorContext<KOut, VOut>,
        records: RecordBatch<KIn, VIn>,
    ) -> Result<(), ProcessError> {
        for (_, record) in records.into_entries() {
            self.process(ctx, record)?;
        }
        Ok(())
    }

    /// A punctuation scheduled with [`ProcessorContext::schedule`] is due; `timestamp` is the
    /// current stream time or wall-clock time, by the schedule's type.
    fn punctuate(
        &mut self,
        ctx: &mut ProcessorContext<KOut, VOut>,
        id: PunctuatorId,
        timestamp: i64,
    ) -> Result<(), ProcessError> {
        let _ = (ctx, id, timestamp);
        Ok(())
    }

    /// Called at each commit, after the task's stores were flushed: a processor that buffers
    /// (for example updates its store's record cache reported) forwards them now.
    fn flush(&mut self, ctx: &mut ProcessorContext<KOut, VOut>) -> Result<(), ProcessError> {
        let _ = ctx;
        Ok(())
    }

    /// Called once when the task closes (on shutdown, or when a rebalance moves it away).
    fn close(&mut self) {}
}
