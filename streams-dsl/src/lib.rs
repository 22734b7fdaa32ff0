//! The typed DSL applications import: [`StreamsBuilder`], [`KStream`], serdes, and (in the
//! [`prelude`]) everything an application needs in one `use`.
//!
//! Operators follow Kafka Streams: names, generated processor names (`KSTREAM-FILTER-0000000002`),
//! repartition topics and `describe()` output match, so a topology reads the same as its Java
//! twin. Each operator lives in its own file under `kstream/`, with its processor and a runnable
//! example.
//!
//! ```
//! use streams_dsl::prelude::*;
//!
//! let builder = StreamsBuilder::new();
//! builder
//!     .stream::<String, String>("input")
//!     .map_values(|v| v.to_uppercase())
//!     .filter(|_, v| !v.is_empty())
//!     .to("output");
//! let topology = builder.build()?;
//! assert_eq!(
//!     topology.describe().to_string(),
//!     "Topologies:
//!    Sub-topology: 0
//!     Source: KSTREAM-SOURCE-0000000000 (topics: [input])
//!       --> KSTREAM-MAPVALUES-0000000001
//!     Processor: KSTREAM-MAPVALUES-0000000001 (stores: [])
//!       --> KSTREAM-FILTER-0000000002
//!       <-- KSTREAM-SOURCE-0000000000
//!     Processor: KSTREAM-FILTER-0000000002 (stores: [])
//!       --> KSTREAM-SINK-0000000003
//!       <-- KSTREAM-MAPVALUES-0000000001
//!     Sink: KSTREAM-SINK-0000000003 (topic: output)
//!       <-- KSTREAM-FILTER-0000000002
//!
//! "
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod builder;
mod config;
mod global_ktable;
mod kgrouped;
mod kgrouped_table;
mod kstream;
mod ktable;
mod materialized;
mod serdes;
mod windows;

pub use builder::StreamsBuilder;
pub use config::{Consumed, Named, Printed, Produced, Repartitioned};
pub use global_ktable::GlobalKTable;
pub use kgrouped::{KGroupedStream, TimeWindowedKStream};
pub use kgrouped_table::KGroupedTable;
pub use kstream::{Branched, BranchedKStream, KStream};
pub use ktable::{Change, KTable};
pub use materialized::{Grouped, Materialized};
pub use serdes::{BincodeSerde, JsonSerde, ProstSerde};
pub use windows::{TimeWindow, TimeWindows, Windowed, WindowedSerde};

/// Everything an application needs, in one `use streams_dsl::prelude::*;`.
pub mod prelude {
    pub use broker_embedded::{Broker, BrokerConfig, NewTopic};
    pub use bytes::Bytes;

    pub use crate::{
        BincodeSerde, Branched, BranchedKStream, Change, Consumed, GlobalKTable, Grouped,
        JsonSerde, KGroupedStream, KGroupedTable, KStream, KTable, Materialized, Named, Printed,
        Produced, ProstSerde, Repartitioned, StreamsBuilder, TimeWindow, TimeWindowedKStream,
        TimeWindows, Windowed, WindowedSerde,
    };
    pub use streams_core::{
        BytesSerde, DeadLetterQueue, ErrorContext, ErrorHandler, ErrorKind, ErrorResponse,
        Extracted, F32Serde, F64Serde, FailOnInvalidTimestamp, Header, HostInfo, I16Serde,
        I32Serde, I64Serde, KafkaStreams, KeyQueryMetadata, KeyValueStore, LagInfo, LogAndContinue,
        LogAndFail, LogAndSkipOnInvalidTimestamp, ProcessError, ProcessingGuarantee, Processor,
        ProcessorContext, PunctuationType, PunctuatorId, RawRecord, ReadOnlyKeyValueStore,
        ReadOnlyWindowStore, Record, RecordBatch, RecordMetadata, Serde, SerdeError, Serdes, State,
        StateListener, StateRestoreListener, StoreBuilder, StoreQueryParameters,
        StreamThreadExceptionResponse, StreamsConfig, StreamsError, StreamsMetadata, StringSerde,
        TaskId, TestInputTopic, TestOutputTopic, TestRecord, ThreadMetadata, TimestampExtractor,
        TimestampedKeyValueStore, TimestampedWindowStore, Topology, TopologyError,
        TopologyTestDriver, UncaughtExceptionHandler, UnitSerde,
        UsePartitionTimeOnInvalidTimestamp, ValueAndTimestamp, WallclockTimestampExtractor,
        WindowStore,
    };
}
