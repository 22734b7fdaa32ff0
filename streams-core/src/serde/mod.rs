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
    /// Deserializes a column of a run of input records (their keys, or their values) into
    /// `out`, in order, stopping at the first that does not deserialize: `Err((i, error))`
    /// names its place in the column, and the records after it are left untouched. Sources call
    /// this once per run of records; the default calls
    /// [`deserialize_owned`](Serde::deserialize_owned) (for handed-over bytes) or
    /// [`deserialize`](Serde::deserialize) (for lent ones) for each, in a loop compiled for the
    /// serde's own type, so a run costs one dynamic call instead of one per record.
    fn deserialize_column(
        &self,
        topic: &str,
        column: RawColumn<'_>,
        out: &mut Vec<T>,
    ) -> Result<(), (usize, SerdeError)> {
        out.reserve(column.len());
        for (i, bytes) in column.into_iter().enumerate() {
            let value = match bytes {
                RawBytes::Owned(b) => self.deserialize_owned(topic, b),
                RawBytes::Lent(b) => self.deserialize(topic, b),
            };
            match value {
                Ok(v) => out.push(v),
                Err(e) => return Err((i, e)),
            }
        }
        Ok(())
    }
    /// Serializes the next `limit` values of `values` (fewer if it runs out) into `out`, in
    /// order, with [`serialize_owned`](Serde::serialize_owned), stopping at the first that does
    /// not serialize (consumed; its error returned). Sinks call this once per run of records;
    /// like [`deserialize_column`](Serde::deserialize_column), the default loop is compiled for
    /// the serde's own type.
    fn serialize_column(
        &self,
        topic: &str,
        values: &mut std::vec::IntoIter<T>,
        limit: usize,
        out: &mut Vec<Option<Bytes>>,
    ) -> Result<(), SerdeError> {
        out.reserve(limit.min(values.len()));
        for value in values.take(limit) {
            out.push(self.serialize_owned(topic, value)?);
        }
        Ok(())
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
    fn deserialize_column(
        &self,
        topic: &str,
        column: RawColumn<'_>,
        out: &mut Vec<T>,
    ) -> Result<(), (usize, SerdeError)> {
        (**self).deserialize_column(topic, column, out)
    }
    fn serialize_column(
        &self,
        topic: &str,
        values: &mut std::vec::IntoIter<T>,
        limit: usize,
        out: &mut Vec<Option<Bytes>>,
    ) -> Result<(), SerdeError> {
        (**self).serialize_column(topic, values, limit, out)
    }
}

/// The keys or the values of a run of input records, as a source hands them to
/// [`Serde::deserialize_column`]: iterating gives each record's bytes, handed over when nothing
/// reads the records' bytes afterwards (the record keeps a null), lent otherwise.
#[derive(Debug)]
pub struct RawColumn<'a> {
    source: ColumnSource<'a>,
}

#[derive(Debug)]
enum ColumnSource<'a> {
    /// Handed over: each is left `None` once deserialized.
    Taken(&'a mut [Option<Bytes>]),
    /// Lent.
    Lent(&'a [Option<Bytes>]),
}

impl<'a> RawColumn<'a> {
    /// Keys or values handed over (each left `None` once deserialized).
    pub(crate) fn taken(bytes: &'a mut [Option<Bytes>]) -> Self {
        Self { source: ColumnSource::Taken(bytes) }
    }

    /// Keys or values lent.
    pub(crate) fn lent(bytes: &'a [Option<Bytes>]) -> Self {
        Self { source: ColumnSource::Lent(bytes) }
    }

    /// How many records the column has.
    pub fn len(&self) -> usize {
        match &self.source {
            ColumnSource::Taken(bytes) => bytes.len(),
            ColumnSource::Lent(bytes) => bytes.len(),
        }
    }

    /// Whether the column has no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` with each record's index and bytes, owned (handed over, or a new reference
    /// when lent), in order, until it fails: its error. One loop per kind of column, for the
    /// serdes that keep the bytes themselves.
    #[inline]
    pub(crate) fn try_for_each_owned<E>(
        self,
        mut f: impl FnMut(usize, Option<Bytes>) -> Result<(), E>,
    ) -> Result<(), E> {
        match self.source {
            ColumnSource::Taken(bytes) => {
                bytes.iter_mut().enumerate().try_for_each(|(i, b)| f(i, b.take()))
            }
            ColumnSource::Lent(bytes) => {
                bytes.iter().enumerate().try_for_each(|(i, b)| f(i, b.clone()))
            }
        }
    }
}

/// One record's key or value in a [`RawColumn`] (`None`: null).
#[derive(Debug)]
pub enum RawBytes<'a> {
    /// The bytes, handed over: deserialize with [`Serde::deserialize_owned`].
    Owned(Option<Bytes>),
    /// The bytes, lent: deserialize with [`Serde::deserialize`].
    Lent(Option<&'a Bytes>),
}

impl<'a> IntoIterator for RawColumn<'a> {
    type Item = RawBytes<'a>;
    type IntoIter = RawColumnIter<'a>;

    fn into_iter(self) -> RawColumnIter<'a> {
        let source = match self.source {
            ColumnSource::Taken(bytes) => IterSource::Taken(bytes.iter_mut()),
            ColumnSource::Lent(bytes) => IterSource::Lent(bytes.iter()),
        };
        RawColumnIter { source }
    }
}

/// The bytes of a [`RawColumn`], in order.
#[derive(Debug)]
pub struct RawColumnIter<'a> {
    source: IterSource<'a>,
}

#[derive(Debug)]
enum IterSource<'a> {
    Taken(std::slice::IterMut<'a, Option<Bytes>>),
    Lent(std::slice::Iter<'a, Option<Bytes>>),
}

impl<'a> Iterator for RawColumnIter<'a> {
    type Item = RawBytes<'a>;

    #[inline]
    fn next(&mut self) -> Option<RawBytes<'a>> {
        match &mut self.source {
            IterSource::Taken(bytes) => Some(RawBytes::Owned(bytes.next()?.take())),
            IterSource::Lent(bytes) => Some(RawBytes::Lent(bytes.next()?.as_ref())),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.source {
            IterSource::Taken(bytes) => bytes.size_hint(),
            IterSource::Lent(bytes) => bytes.size_hint(),
        }
    }
}

impl ExactSizeIterator for RawColumnIter<'_> {}

/// A shared, type-erased serde for `T`.
pub type SharedSerde<T> = Arc<dyn Serde<T>>;

/// The error of a non-nullable serde given a null.
#[cold]
#[inline(never)]
pub(crate) fn null_error<T>(topic: &str) -> SerdeError {
    SerdeError::new(format!(
        "null data in topic `{topic}` where a `{}` is required (use `Option<{}>` to accept nulls)",
        std::any::type_name::<T>(),
        std::any::type_name::<T>()
    ))
}

#[cfg(test)]
mod tests;
