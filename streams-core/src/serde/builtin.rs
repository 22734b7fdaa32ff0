//! The built-in serdes, byte for byte those of Kafka's `Serdes` class.

use bytes::Bytes;

use super::{RawColumn, Serde, SerdeError, null_error};

/// UTF-8 strings (Kafka's `StringSerde`).
#[derive(Debug, Clone, Copy, Default)]
pub struct StringSerde;

/// Raw bytes, passed through (Kafka's `BytesSerde` / `ByteArraySerde`).
#[derive(Debug, Clone, Copy, Default)]
pub struct BytesSerde;

/// Big-endian 16-bit integers (Kafka's `ShortSerde`).
#[derive(Debug, Clone, Copy, Default)]
pub struct I16Serde;

/// Big-endian 32-bit integers (Kafka's `IntegerSerde`).
#[derive(Debug, Clone, Copy, Default)]
pub struct I32Serde;

/// Big-endian 64-bit integers (Kafka's `LongSerde`).
#[derive(Debug, Clone, Copy, Default)]
pub struct I64Serde;

/// Big-endian IEEE 754 single precision (Kafka's `FloatSerde`).
#[derive(Debug, Clone, Copy, Default)]
pub struct F32Serde;

/// Big-endian IEEE 754 double precision (Kafka's `DoubleSerde`).
#[derive(Debug, Clone, Copy, Default)]
pub struct F64Serde;

/// Always null (Kafka's `VoidSerde`): for keys or values that carry nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnitSerde;

/// Constructors for the built-in serdes.
#[derive(Debug)]
pub struct Serdes;

impl Serdes {
    /// UTF-8 strings.
    pub fn string() -> StringSerde {
        StringSerde
    }
    /// Raw bytes.
    pub fn bytes() -> BytesSerde {
        BytesSerde
    }
    /// Big-endian `i16`.
    pub fn i16() -> I16Serde {
        I16Serde
    }
    /// Big-endian `i32`.
    pub fn i32() -> I32Serde {
        I32Serde
    }
    /// Big-endian `i64`.
    pub fn i64() -> I64Serde {
        I64Serde
    }
    /// Big-endian `f32`.
    pub fn f32() -> F32Serde {
        F32Serde
    }
    /// Big-endian `f64`.
    pub fn f64() -> F64Serde {
        F64Serde
    }
    /// Always null.
    pub fn unit() -> UnitSerde {
        UnitSerde
    }
}

/// Implements `Serde<T>` and `Serde<Option<T>>` for a serde from its two conversion functions.
macro_rules! nullable_serde {
    ($serde:ty, $t:ty, |$ser_v:ident| $ser:expr, |$topic:ident, $de_b:ident| $de:expr) => {
        nullable_serde!(
            $serde,
            $t,
            |$ser_v| $ser,
            |$topic, $de_b| $de,
            owned | value | {
                let $ser_v = &value;
                $ser
            }
        );
    };
    ($serde:ty, $t:ty, |$ser_v:ident| $ser:expr, |$topic:ident, $de_b:ident| $de:expr, owned |$own_v:ident| $own:expr) => {
        nullable_serde!(
            $serde,
            $t,
            |$ser_v| $ser,
            |$topic, $de_b| $de,
            owned | $own_v | $own,
            into | v,
            out | {
                let $ser_v = v;
                out.extend_from_slice(&$ser);
            }
        );
    };
    ($serde:ty, $t:ty, |$ser_v:ident| $ser:expr, |$topic:ident, $de_b:ident| $de:expr, owned |$own_v:ident| $own:expr, into |$into_v:ident, $out:ident| $into:expr $(, $borrowed:ident)? $(; taken |$taken_b:ident| $taken:expr)?) => {
        impl Serde<$t> for $serde {
            $(
                // `taken`: the value is made from the bytes themselves, without a new reference.
                #[inline]
                fn deserialize_owned(
                    &self,
                    topic: &str,
                    bytes: Option<Bytes>,
                ) -> Result<$t, SerdeError> {
                    let $taken_b = bytes.ok_or_else(|| null_error::<$t>(topic))?;
                    Ok($taken)
                }
                // A column of the bytes themselves: each moved (or, lent, referenced) as it is.
                fn deserialize_column(
                    &self,
                    topic: &str,
                    column: RawColumn<'_>,
                    out: &mut Vec<$t>,
                ) -> Result<(), (usize, SerdeError)> {
                    out.reserve(column.len());
                    column.try_for_each_owned(|i, bytes| match bytes {
                        Some($taken_b) => {
                            out.push($taken);
                            Ok(())
                        }
                        None => Err((i, null_error::<$t>(topic))),
                    })
                }
            )?
            $(
                // `$borrowed`: the deserializer reads a plain slice as well as a `Bytes`.
                #[inline]
                fn $borrowed(&self, $topic: &str, $de_b: &[u8]) -> Option<Result<$t, SerdeError>> {
                    let read = || -> Result<$t, SerdeError> { $de };
                    Some(read())
                }
            )?
            #[inline]
            fn serialize_into(
                &self,
                _topic: &str,
                $into_v: &$t,
                $out: &mut bytes::BytesMut,
            ) -> Result<bool, SerdeError> {
                $into;
                Ok(true)
            }
            #[inline]
            fn serialize(&self, _topic: &str, $ser_v: &$t) -> Result<Option<Bytes>, SerdeError> {
                Ok(Some($ser))
            }
            #[inline]
            fn serialize_owned(
                &self,
                _topic: &str,
                $own_v: $t,
            ) -> Result<Option<Bytes>, SerdeError> {
                Ok(Some($own))
            }
            // Serializing never fails: the column in one loop.
            fn serialize_column(
                &self,
                _topic: &str,
                values: &mut std::vec::IntoIter<$t>,
                limit: usize,
                out: &mut Vec<Option<Bytes>>,
            ) -> Result<(), SerdeError> {
                out.extend(values.take(limit).map(|$own_v| Some($own)));
                Ok(())
            }
            #[inline]
            fn deserialize(&self, $topic: &str, bytes: Option<&Bytes>) -> Result<$t, SerdeError> {
                let $de_b = bytes.ok_or_else(|| null_error::<$t>($topic))?;
                $de
            }
        }
        impl Serde<Option<$t>> for $serde {
            #[inline]
            fn deserialize_borrowed(
                &self,
                topic: &str,
                bytes: &[u8],
            ) -> Option<Result<Option<$t>, SerdeError>> {
                <Self as Serde<$t>>::deserialize_borrowed(self, topic, bytes).map(|r| r.map(Some))
            }
            #[inline]
            fn serialize_into(
                &self,
                topic: &str,
                value: &Option<$t>,
                out: &mut bytes::BytesMut,
            ) -> Result<bool, SerdeError> {
                match value {
                    Some(v) => <Self as Serde<$t>>::serialize_into(self, topic, v, out),
                    None => Ok(false),
                }
            }
            #[inline]
            fn serialize(
                &self,
                topic: &str,
                value: &Option<$t>,
            ) -> Result<Option<Bytes>, SerdeError> {
                match value {
                    Some(v) => <Self as Serde<$t>>::serialize(self, topic, v),
                    None => Ok(None),
                }
            }
            #[inline]
            fn serialize_owned(
                &self,
                topic: &str,
                value: Option<$t>,
            ) -> Result<Option<Bytes>, SerdeError> {
                match value {
                    Some(v) => <Self as Serde<$t>>::serialize_owned(self, topic, v),
                    None => Ok(None),
                }
            }
            // Serializing never fails: the column in one loop.
            fn serialize_column(
                &self,
                _topic: &str,
                values: &mut std::vec::IntoIter<Option<$t>>,
                limit: usize,
                out: &mut Vec<Option<Bytes>>,
            ) -> Result<(), SerdeError> {
                out.extend(values.take(limit).map(|v| v.map(|$own_v| $own)));
                Ok(())
            }
            #[inline]
            fn deserialize(
                &self,
                topic: &str,
                bytes: Option<&Bytes>,
            ) -> Result<Option<$t>, SerdeError> {
                match bytes {
                    Some(_) => <Self as Serde<$t>>::deserialize(self, topic, bytes).map(Some),
                    None => Ok(None),
                }
            }
            #[inline]
            fn deserialize_owned(
                &self,
                topic: &str,
                bytes: Option<Bytes>,
            ) -> Result<Option<$t>, SerdeError> {
                match bytes {
                    Some(b) => <Self as Serde<$t>>::deserialize_owned(self, topic, Some(b)).map(Some),
                    None => Ok(None),
                }
            }
        }
    };
}

nullable_serde!(
    StringSerde,
    String,
    |v| Bytes::copy_from_slice(v.as_bytes()),
    |topic, b| {
        std::str::from_utf8(b).map(str::to_owned).map_err(|e| {
            SerdeError::new(format!("a record of topic `{topic}` is not valid UTF-8: {e}"))
        })
    },
    owned | v | Bytes::from(v.into_bytes()),
    into | v,
    out | out.extend_from_slice(v.as_bytes()),
    deserialize_borrowed
);

nullable_serde!(
    BytesSerde,
    Bytes,
    |v| v.clone(),
    |_topic, b| Ok(b.clone()),
    owned | v | v,
    into | v,
    out | out.extend_from_slice(v);
    taken | b | b
);
nullable_serde!(
    BytesSerde,
    Vec<u8>,
    |v| Bytes::copy_from_slice(v),
    |_topic, b| Ok(b.to_vec()),
    owned | v | Bytes::from(v),
    into | v,
    out | out.extend_from_slice(v),
    deserialize_borrowed
);

/// Reads exactly `N` bytes or says how many there were.
fn fixed<const N: usize>(topic: &str, b: &[u8], what: &str) -> Result<[u8; N], SerdeError> {
    b.try_into().map_err(|_| {
        SerdeError::new(format!("a {what} in topic `{topic}` must be {N} bytes, found {}", b.len()))
    })
}

nullable_serde!(
    I16Serde,
    i16,
    |v| Bytes::copy_from_slice(&v.to_be_bytes()),
    |topic, b| Ok(i16::from_be_bytes(fixed(topic, b, "short")?)),
    owned | v | Bytes::copy_from_slice(&v.to_be_bytes()),
    into | v,
    out | out.extend_from_slice(&v.to_be_bytes()),
    deserialize_borrowed
);
nullable_serde!(
    I32Serde,
    i32,
    |v| Bytes::copy_from_slice(&v.to_be_bytes()),
    |topic, b| Ok(i32::from_be_bytes(fixed(topic, b, "integer")?)),
    owned | v | Bytes::copy_from_slice(&v.to_be_bytes()),
    into | v,
    out | out.extend_from_slice(&v.to_be_bytes()),
    deserialize_borrowed
);
nullable_serde!(
    I64Serde,
    i64,
    |v| Bytes::copy_from_slice(&v.to_be_bytes()),
    |topic, b| Ok(i64::from_be_bytes(fixed(topic, b, "long")?)),
    owned | v | Bytes::copy_from_slice(&v.to_be_bytes()),
    into | v,
    out | out.extend_from_slice(&v.to_be_bytes()),
    deserialize_borrowed
);
nullable_serde!(
    F32Serde,
    f32,
    |v| Bytes::copy_from_slice(&v.to_be_bytes()),
    |topic, b| Ok(f32::from_be_bytes(fixed(topic, b, "float")?)),
    owned | v | Bytes::copy_from_slice(&v.to_be_bytes()),
    into | v,
    out | out.extend_from_slice(&v.to_be_bytes()),
    deserialize_borrowed
);
nullable_serde!(
    F64Serde,
    f64,
    |v| Bytes::copy_from_slice(&v.to_be_bytes()),
    |topic, b| Ok(f64::from_be_bytes(fixed(topic, b, "double")?)),
    owned | v | Bytes::copy_from_slice(&v.to_be_bytes()),
    into | v,
    out | out.extend_from_slice(&v.to_be_bytes()),
    deserialize_borrowed
);

impl Serde<()> for UnitSerde {
    fn serialize(&self, _topic: &str, _value: &()) -> Result<Option<Bytes>, SerdeError> {
        Ok(None)
    }
    fn deserialize(&self, topic: &str, bytes: Option<&Bytes>) -> Result<(), SerdeError> {
        match bytes {
            None => Ok(()),
            Some(b) => Err(SerdeError::new(format!(
                "expected null data in topic `{topic}`, found {} bytes",
                b.len()
            ))),
        }
    }
}
