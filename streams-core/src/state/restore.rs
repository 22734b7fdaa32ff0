//! Restoring stores from their changelogs, and the listener that hears about it.

use crate::task::TaskId;

/// Told about each store's restoration (Kafka's `StateRestoreListener`). Set one with
/// [`KafkaStreams::set_global_state_restore_listener`](crate::KafkaStreams::set_global_state_restore_listener);
/// without one, progress goes to the log.
pub trait StateRestoreListener: Send + Sync + 'static {
    /// Restoration of `store` (changelog `topic`-`partition`) begins at offset `start` and runs
    /// to `end` (exclusive).
    fn on_restore_start(
        &self,
        task: TaskId,
        store: &str,
        topic: &str,
        partition: i32,
        start: i64,
        end: i64,
    );
    /// A batch was written to the store; `batch_end` is the offset after its last record.
    fn on_batch_restored(&self, task: TaskId, store: &str, batch_end: i64, records: usize);
    /// Restoration finished after `total` records.
    fn on_restore_end(&self, task: TaskId, store: &str, total: u64);
}

/// Logs restoration progress through `tracing` (the default listener).
#[derive(Debug, Clone, Copy, Default)]
pub struct LoggingRestoreListener;

impl StateRestoreListener for LoggingRestoreListener {
    fn on_restore_start(
        &self,
        task: TaskId,
        store: &str,
        topic: &str,
        partition: i32,
        start: i64,
        end: i64,
    ) {
        tracing::info!(%task, store, topic, partition, start, end, "restoring a store from its changelog");
    }
    fn on_batch_restored(&self, task: TaskId, store: &str, batch_end: i64, records: usize) {
        tracing::debug!(%task, store, batch_end, records, "restored a batch");
    }
    fn on_restore_end(&self, task: TaskId, store: &str, total: u64) {
        tracing::info!(%task, store, total, "store restored");
    }
}
