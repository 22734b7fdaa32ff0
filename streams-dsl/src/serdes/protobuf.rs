//! Protobuf messages through prost.

use std::marker::PhantomData;

use bytes::Bytes;
use streams_core::{Serde, SerdeError};

/// Protobuf encoding of a prost message (no schema-registry framing).
pub struct ProstSerde<T>(PhantomData<fn() -> T>);

impl<T> ProstSerde<T> {
    /// A Protobuf serde.
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T> Default for ProstSerde<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for ProstSerde<T> {
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl<T> std::fmt::Debug for ProstSerde<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProstSerde<{}>", std::any::type_name::<T>())
    }
}

impl<T: prost::Message + Default + 'static> Serde<T> for ProstSerde<T> {
    fn serialize(&self, _topic: &str, value: &T) -> Result<Option<Bytes>, SerdeError> {
        Ok(Some(Bytes::from(value.encode_to_vec())))
    }

    fn deserialize(&self, topic: &str, bytes: Option<&Bytes>) -> Result<T, SerdeError> {
        let bytes = bytes.ok_or_else(|| {
            SerdeError::new(format!("null data in topic `{topic}` where Protobuf is required"))
        })?;
        T::decode(bytes.clone())
            .map_err(|e| SerdeError::new(format!("invalid Protobuf in topic `{topic}`: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, PartialEq, prost::Message)]
    struct Reading {
        #[prost(string, tag = "1")]
        sensor: String,
        #[prost(int64, tag = "2")]
        value: i64,
    }

    #[test]
    fn messages_round_trip_and_garbage_is_an_error() {
        let serde = ProstSerde::<Reading>::new();
        let r = Reading { sensor: "s1".into(), value: -4 };
        let bytes = serde.serialize("t", &r).unwrap().unwrap();
        assert_eq!(serde.deserialize("t", Some(&bytes)).unwrap(), r);
        let err = serde.deserialize("t", Some(&Bytes::from_static(&[0x0a, 0xff]))).unwrap_err();
        assert!(err.to_string().contains("Protobuf"), "{err}");
        assert!(serde.deserialize("t", None).is_err());
    }
}
