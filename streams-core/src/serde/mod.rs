//! Serdes: how keys and values become bytes at the edges of a topology and back.
//!
//! A [`Serde<T>`] turns `T` into the bytes of a Kafka record key or value and back, null included:
//! a record with no key or value deserializes through `deserialize(topic, None)`, and a serde that
//! writes `None` produces a null. The built-in serdes ([`Serdes`]) follow Kafka's byte formats:
//! strings are UTF-8, integers and floats big-endian. Each serves both `T` (where a null is an
//! error) and `Option<T>` (where a null is `None`).
//!
//! Sources and sinks that are not given a serde take the application's default for the type
//! ([`SerdeRegistry`], filled from the config), so `builder.stream::<Option<String>, String>("in")`
//! needs no serde at all.

mod builtin;
mod registry;

use std::sync::Arc;

use bytes::Bytes;

pub use builtin::{
    BytesSerde, F32Serde, F64Serde, I16Serde, I32Serde, I64Serde, Serdes, StringSerde, UnitSerde,
};
pub use registry::SerdeRegistry;

/// A failure to turn bytes into a value or a value into bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SerdeError {
    message: String,
}

impl SerdeError {
    /// An error with a message saying what was wrong with the input.
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into() }
    }
}

/// Serializes `T` to record bytes and deserializes it back (Kafka's `Serde<T>`).
pub trait Serde<T>: Send + Sync + 'static {
    /// The bytes of `value` for a record of `topic`; `None` writes a null.
    fn serialize(&self, topic: &str, value: &T) -> Result<Option<Bytes>, SerdeError>;
    /// Like [`Serde::serialize`] for a value the caller no longer needs: serdes that can turn the
    /// value's own memory into the bytes (strings, byte vectors, `Bytes`) override this and copy
    /// nothing. Sinks call this one.
    fn serialize_owned(&self, topic: &str, value: T) -> Result<Option<Bytes>, SerdeError> {
        self.serialize(topic, &value)
    }
    /// The value of a record of `topic` whose key or value is `bytes` (`None`: null).
    fn deserialize(&self, topic: &str, bytes: Option<&Bytes>) -> Result<T, SerdeError>;
    /// Like [`Serde::deserialize`] for bytes the caller no longer needs: a serde whose value can
    /// be the bytes themselves (`Bytes`) overrides this and takes no new reference on them.
    /// Sources call this one when no error handler needs the record's bytes afterwards.
    fn deserialize_owned(&self, topic: &str, bytes: Option<Bytes>) -> Result<T, SerdeError> {
        self.deserialize(topic, bytes.as_ref())
    }
    /// The value whose bytes are `bytes`, read from a borrowed slice, or `None` if this serde
    /// reads only from [`Bytes`] (the default; then the caller slices a `Bytes` and calls
    /// [`deserialize`](Serde::deserialize)). The built-in serdes read slices, which spares the
    /// reference counting of a `Bytes` slice where a value sits inside larger stored bytes.
    fn deserialize_borrowed(&self, _topic: &str, _bytes: &[u8]) -> Option<Result<T, SerdeError>> {
        None
    }
    /// Appends the bytes of `value` to `out`, as [`Serde::serialize`] would make them; `false`
    /// (and nothing appended) for a null. Lets a caller that wraps the bytes (a timestamped
    /// store's value, say) build them in one buffer; the built-in serdes write straight into it.
    fn serialize_into(
        &self,
        topic: &str,
        value: &T,
        out: &mut bytes::BytesMut,
    ) -> Result<bool, SerdeError> {
        match self.serialize(topic, value)? {
            Some(b) => {
                out.extend_from_slice(&b);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

impl<T, S: Serde<T> + ?Sized> Serde<T> for Arc<S> {
    fn serialize(&self, topic: &str, value: &T) -> Result<Option<Bytes>, SerdeError> {
        (**self).serialize(topic, value)
    }
    fn serialize_owned(&self, topic: &str, value: T) -> Result<Option<Bytes>, SerdeError> {
        (**self).serialize_owned(topic, value)
    }
    fn deserialize(&self, topic: &str, bytes: Option<&Bytes>) -> Result<T, SerdeError> {
        (**self).deserialize(topic, bytes)
    }
    fn deserialize_owned(&self, topic: &str, bytes: Option<Bytes>) -> Result<T, SerdeError> {
        (**self).deserialize_owned(topic, bytes)
    }
    fn serialize_into(
        &self,
        topic: &str,
        value: &T,
        out: &mut bytes::BytesMut,
    ) -> Result<bool, SerdeError> {
        (**self).serialize_into(topic, value, out)
    }
    fn deserialize_borrowed(&self, topic: &str, bytes: &[u8]) -> Option<Result<T, SerdeError>> {
        (**self).deserialize_borrowed(topic, bytes)
    }
}

/// A shared, type-erased serde for `T`.
pub type SharedSerde<T> = Arc<dyn Serde<T>>;

/// The error of a non-nullable serde given a null.
pub(crate) fn null_error<T>(topic: &str) -> SerdeError {
    SerdeError::new(format!(
        "null data in topic `{topic}` where a `{}` is required (use `Option<{}>` to accept nulls)",
        std::any::type_name::<T>(),
        std::any::type_name::<T>()
    ))
}

#[cfg(test)]
mod tests;
