//! JSON through serde_json.

use std::marker::PhantomData;

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use streams_core::{Serde, SerdeError};

/// JSON for any `serde` type; `Option<T>` maps a null record to `None`.
///
/// ```
/// use streams_dsl::prelude::*;
///
/// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq, Clone)]
/// struct Order { id: u32, amount: f64 }
///
/// let serde = JsonSerde::<Order>::new();
/// let bytes = serde.serialize("orders", &Order { id: 1, amount: 2.5 })?.unwrap();
/// assert_eq!(&bytes[..], br#"{"id":1,"amount":2.5}"#);
/// let back: Order = serde.deserialize("orders", Some(&bytes))?;
/// assert_eq!(back, Order { id: 1, amount: 2.5 });
/// # Ok::<(), SerdeError>(())
/// ```
pub struct JsonSerde<T>(PhantomData<fn() -> T>);

impl<T> JsonSerde<T> {
    /// A JSON serde.
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T> Default for JsonSerde<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for JsonSerde<T> {
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl<T> std::fmt::Debug for JsonSerde<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JsonSerde<{}>", std::any::type_name::<T>())
    }
}

impl<T: Serialize + DeserializeOwned + 'static> Serde<T> for JsonSerde<T> {
    fn serialize(&self, topic: &str, value: &T) -> Result<Option<Bytes>, SerdeError> {
        serde_json::to_vec(value)
            .map(|v| Some(Bytes::from(v)))
            .map_err(|e| SerdeError::new(format!("JSON for topic `{topic}`: {e}")))
    }

    fn deserialize(&self, topic: &str, bytes: Option<&Bytes>) -> Result<T, SerdeError> {
        let bytes = bytes.ok_or_else(|| {
            SerdeError::new(format!("null data in topic `{topic}` where JSON is required"))
        })?;
        serde_json::from_slice(bytes)
            .map_err(|e| SerdeError::new(format!("invalid JSON in topic `{topic}`: {e}")))
    }
}

impl<T: Serialize + DeserializeOwned + 'static> Serde<Option<T>> for JsonSerde<T> {
    fn serialize(&self, topic: &str, value: &Option<T>) -> Result<Option<Bytes>, SerdeError> {
        match value {
            Some(v) => <Self as Serde<T>>::serialize(self, topic, v),
            None => Ok(None),
        }
    }

    fn deserialize(&self, topic: &str, bytes: Option<&Bytes>) -> Result<Option<T>, SerdeError> {
        match bytes {
            Some(_) => <Self as Serde<T>>::deserialize(self, topic, bytes).map(Some),
            None => Ok(None),
        }
    }
}
