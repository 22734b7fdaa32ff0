//! Serdes beyond the built-in ones of `streams-core`: JSON (serde_json), bincode (2.0, serde
//! mode, standard config) and Protobuf (prost).

mod bincode;
mod json;
mod protobuf;

pub use self::bincode::BincodeSerde;
pub use self::json::JsonSerde;
pub use self::protobuf::ProstSerde;
