//! What both session backends do the same way: stream time, retention, the key layout and the
//! filtering of searches. The backend ([`SegmentedBytes`]) only stores raw keys.

use std::time::Duration;

use bytes::Bytes;

use crate::StoreError;
use crate::bounds;
use crate::segments::{NO_STREAM_TIME, SegmentedBytes, millis, min_live, warn_expired};
use crate::session::{SessionIterator, SessionKey, SessionQuery, store_key, valid, warn_invalid};

/// A session store over a segmented-bytes backend (Kafka's `RocksDBSessionStore` over a
/// `SegmentedBytesStore`, and the logic of its `InMemorySessionStore`). Sessions are filed under
/// their end time.
pub(crate) struct SessionCore<B> {
    name: String,
    backend: B,
    open: bool,
    retention_ms: i64,
    stream_time: i64,
}

impl<B: SegmentedBytes> SessionCore<B> {
    pub(crate) fn new(name: String, backend: B, retention: Duration) -> Self {
        Self {
            name,
            backend,
            open: false,
            retention_ms: millis(retention),
            stream_time: NO_STREAM_TIME,
        }
    }

    pub(crate) fn backend(&self) -> &B {
        &self.backend
    }

    fn check_open(&self) -> Result<(), StoreError> {
        if self.open { Ok(()) } else { Err(StoreError::Closed { store: self.name.clone() }) }
    }

    fn min_live(&self) -> i64 {
        min_live(self.stream_time, self.retention_ms)
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn persistent(&self) -> bool {
        self.backend.persistent()
    }

    pub(crate) fn is_open(&self) -> bool {
        self.open
    }

    pub(crate) fn retention_period_ms(&self) -> i64 {
        self.retention_ms
    }

    pub(crate) fn observed_stream_time(&self) -> Option<i64> {
        (self.stream_time != NO_STREAM_TIME).then_some(self.stream_time)
    }

    pub(crate) fn init(&mut self) -> Result<(), StoreError> {
        if self.open {
            return Ok(());
        }
        let recovered = self.backend.open()?;
        self.stream_time = recovered.unwrap_or(NO_STREAM_TIME);
        if let Err(err) = self.backend.expire(self.min_live()) {
            let _ = self.backend.close(self.stream_time);
            return Err(err);
        }
        self.open = true;
        Ok(())
    }

    pub(crate) fn put(
        &mut self,
        session: SessionKey,
        value: Option<Bytes>,
    ) -> Result<(), StoreError> {
        self.check_open()?;
        let SessionKey { key, start, end } = session;
        if !valid(start, end) {
            warn_invalid(&self.name, start, end);
            return Ok(());
        }
        self.stream_time = self.stream_time.max(end);
        let min_live = self.min_live();
        if end < min_live {
            warn_expired(&self.name, end, self.stream_time);
        } else {
            self.backend.put(Bytes::from(store_key(&key, start, end)), value, end)?;
        }
        self.backend.expire(min_live)
    }

    pub(crate) fn fetch_session(
        &self,
        key: &[u8],
        start: i64,
        end: i64,
    ) -> Result<Option<Bytes>, StoreError> {
        self.check_open()?;
        if !valid(start, end) || end < self.min_live() {
            return Ok(None);
        }
        self.backend.get(&store_key(key, start, end), end)
    }

    pub(crate) fn find(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        earliest_end: i64,
        latest_start: i64,
        reverse: bool,
    ) -> Result<SessionIterator<'_>, StoreError> {
        self.check_open()?;
        if bounds::is_inverted(key_from, key_to) {
            bounds::warn_inverted(&self.name);
            return Ok(Box::new(std::iter::empty()));
        }
        let Some(query) = SessionQuery::new(
            key_from,
            key_to,
            earliest_end,
            latest_start,
            self.min_live(),
            self.backend.max_time(),
        ) else {
            return Ok(Box::new(std::iter::empty()));
        };
        let raw = self.backend.scan(
            query.lower.as_deref(),
            query.upper.as_deref(),
            query.end_from,
            query.end_to,
            reverse,
        )?;
        Ok(Box::new(raw.filter_map(move |item| match item {
            Ok((raw, value)) => query.matches(&raw).map(|session| Ok((session, value))),
            Err(err) => Some(Err(err)),
        })))
    }

    pub(crate) fn flush(&mut self) -> Result<(), StoreError> {
        self.check_open()?;
        self.backend.flush(self.stream_time)
    }

    pub(crate) fn close(&mut self) -> Result<(), StoreError> {
        if !self.open {
            return Ok(());
        }
        self.open = false;
        let closed = self.backend.close(self.stream_time);
        if !self.backend.persistent() {
            self.stream_time = NO_STREAM_TIME;
        }
        closed
    }
}

/// Implements [`SessionStore`](crate::SessionStore) for a type whose `core` field is a
/// [`SessionCore`].
macro_rules! delegate_session_store {
    ($ty:ty) => {
        impl $crate::session::SessionStore for $ty {
            fn name(&self) -> &str {
                self.core.name()
            }
            fn persistent(&self) -> bool {
                self.core.persistent()
            }
            fn is_open(&self) -> bool {
                self.core.is_open()
            }
            fn retention_period_ms(&self) -> i64 {
                self.core.retention_period_ms()
            }
            fn observed_stream_time(&self) -> Option<i64> {
                self.core.observed_stream_time()
            }
            fn init(&mut self) -> Result<(), $crate::StoreError> {
                self.core.init()
            }
            fn put(
                &mut self,
                session: $crate::session::SessionKey,
                value: Option<bytes::Bytes>,
            ) -> Result<(), $crate::StoreError> {
                self.core.put(session, value)
            }
            fn fetch_session(
                &self,
                key: &[u8],
                start: i64,
                end: i64,
            ) -> Result<Option<bytes::Bytes>, $crate::StoreError> {
                self.core.fetch_session(key, start, end)
            }
            fn find_sessions(
                &self,
                key: &[u8],
                earliest_session_end: i64,
                latest_session_start: i64,
            ) -> Result<$crate::session::SessionIterator<'_>, $crate::StoreError> {
                self.core.find(
                    Some(key),
                    Some(key),
                    earliest_session_end,
                    latest_session_start,
                    false,
                )
            }
            fn backward_find_sessions(
                &self,
                key: &[u8],
                earliest_session_end: i64,
                latest_session_start: i64,
            ) -> Result<$crate::session::SessionIterator<'_>, $crate::StoreError> {
                self.core.find(
                    Some(key),
                    Some(key),
                    earliest_session_end,
                    latest_session_start,
                    true,
                )
            }
            fn find_sessions_in_key_range(
                &self,
                key_from: Option<&[u8]>,
                key_to: Option<&[u8]>,
                earliest_session_end: i64,
                latest_session_start: i64,
            ) -> Result<$crate::session::SessionIterator<'_>, $crate::StoreError> {
                self.core.find(key_from, key_to, earliest_session_end, latest_session_start, false)
            }
            fn backward_find_sessions_in_key_range(
                &self,
                key_from: Option<&[u8]>,
                key_to: Option<&[u8]>,
                earliest_session_end: i64,
                latest_session_start: i64,
            ) -> Result<$crate::session::SessionIterator<'_>, $crate::StoreError> {
                self.core.find(key_from, key_to, earliest_session_end, latest_session_start, true)
            }
            fn flush(&mut self) -> Result<(), $crate::StoreError> {
                self.core.flush()
            }
            fn close(&mut self) -> Result<(), $crate::StoreError> {
                self.core.close()
            }
        }
    };
}

pub(crate) use delegate_session_store;
