//! `Change`: what flows between the nodes of a table, a key's new value and the one it replaces.

/// An update of one key of a table: the new value and the previous one (`None`: absent, or a
/// delete). Kafka's `Change<V>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change<V> {
    /// The value now (`None`: the key was deleted).
    pub new: Option<V>,
    /// The value before, when known.
    pub old: Option<V>,
}

impl<V> Change<V> {
    /// An update from `old` to `new`.
    pub fn new(new: Option<V>, old: Option<V>) -> Self {
        Self { new, old }
    }
}
