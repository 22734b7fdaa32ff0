//! State stores for stream processing: key-value, window and session stores over RocksDB and memory,
//! composed from metered, caching and change-logging layers.
//!
//! This crate is laid out in the workspace but holds no stores yet; they arrive with the state-store
//! work (see `ARCHITECTURE.md`).
