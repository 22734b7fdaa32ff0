//! The seam between a store and its changelog topic.
//!
//! A store is a materialized view of a compacted changelog topic. The change-logging layer hands
//! every write that reaches it to a [`ChangelogWriter`]; streams-core implements the trait over a
//! producer (topic `<application.id>-<store>-changelog`, partition = the task's partition). This
//! crate never talks to a broker itself.

use bytes::Bytes;

/// Receives every write that reaches a change-logging store, in the order the store applied them.
///
/// `value` is `None` for a delete: the writer sends a tombstone. The call cannot fail: like Kafka's
/// `RecordCollector.send`, a writer queues the record and reports delivery errors when the task
/// flushes or commits.
///
/// Any `FnMut(&Bytes, Option<&Bytes>) + Send` closure is a writer.
///
/// ```
/// use bytes::Bytes;
/// use state_stores::ChangelogWriter;
///
/// let mut sent: Vec<(Bytes, Option<Bytes>)> = Vec::new();
/// let mut writer = |key: &Bytes, value: Option<&Bytes>| sent.push((key.clone(), value.cloned()));
/// writer.log(&Bytes::from_static(b"k"), None);
/// assert_eq!(sent, vec![(Bytes::from_static(b"k"), None)]);
/// ```
pub trait ChangelogWriter: Send {
    /// Records that `key` now maps to `value` (`None`: the key was deleted).
    fn log(&mut self, key: &Bytes, value: Option<&Bytes>);
}

impl<F> ChangelogWriter for F
where
    F: FnMut(&Bytes, Option<&Bytes>) + Send,
{
    fn log(&mut self, key: &Bytes, value: Option<&Bytes>) {
        self(key, value)
    }
}
