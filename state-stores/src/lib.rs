//! State stores for stream processing: key-value stores over RocksDB or memory, each the bottom of
//! a stack of layers that all implement one trait, [`KeyValueStore`]. The metered layer counts and
//! times operations, the caching layer merges writes per key until the next flush (and tells a
//! listener what it writes down), the change-logging layer hands every write that reaches it to a
//! [`ChangelogWriter`], and the backend keeps the data. [`KeyValueStoreBuilder`] stacks them the way
//! Kafka Streams does. Stores speak bytes (`bytes::Bytes`); typed views live above this crate, and
//! so does the changelog producer: this crate depends on no broker.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use bytes::Bytes;
//! use state_stores::{KeyValueStore, KeyValueStoreBuilder, RocksDbConfig, RocksDbKeyValueStore};
//!
//! let dir = tempfile::tempdir()?;
//! let config = RocksDbConfig::new(8 * 1024 * 1024); // one shared block cache per application
//! let changelog = Arc::new(Mutex::new(Vec::new()));
//! let sink = changelog.clone();
//!
//! let mut store = KeyValueStoreBuilder::new(RocksDbKeyValueStore::new("word-counts", dir.path(), &config))
//!     .with_caching(1024 * 1024)
//!     .with_logging(move |k: &Bytes, v: Option<&Bytes>| sink.lock().unwrap().push((k.clone(), v.cloned())))
//!     .build();
//! store.init()?;
//!
//! for word in ["kafka", "streams", "kafka"] {
//!     let key = Bytes::from(word);
//!     let count = match store.get(&key)? {
//!         Some(n) => u64::from_be_bytes(n.as_ref().try_into()?) + 1,
//!         None => 1,
//!     };
//!     store.put(key, Some(Bytes::copy_from_slice(&count.to_be_bytes())))?;
//! }
//! store.flush()?; // commit: the cache writes one merged update per key to the store and changelog
//!
//! let counts: Vec<_> = store.all()?.collect::<Result<_, _>>()?;
//! assert_eq!(counts[0], (Bytes::from("kafka"), Bytes::copy_from_slice(&2u64.to_be_bytes())));
//! assert_eq!(changelog.lock().unwrap().len(), 2);
//! store.close()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod bounds;
mod changelog;
mod error;
mod key_value;
mod metrics;
mod record_cache;
mod rocks;
mod segments;
mod window;

pub use changelog::ChangelogWriter;
pub use error::StoreError;
pub use key_value::builder::KeyValueStoreBuilder;
pub use key_value::caching::CachingKeyValueStore;
pub use key_value::in_memory::InMemoryKeyValueStore;
pub use key_value::logging::ChangeLoggingKeyValueStore;
pub use key_value::metered::MeteredKeyValueStore;
pub use key_value::rocks::RocksDbKeyValueStore;
pub use key_value::{FlushListener, KeyValueIterator, KeyValueStore};
pub use metrics::{KeyValueStoreMetrics, OperationMetrics, StoreOperation};
pub use rocks::config::RocksDbConfig;
pub use window::builder::WindowStoreBuilder;
pub use window::caching::CachingWindowStore;
pub use window::in_memory::InMemoryWindowStore;
pub use window::logging::ChangeLoggingWindowStore;
pub use window::metered::MeteredWindowStore;
pub use window::rocks::RocksDbWindowStore;
pub use window::{WindowFlushListener, WindowIterator, WindowStore, WindowedKey};
