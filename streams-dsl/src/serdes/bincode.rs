//! bincode 2.0 in serde mode, standard configuration (little-endian varints).

use std::marker::PhantomData;

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use streams_core::{Serde, SerdeError};

/// bincode for any `serde` type: compact, not self-describing; both sides must agree on the type.
/// Trailing bytes after a value are an error.
///
/// ```
/// use streams_dsl::prelude::*;
///
/// let serde = BincodeSerde::<(u32, String)>::new();
/// let bytes = serde.serialize("t", &(7, "seven".to_string()))?.unwrap();
/// let back: (u32, String) = serde.deserialize("t", Some(&bytes))?;
/// assert_eq!(back, (7, "seven".to_string()));
/// # Ok::<(), SerdeError>(())
/// ```
pub struct BincodeSerde<T>(PhantomData<fn() -> T>);

impl<T> BincodeSerde<T> {
    /// A bincode serde.
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T> Default for BincodeSerde<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for BincodeSerde<T> {
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl<T> std::fmt::Debug for BincodeSerde<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BincodeSerde<{}>", std::any::type_name::<T>())
    }
}

impl<T: Serialize + DeserializeOwned + 'static> Serde<T> for BincodeSerde<T> {
    fn serialize(&self, topic: &str, value: &T) -> Result<Option<Bytes>, SerdeError> {
        bincode::serde::encode_to_vec(value, bincode::config::standard())
            .map(|v| Some(Bytes::from(v)))
            .map_err(|e| SerdeError::new(format!("bincode for topic `{topic}`: {e}")))
    }

    fn deserialize(&self, topic: &str, bytes: Option<&Bytes>) -> Result<T, SerdeError> {
        let bytes = bytes.ok_or_else(|| {
            SerdeError::new(format!("null data in topic `{topic}` where bincode is required"))
        })?;
        let (value, read) =
            bincode::serde::decode_from_slice(bytes, bincode::config::standard())
                .map_err(|e| SerdeError::new(format!("invalid bincode in topic `{topic}`: {e}")))?;
        if read != bytes.len() {
            return Err(SerdeError::new(format!(
                "invalid bincode in topic `{topic}`: {} bytes after the value",
                bytes.len() - read
            )));
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Reading {
        sensor: String,
        celsius: i32,
    }

    /// Round trips, and bad input is an error naming the topic: truncated, trailing bytes, null.
    #[test]
    fn bad_bincode_is_an_error_naming_the_topic() {
        let serde = BincodeSerde::<Reading>::new();
        let reading = Reading { sensor: "s1".into(), celsius: -4 };
        let bytes = serde.serialize("t", &reading).unwrap().unwrap();
        assert_eq!(serde.deserialize("t", Some(&bytes)).unwrap(), reading);

        let truncated = bytes.slice(..bytes.len() - 1);
        let e = serde.deserialize("temps", Some(&truncated)).unwrap_err().to_string();
        assert!(e.contains("invalid bincode in topic `temps`"), "{e}");
        let mut longer = bytes.to_vec();
        longer.extend_from_slice(b"xy");
        let e = serde.deserialize("temps", Some(&Bytes::from(longer))).unwrap_err().to_string();
        assert!(e.contains("2 bytes after the value"), "{e}");
        let e = serde.deserialize("temps", None).unwrap_err().to_string();
        assert!(e.contains("null data in topic `temps`"), "{e}");
    }
}
