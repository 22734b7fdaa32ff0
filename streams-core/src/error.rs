//! Errors, each saying what went wrong and what the caller can do about it.

use crate::processor::ProcessError;
use crate::serde::SerdeError;
use crate::task::TaskId;

/// A topology that cannot be built or run as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TopologyError {
    /// Two nodes with one name.
    #[error("a node called `{0}` is already in the topology; node names must be unique")]
    DuplicateName(String),
    /// A parent named that is not in the topology (parents must be added before children).
    #[error(
        "node `{child}` names parent `{parent}`, which is not in the topology (add parents first)"
    )]
    UnknownParent {
        /// The node being added.
        child: String,
        /// The missing parent.
        parent: String,
    },
    /// A sink cannot be a parent.
    #[error("sink `{0}` cannot have children")]
    SinkAsParent(String),
    /// A processor or sink with no parent.
    #[error("node `{0}` needs at least one parent")]
    NoParent(String),
    /// A parent forwards records of another type than the child takes.
    #[error("node `{child}` takes {expected} but its parent `{parent}` forwards {found}")]
    TypeMismatch {
        /// The child.
        child: String,
        /// The parent.
        parent: String,
        /// What the child takes.
        expected: &'static str,
        /// What the parent forwards.
        found: &'static str,
    },
    /// One topic read by two sources (Kafka's "Topic has already been registered by another source").
    #[error("topic `{topic}` is already read by source `{source_node}`")]
    TopicReadTwice {
        /// The topic.
        topic: String,
        /// The source already reading it.
        source_node: String,
    },
    /// A source with neither topics nor a pattern.
    #[error("source `{0}` reads no topic")]
    NoTopics(String),
    /// A pattern that does not compile.
    #[error("source `{source_node}` has an invalid pattern: {message}")]
    InvalidPattern {
        /// The source.
        source_node: String,
        /// Why the pattern is invalid.
        message: String,
    },
    /// No serde given and none registered for the type.
    #[error(
        "{node} needs a serde for `{type_name}`: give one to the operation (e.g. Consumed/Produced) \
         or register a default with StreamsConfig::default_serde"
    )]
    NoSerde {
        /// The source or sink.
        node: String,
        /// The type with no serde.
        type_name: &'static str,
    },
    /// Two stores with one name.
    #[error("a state store called `{0}` is already in the topology")]
    DuplicateStore(String),
    /// A processor connected to a store the topology does not declare.
    #[error(
        "processor `{processor}` uses store `{store}`, which is not declared (add it with add_state_store)"
    )]
    UnknownStore {
        /// The processor.
        processor: String,
        /// The missing store.
        store: String,
    },
    /// A store declared with settings that cannot work.
    #[error("store `{store}`: {message}")]
    InvalidStore {
        /// The store.
        store: String,
        /// What is wrong.
        message: String,
    },
    /// A global store with a changelog (its source topic is its changelog).
    #[error("global store `{0}` must have logging disabled: its source topic is its changelog")]
    GlobalStoreLogged(String),
    /// A topology with nothing to read.
    #[error("the topology has no source")]
    Empty,
}

/// An error of a running application or test driver.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamsError {
    /// The topology cannot run.
    #[error(transparent)]
    Topology(#[from] TopologyError),
    /// A record could not be deserialized and the deserialization handler said to fail.
    #[error("task {task}: cannot deserialize the record at {topic}-{partition}@{offset}: {error}")]
    Deserialization {
        /// The task.
        task: TaskId,
        /// Source topic.
        topic: String,
        /// Source partition.
        partition: i32,
        /// Source offset.
        offset: i64,
        /// The serde's complaint.
        error: SerdeError,
    },
    /// A processor failed and the processing handler said to fail.
    #[error("task {task}: processor `{node}` failed{at}: {error}")]
    Processing {
        /// The task.
        task: TaskId,
        /// The processor that failed.
        node: String,
        /// Where the input record came from, when there was one.
        at: String,
        /// The processor's error.
        error: ProcessError,
    },
    /// Output could not be serialized or written and the production handler said to fail.
    #[error("task {task}: cannot write to topic `{topic}` from sink `{node}`: {error}")]
    Production {
        /// The task.
        task: TaskId,
        /// The sink.
        node: String,
        /// The topic.
        topic: String,
        /// What went wrong.
        error: String,
    },
    /// A record's timestamp was invalid and the extractor said to fail.
    #[error("task {task}: {message}")]
    InvalidTimestamp {
        /// The task.
        task: TaskId,
        /// The extractor's explanation.
        message: String,
    },
    /// A state store could not be opened, restored, flushed or checkpointed.
    #[error("state: {0}")]
    State(String),
    /// The broker or client failed.
    #[error("broker: {0}")]
    Broker(#[from] broker_embedded::Error),
    /// A setting is wrong.
    #[error("configuration: {0}")]
    Config(String),
    /// The call is not allowed in the application's current state.
    #[error("{0}")]
    IllegalState(String),
    /// An interactive query cannot be answered here now (Kafka's `InvalidStateStoreException`):
    /// the store is unknown, not hosted by this instance, or its task is migrating or restoring.
    /// Retry after the application is running again, or ask the instance that hosts the key.
    #[error("state store query: {0}")]
    InvalidStateStore(String),
}
