//! The window change-logging layer: every write that reaches the store is also sent to its
//! changelog.

use bytes::Bytes;

use crate::StoreError;
use crate::changelog::ChangelogWriter;
use crate::window::{WindowFlushListener, WindowIterator, WindowStore, store_key};

/// Hands every write that reaches it to a [`ChangelogWriter`] after applying it to the store
/// below: Kafka's `ChangeLoggingWindowBytesStore`.
///
/// `put(key, value, start)` is logged as `(changelog key, value)`, `None` being a tombstone,
/// with Kafka's changelog key `[key][window start, 8 bytes big-endian][sequence number, 4 bytes
/// big-endian]` ([`WindowedKey::to_changelog_key`](crate::WindowedKey::to_changelog_key)). The
/// sequence number is 0, or, if the store retains duplicates, this layer's own count of the
/// values written (31 bits, wrapping, as Kafka's), so that every duplicate has its own record in
/// the compacted changelog. A `put` of `None` to a store of duplicates changes nothing and is
/// not logged. Like Kafka, the layer logs a put the store below dropped as expired (restoring
/// it drops it again). A write that fails below is not logged.
pub struct ChangeLoggingWindowStore<S> {
    inner: S,
    writer: Box<dyn ChangelogWriter>,
    seq: u32,
}

impl<S: WindowStore> ChangeLoggingWindowStore<S> {
    /// Logs every write to `inner` through `writer`.
    pub fn new(inner: S, writer: impl ChangelogWriter + 'static) -> Self {
        Self::with_boxed_writer(inner, Box::new(writer))
    }

    /// As [`new`](Self::new), with a writer already boxed.
    pub fn with_boxed_writer(inner: S, writer: Box<dyn ChangelogWriter>) -> Self {
        Self { inner, writer, seq: 0 }
    }

    /// The store below this layer.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: WindowStore> WindowStore for ChangeLoggingWindowStore<S> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn persistent(&self) -> bool {
        self.inner.persistent()
    }

    fn is_open(&self) -> bool {
        self.inner.is_open()
    }

    fn retention_period_ms(&self) -> i64 {
        self.inner.retention_period_ms()
    }

    fn window_size_ms(&self) -> i64 {
        self.inner.window_size_ms()
    }

    fn retain_duplicates(&self) -> bool {
        self.inner.retain_duplicates()
    }

    fn observed_stream_time(&self) -> Option<i64> {
        self.inner.observed_stream_time()
    }

    fn init(&mut self) -> Result<(), StoreError> {
        self.inner.init()
    }

    fn put(
        &mut self,
        key: Bytes,
        value: Option<Bytes>,
        window_start: i64,
    ) -> Result<(), StoreError> {
        self.inner.put(key.clone(), value.clone(), window_start)?;
        let seq = if self.inner.retain_duplicates() {
            if value.is_none() {
                return Ok(());
            }
            self.seq = (self.seq + 1) & 0x7fff_ffff;
            self.seq
        } else {
            0
        };
        self.writer.log(&Bytes::from(store_key(&key, window_start, seq)), value.as_ref());
        Ok(())
    }

    fn fetch(&self, key: &[u8], window_start: i64) -> Result<Option<Bytes>, StoreError> {
        self.inner.fetch(key, window_start)
    }

    fn fetch_range(
        &self,
        key: &[u8],
        time_from: i64,
        time_to: i64,
    ) -> Result<WindowIterator<'_>, StoreError> {
        self.inner.fetch_range(key, time_from, time_to)
    }

    fn backward_fetch_range(
        &self,
        key: &[u8],
        time_from: i64,
        time_to: i64,
    ) -> Result<WindowIterator<'_>, StoreError> {
        self.inner.backward_fetch_range(key, time_from, time_to)
    }

    fn fetch_key_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        time_from: i64,
        time_to: i64,
    ) -> Result<WindowIterator<'_>, StoreError> {
        self.inner.fetch_key_range(key_from, key_to, time_from, time_to)
    }

    fn backward_fetch_key_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        time_from: i64,
        time_to: i64,
    ) -> Result<WindowIterator<'_>, StoreError> {
        self.inner.backward_fetch_key_range(key_from, key_to, time_from, time_to)
    }

    fn fetch_all(&self, time_from: i64, time_to: i64) -> Result<WindowIterator<'_>, StoreError> {
        self.inner.fetch_all(time_from, time_to)
    }

    fn backward_fetch_all(
        &self,
        time_from: i64,
        time_to: i64,
    ) -> Result<WindowIterator<'_>, StoreError> {
        self.inner.backward_fetch_all(time_from, time_to)
    }

    fn all(&self) -> Result<WindowIterator<'_>, StoreError> {
        self.inner.all()
    }

    fn backward_all(&self) -> Result<WindowIterator<'_>, StoreError> {
        self.inner.backward_all()
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        self.inner.flush()
    }

    fn close(&mut self) -> Result<(), StoreError> {
        self.inner.close()
    }

    fn set_flush_listener(&mut self, listener: WindowFlushListener, send_old_values: bool) -> bool {
        self.inner.set_flush_listener(listener, send_old_values)
    }
}
