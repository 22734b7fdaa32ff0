//! The streams runtime: topology graph, sub-topologies and tasks pinned to partitions, stream threads,
//! commits, the processor API and the test driver.
//!
//! This crate is laid out in the workspace but holds no runtime yet; it arrives with the streams-core
//! work (see `ARCHITECTURE.md`).
