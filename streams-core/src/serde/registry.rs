//! The application's default serdes, by type.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;

use super::{
    BytesSerde, F32Serde, F64Serde, I16Serde, I32Serde, I64Serde, Serde, SharedSerde, StringSerde,
    UnitSerde,
};

/// Default serdes by type: what a source or sink uses when the topology gives it no serde
/// (Kafka's `default.key.serde` / `default.value.serde`, one per type since Rust records are typed).
///
/// A new registry holds the built-in serdes for `String`, `Bytes`, `Vec<u8>`, `i16`, `i32`, `i64`,
/// `f32`, `f64` (each also as `Option<_>`) and `()`. Register others with [`SerdeRegistry::register`].
#[derive(Clone)]
pub struct SerdeRegistry {
    by_type: HashMap<TypeId, (Arc<dyn Any + Send + Sync>, &'static str)>,
}

impl std::fmt::Debug for SerdeRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&str> = self.by_type.values().map(|(_, n)| *n).collect();
        names.sort_unstable();
        f.debug_struct("SerdeRegistry").field("types", &names).finish()
    }
}

impl Default for SerdeRegistry {
    fn default() -> Self {
        let mut r = Self { by_type: HashMap::new() };
        r.register_nullable::<String, _>(StringSerde);
        r.register_nullable::<Bytes, _>(BytesSerde);
        r.register_nullable::<Vec<u8>, _>(BytesSerde);
        r.register_nullable::<i16, _>(I16Serde);
        r.register_nullable::<i32, _>(I32Serde);
        r.register_nullable::<i64, _>(I64Serde);
        r.register_nullable::<f32, _>(F32Serde);
        r.register_nullable::<f64, _>(F64Serde);
        r.register::<(), _>(UnitSerde);
        r
    }
}

impl SerdeRegistry {
    /// Makes `serde` the default for `T`, replacing any earlier one.
    pub fn register<T: 'static, S: Serde<T>>(&mut self, serde: S) -> &mut Self {
        let shared: SharedSerde<T> = Arc::new(serde);
        self.by_type.insert(TypeId::of::<T>(), (Arc::new(shared), std::any::type_name::<T>()));
        self
    }

    fn register_nullable<T: 'static, S: Serde<T> + Serde<Option<T>> + Clone>(&mut self, serde: S) {
        self.register::<T, S>(serde.clone());
        self.register::<Option<T>, S>(serde);
    }

    /// The default serde for `T`, if one is registered.
    pub fn get<T: 'static>(&self) -> Option<SharedSerde<T>> {
        self.by_type
            .get(&TypeId::of::<T>())
            .and_then(|(any, _)| any.downcast_ref::<SharedSerde<T>>())
            .cloned()
    }
}
