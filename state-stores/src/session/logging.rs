//! The session change-logging layer: every write that reaches the store is also sent to its
//! changelog.

use bytes::Bytes;

use crate::StoreError;
use crate::changelog::ChangelogWriter;
use crate::session::{SessionFlushListener, SessionIterator, SessionKey, SessionStore};

/// Hands every write that reaches it to a [`ChangelogWriter`] after applying it to the store
/// below: Kafka's `ChangeLoggingSessionBytesStore`.
///
/// `put(session, value)` and `remove(session)` are logged as `(changelog key, value)`, `None`
/// being a tombstone, with Kafka's changelog key `[key][end, 8 bytes big-endian][start, 8 bytes
/// big-endian]` ([`SessionKey::to_changelog_key`]). Like Kafka, the layer logs a put the store
/// below dropped as expired (restoring it drops it again). A write that fails below is not
/// logged.
pub struct ChangeLoggingSessionStore<S> {
    inner: S,
    writer: Box<dyn ChangelogWriter>,
}

impl<S: SessionStore> ChangeLoggingSessionStore<S> {
    /// Logs every write to `inner` through `writer`.
    pub fn new(inner: S, writer: impl ChangelogWriter + 'static) -> Self {
        Self::with_boxed_writer(inner, Box::new(writer))
    }

    /// As [`new`](Self::new), with a writer already boxed.
    pub fn with_boxed_writer(inner: S, writer: Box<dyn ChangelogWriter>) -> Self {
        Self { inner, writer }
    }

    /// The store below this layer.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: SessionStore> SessionStore for ChangeLoggingSessionStore<S> {
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

    fn observed_stream_time(&self) -> Option<i64> {
        self.inner.observed_stream_time()
    }

    fn init(&mut self) -> Result<(), StoreError> {
        self.inner.init()
    }

    fn put(&mut self, session: SessionKey, value: Option<Bytes>) -> Result<(), StoreError> {
        let changelog_key = session.to_changelog_key();
        self.inner.put(session, value.clone())?;
        self.writer.log(&changelog_key, value.as_ref());
        Ok(())
    }

    fn fetch_session(&self, key: &[u8], start: i64, end: i64) -> Result<Option<Bytes>, StoreError> {
        self.inner.fetch_session(key, start, end)
    }

    fn find_sessions(
        &self,
        key: &[u8],
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> Result<SessionIterator<'_>, StoreError> {
        self.inner.find_sessions(key, earliest_session_end, latest_session_start)
    }

    fn backward_find_sessions(
        &self,
        key: &[u8],
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> Result<SessionIterator<'_>, StoreError> {
        self.inner.backward_find_sessions(key, earliest_session_end, latest_session_start)
    }

    fn find_sessions_in_key_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> Result<SessionIterator<'_>, StoreError> {
        self.inner.find_sessions_in_key_range(
            key_from,
            key_to,
            earliest_session_end,
            latest_session_start,
        )
    }

    fn backward_find_sessions_in_key_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> Result<SessionIterator<'_>, StoreError> {
        self.inner.backward_find_sessions_in_key_range(
            key_from,
            key_to,
            earliest_session_end,
            latest_session_start,
        )
    }

    fn fetch(&self, key: &[u8]) -> Result<SessionIterator<'_>, StoreError> {
        self.inner.fetch(key)
    }

    fn backward_fetch(&self, key: &[u8]) -> Result<SessionIterator<'_>, StoreError> {
        self.inner.backward_fetch(key)
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        self.inner.flush()
    }

    fn close(&mut self) -> Result<(), StoreError> {
        self.inner.close()
    }

    fn set_flush_listener(
        &mut self,
        listener: SessionFlushListener,
        send_old_values: bool,
    ) -> bool {
        self.inner.set_flush_listener(listener, send_old_values)
    }
}
