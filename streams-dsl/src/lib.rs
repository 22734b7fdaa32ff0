//! The typed DSL that applications import: `StreamsBuilder`, `KStream`, `KTable` and serdes.
//!
//! This crate is laid out in the workspace but holds no DSL yet; it arrives with the streams-dsl work
//! (see `ARCHITECTURE.md`).
