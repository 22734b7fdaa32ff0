//! The streams runtime: topologies, tasks pinned to partitions, stream threads, commits, the
//! processor API and a test driver.
//!
//! A [`Topology`] is a graph of sources, processors and sinks; it splits into sub-topologies, and
//! each sub-topology runs as one task per partition of its input topics (task `<sub>_<partition>`).
//! A task processes its records one at a time in timestamp order, forwards them through its
//! processors, and writes what reaches a sink. [`TopologyTestDriver`] runs a topology
//! synchronously for tests; [`KafkaStreams`] runs it on the embedded broker with stream threads
//! in a consumer group. Applications usually build topologies with the DSL of `streams-dsl`.
//!
//! ```
//! use streams_core::{Processor, ProcessorContext, ProcessError, Record, StreamsConfig, Topology,
//!     TopologyTestDriver};
//!
//! struct Greet;
//! impl Processor<String, String> for Greet {
//!     fn process(&mut self, ctx: &mut ProcessorContext<String, String>, r: Record<String, String>)
//!         -> Result<(), ProcessError> {
//!         let v = format!("hello, {}", r.value);
//!         ctx.forward(r.with_value(v));
//!         Ok(())
//!     }
//! }
//!
//! let mut topology = Topology::new();
//! topology
//!     .add_source::<String, String>("names", &["names"]).unwrap()
//!     .add_processor("greet", || Greet, &["names"]).unwrap()
//!     .add_sink::<String, String>("greetings", "greetings", &["greet"]).unwrap();
//! let driver = TopologyTestDriver::new(topology, StreamsConfig::new("greeter")).unwrap();
//! driver.input_topic::<String, String>("names").pipe_input_at("k".into(), "ada".into(), 1).unwrap();
//! assert_eq!(driver.output_topic::<String, String>("greetings").read_value().as_deref(), Some("hello, ada"));
//! ```

mod app;
mod client;
mod config;
mod error;
mod handlers;
mod processor;
mod record;
mod serde;
mod state;
mod task;
mod test_driver;
mod thread;
mod time;
mod topology;

pub use app::{
    HostInfo, KafkaStreams, KeyQueryMetadata, State, StateListener, StreamThreadExceptionResponse,
    StreamsMetadata, ThreadMetadata, UncaughtExceptionHandler,
};
pub use config::{ProcessingGuarantee, StreamsConfig};
pub use error::{StreamsError, TopologyError};
pub use handlers::{
    DeadLetterQueue, ErrorContext, ErrorHandler, ErrorKind, ErrorResponse, LogAndContinue,
    LogAndFail,
};
pub use processor::{
    ProcessError, Processor, ProcessorContext, PunctuationType, PunctuatorId, RecordBatch,
};
pub use record::{Header, Record, RecordMetadata};
pub use serde::{
    BytesSerde, F32Serde, F64Serde, I16Serde, I32Serde, I64Serde, RawBytes, RawColumn,
    RawColumnIter, Serde, SerdeError, SerdeRegistry, Serdes, SharedSerde, StringSerde, UnitSerde,
};
pub use state::{
    KeyValueStore, LagInfo, LoggingRestoreListener, NO_TIMESTAMP, ReadOnlyKeyValueStore,
    ReadOnlyWindowStore, StateRestoreListener, StoreBuilder, StoreQueryParameters,
    TimestampedKeyValueStore, TimestampedWindowStore, ValueAndTimestamp, WindowStore,
};
pub use task::TaskId;
pub use test_driver::{TestInputTopic, TestOutputTopic, TestRecord, TopologyTestDriver};
pub use time::{
    Clock, Extracted, FailOnInvalidTimestamp, LogAndSkipOnInvalidTimestamp, RawRecord, RawRecords,
    SystemClock, TimestampExtractor, UsePartitionTimeOnInvalidTimestamp,
    WallclockTimestampExtractor,
};
pub use topology::{
    NodeDescription, NodeDescriptionKind, Sink, Source, SubTopologyDescription, Topology,
    TopologyDescription,
};
