//! Error handlers: what happens to a record that cannot be deserialized, processed or written.
//!
//! The default for all three is to fail ([`LogAndFail`]), as in Kafka Streams. [`LogAndContinue`]
//! skips the bad record; [`DeadLetterQueue`] skips it and writes its original bytes, with headers
//! saying what went wrong, to a dead-letter topic (Kafka's KIP-1034 layout). Either way the records
//! around the bad one are processed as usual.

use crate::task::TaskId;
use crate::time::RawRecord;

/// Which step failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The key or value could not be deserialized.
    Deserialization,
    /// A processor returned an error.
    Processing,
    /// A sink could not serialize or write the record.
    Production,
}

/// What a handler is told about a failure.
#[derive(Debug)]
pub struct ErrorContext<'a> {
    /// Which step failed.
    pub kind: ErrorKind,
    /// The task.
    pub task: TaskId,
    /// The node that failed (source, processor or sink).
    pub node: &'a str,
    /// The input record being processed, as read (absent inside a punctuation).
    pub record: Option<&'a RawRecord>,
    /// The error.
    pub error: &'a (dyn std::error::Error + 'static),
}

/// A handler's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorResponse {
    /// Stop the task with the error (the stream thread's uncaught-error handler takes over).
    Fail,
    /// Skip the record and go on.
    Continue,
    /// Write the input record to this dead-letter topic, then go on.
    DeadLetter {
        /// The topic.
        topic: String,
    },
}

/// Decides what happens after a failure (Kafka's `DeserializationExceptionHandler`,
/// `ProcessingExceptionHandler` and `ProductionExceptionHandler` in one shape).
pub trait ErrorHandler: Send + Sync + 'static {
    /// The decision for this failure.
    fn handle(&self, ctx: &ErrorContext<'_>) -> ErrorResponse;
    /// Whether [`handle`](ErrorHandler::handle) reads the key, value or headers of
    /// [`ErrorContext::record`] (or answers with a dead letter, which carries them). `true` unless
    /// overridden; when every configured handler says `false`, sources hand a record's bytes to
    /// the deserializers instead of sharing them, and the context's record then has them empty.
    fn reads_record_bytes(&self) -> bool {
        true
    }
}

/// Logs the failure and stops the task (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogAndFail;

/// Logs the failure and skips the record.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogAndContinue;

/// Logs the failure, writes the input record to a dead-letter topic and skips it.
#[derive(Debug, Clone)]
pub struct DeadLetterQueue {
    topic: String,
}

impl DeadLetterQueue {
    /// Dead letters go to `topic`.
    pub fn new(topic: impl Into<String>) -> Self {
        Self { topic: topic.into() }
    }
}

fn log(ctx: &ErrorContext<'_>, action: &str) {
    let (topic, partition, offset) = match ctx.record {
        Some(r) => (r.topic.to_string(), r.partition, r.offset),
        None => (String::new(), -1, -1),
    };
    tracing::warn!(
        kind = ?ctx.kind, task = %ctx.task, node = ctx.node, topic, partition, offset,
        error = %ctx.error, "{action}"
    );
}

impl ErrorHandler for LogAndFail {
    fn handle(&self, ctx: &ErrorContext<'_>) -> ErrorResponse {
        log(ctx, "failing the task on a bad record");
        ErrorResponse::Fail
    }
    fn reads_record_bytes(&self) -> bool {
        false
    }
}

impl ErrorHandler for LogAndContinue {
    fn handle(&self, ctx: &ErrorContext<'_>) -> ErrorResponse {
        log(ctx, "skipping a bad record");
        ErrorResponse::Continue
    }
    fn reads_record_bytes(&self) -> bool {
        false
    }
}

impl ErrorHandler for DeadLetterQueue {
    fn handle(&self, ctx: &ErrorContext<'_>) -> ErrorResponse {
        log(ctx, "sending a bad record to the dead-letter topic");
        ErrorResponse::DeadLetter { topic: self.topic.clone() }
    }
}

/// Header names of a dead-letter record (Kafka's KIP-1034).
pub(crate) mod dlq_headers {
    pub(crate) const EXCEPTION: &str = "__streams.errors.exception";
    pub(crate) const MESSAGE: &str = "__streams.errors.message";
    pub(crate) const TOPIC: &str = "__streams.errors.topic";
    pub(crate) const PARTITION: &str = "__streams.errors.partition";
    pub(crate) const OFFSET: &str = "__streams.errors.offset";
}
