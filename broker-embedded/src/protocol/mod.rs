//! The Kafka wire protocol, without I/O: framing, request headers, the supported API versions, and
//! the guard that checks a request body before it is decoded.
//!
//! Message bodies are encoded and decoded with the `kafka-protocol` crate; this module owns what
//! that crate does not: the size limit of a frame, the parsing of the header fields the broker needs
//! before anything else (so a short frame is an error, never a panic), and the versions advertised
//! in ApiVersions.

pub(crate) mod frame;
pub(crate) mod guard;
pub(crate) mod request;
pub(crate) mod versions;
