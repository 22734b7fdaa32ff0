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
//!
//! Windowed state has two more traits over the same layers. A [`WindowStore`] maps a key and a
//! window start to a value (windowed aggregations; with duplicates, stream-stream joins); a
//! [`SessionStore`] maps a key and a session's `[start, end]` to a value (session windows). Both
//! keep records for a *retention period* of stream time (the largest window start, or session
//! end, written so far) and drop older ones, as Kafka does. Their RocksDB backends split the store
//! into time segments, one RocksDB instance each, so that expiry deletes whole directories; keys
//! are laid out `[key][time, big-endian]...` so that the windows or sessions of a key are scanned
//! in time order, and the in-memory backends use the same layout and order.
//! [`WindowStoreBuilder`] and [`SessionStoreBuilder`] stack the layers, and the change-logging
//! layers write Kafka's changelog keys ([`WindowedKey::to_changelog_key`],
//! [`SessionKey::to_changelog_key`]).
//!
//! ```
//! use std::time::Duration;
//! use bytes::Bytes;
//! use state_stores::{RocksDbConfig, RocksDbWindowStore, WindowStore, WindowStoreBuilder};
//!
//! let dir = tempfile::tempdir()?;
//! let config = RocksDbConfig::new(8 * 1024 * 1024);
//! // Page views per user and one-minute window, kept for an hour of stream time.
//! let backend = RocksDbWindowStore::new(
//!     "views-per-minute",
//!     dir.path().join("views-per-minute"),
//!     &config,
//!     Duration::from_secs(3600), // retention: 30-minute segments
//!     Duration::from_secs(60),   // window size
//!     false,                     // one value per key and window
//! );
//! let mut store = WindowStoreBuilder::new(backend).with_caching(1024 * 1024).build();
//! store.init()?;
//!
//! for (user, ts) in [("alice", 5_000), ("bob", 30_000), ("alice", 65_000), ("alice", 70_000)] {
//!     let window_start = ts - ts % 60_000;
//!     let count = match store.fetch(user.as_bytes(), window_start)? {
//!         Some(n) => u64::from_be_bytes(n.as_ref().try_into()?) + 1,
//!         None => 1,
//!     };
//!     store.put(Bytes::from(user), Some(Bytes::copy_from_slice(&count.to_be_bytes())), window_start)?;
//! }
//! store.flush()?;
//!
//! // Alice's windows starting in the first two minutes, in start order.
//! let alice: Vec<_> = store.fetch_range(b"alice", 0, 119_999)?.collect::<Result<_, _>>()?;
//! let starts: Vec<i64> = alice.iter().map(|(key, _)| key.window_start).collect();
//! assert_eq!(starts, vec![0, 60_000]);
//! assert_eq!(alice[1].1, Bytes::copy_from_slice(&2u64.to_be_bytes()));
//!
//! // An hour of stream time later the first window has expired: it is never returned again.
//! store.put(Bytes::from("bob"), Some(Bytes::copy_from_slice(&1u64.to_be_bytes())), 3_600_000)?;
//! assert_eq!(store.fetch(b"alice", 0)?, None);
//! store.close()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod bounds;
mod cache_budget;
mod changelog;
mod error;
mod key_value;
mod metrics;
mod overlay;
mod record_cache;
mod rocks;
mod segments;
mod session;
mod window;

pub use cache_budget::CacheBudget;
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
pub use session::builder::SessionStoreBuilder;
pub use session::caching::CachingSessionStore;
pub use session::in_memory::InMemorySessionStore;
pub use session::logging::ChangeLoggingSessionStore;
pub use session::metered::MeteredSessionStore;
pub use session::rocks::RocksDbSessionStore;
pub use session::{SessionFlushListener, SessionIterator, SessionKey, SessionStore};
pub use window::as_key_value::WindowKeyValueStore;
pub use window::builder::WindowStoreBuilder;
pub use window::caching::CachingWindowStore;
pub use window::in_memory::InMemoryWindowStore;
pub use window::logging::ChangeLoggingWindowStore;
pub use window::metered::MeteredWindowStore;
pub use window::rocks::RocksDbWindowStore;
pub use window::{WindowFlushListener, WindowIterator, WindowStore, WindowedKey};
