//! What both window backends do the same way: stream time, retention, sequence numbers, the key
//! layout and the filtering of scans. The backend ([`SegmentedBytes`]) only stores raw keys.

use std::time::Duration;

use bytes::Bytes;

use crate::StoreError;
use crate::bounds;
use crate::segments::{
    NO_STREAM_TIME, SegmentedBytes, millis, min_live, warn_expired, warn_negative,
};
use crate::window::{WindowIterator, WindowQuery, store_key};

/// A window store over a segmented-bytes backend (Kafka's `RocksDBWindowStore` over a
/// `SegmentedBytesStore`, and the logic of its `InMemoryWindowStore`).
pub(crate) struct WindowCore<B> {
    name: String,
    backend: B,
    open: bool,
    retention_ms: i64,
    window_size_ms: i64,
    retain_duplicates: bool,
    /// The last sequence number given to a duplicate (31 bits, wrapping, as Kafka's).
    seq: u32,
    stream_time: i64,
}

impl<B: SegmentedBytes> WindowCore<B> {
    pub(crate) fn new(
        name: String,
        backend: B,
        retention: Duration,
        window_size: Duration,
        retain_duplicates: bool,
    ) -> Self {
        Self {
            name,
            backend,
            open: false,
            retention_ms: millis(retention),
            window_size_ms: millis(window_size),
            retain_duplicates,
            seq: 0,
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

    pub(crate) fn window_size_ms(&self) -> i64 {
        self.window_size_ms
    }

    pub(crate) fn retain_duplicates(&self) -> bool {
        self.retain_duplicates
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
        key: Bytes,
        value: Option<Bytes>,
        window_start: i64,
    ) -> Result<(), StoreError> {
        self.check_open()?;
        if value.is_none() && self.retain_duplicates {
            return Ok(()); // Kafka: deleting from a store of duplicates is a no-op.
        }
        let seq = if self.retain_duplicates {
            self.seq = (self.seq + 1) & 0x7fff_ffff;
            self.seq
        } else {
            0
        };
        if window_start < 0 {
            warn_negative(&self.name, "window start", window_start);
            return Ok(());
        }
        self.stream_time = self.stream_time.max(window_start);
        let min_live = self.min_live();
        if window_start < min_live {
            warn_expired(&self.name, window_start, self.stream_time);
        } else {
            let raw = Bytes::from(store_key(&key, window_start, seq));
            self.backend.put(raw, value, window_start)?;
        }
        self.backend.expire(min_live)
    }

    pub(crate) fn fetch(&self, key: &[u8], window_start: i64) -> Result<Option<Bytes>, StoreError> {
        self.check_open()?;
        if window_start < self.min_live() {
            return Ok(None);
        }
        if !self.retain_duplicates {
            return self.backend.get(&store_key(key, window_start, 0), window_start);
        }
        match self.fetch_range(key, window_start, window_start, false)?.next() {
            Some(Ok((_, value))) => Ok(Some(value)),
            Some(Err(err)) => Err(err),
            None => Ok(None),
        }
    }

    fn scan(
        &self,
        query: Option<WindowQuery>,
        reverse: bool,
    ) -> Result<WindowIterator<'_>, StoreError> {
        let Some(query) = query else {
            return Ok(Box::new(std::iter::empty()));
        };
        let raw = self.backend.scan(
            query.lower.as_deref(),
            query.upper.as_deref(),
            query.time_from,
            query.time_to,
            reverse,
        )?;
        Ok(Box::new(raw.filter_map(move |item| match item {
            Ok((raw, value)) => query.matches(&raw).map(|key| Ok((key, value))),
            Err(err) => Some(Err(err)),
        })))
    }

    pub(crate) fn fetch_range(
        &self,
        key: &[u8],
        time_from: i64,
        time_to: i64,
        reverse: bool,
    ) -> Result<WindowIterator<'_>, StoreError> {
        self.check_open()?;
        self.scan(WindowQuery::single_key(key, time_from, time_to, self.min_live()), reverse)
    }

    pub(crate) fn fetch_key_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        time_from: i64,
        time_to: i64,
        reverse: bool,
    ) -> Result<WindowIterator<'_>, StoreError> {
        self.check_open()?;
        if bounds::is_inverted(key_from, key_to) {
            bounds::warn_inverted(&self.name);
            return Ok(Box::new(std::iter::empty()));
        }
        let query = WindowQuery::key_range(
            key_from,
            key_to,
            time_from,
            time_to,
            self.min_live(),
            self.backend.max_time(),
        );
        self.scan(query, reverse)
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

/// Implements [`WindowStore`](crate::WindowStore) for a type whose `core` field is a
/// [`WindowCore`].
macro_rules! delegate_window_store {
    ($ty:ty) => {
        impl $crate::window::WindowStore for $ty {
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
            fn window_size_ms(&self) -> i64 {
                self.core.window_size_ms()
            }
            fn retain_duplicates(&self) -> bool {
                self.core.retain_duplicates()
            }
            fn observed_stream_time(&self) -> Option<i64> {
                self.core.observed_stream_time()
            }
            fn init(&mut self) -> Result<(), $crate::StoreError> {
                self.core.init()
            }
            fn put(
                &mut self,
                key: bytes::Bytes,
                value: Option<bytes::Bytes>,
                window_start: i64,
            ) -> Result<(), $crate::StoreError> {
                self.core.put(key, value, window_start)
            }
            fn fetch(
                &self,
                key: &[u8],
                window_start: i64,
            ) -> Result<Option<bytes::Bytes>, $crate::StoreError> {
                self.core.fetch(key, window_start)
            }
            fn fetch_range(
                &self,
                key: &[u8],
                time_from: i64,
                time_to: i64,
            ) -> Result<$crate::window::WindowIterator<'_>, $crate::StoreError> {
                self.core.fetch_range(key, time_from, time_to, false)
            }
            fn backward_fetch_range(
                &self,
                key: &[u8],
                time_from: i64,
                time_to: i64,
            ) -> Result<$crate::window::WindowIterator<'_>, $crate::StoreError> {
                self.core.fetch_range(key, time_from, time_to, true)
            }
            fn fetch_key_range(
                &self,
                key_from: Option<&[u8]>,
                key_to: Option<&[u8]>,
                time_from: i64,
                time_to: i64,
            ) -> Result<$crate::window::WindowIterator<'_>, $crate::StoreError> {
                self.core.fetch_key_range(key_from, key_to, time_from, time_to, false)
            }
            fn backward_fetch_key_range(
                &self,
                key_from: Option<&[u8]>,
                key_to: Option<&[u8]>,
                time_from: i64,
                time_to: i64,
            ) -> Result<$crate::window::WindowIterator<'_>, $crate::StoreError> {
                self.core.fetch_key_range(key_from, key_to, time_from, time_to, true)
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

pub(crate) use delegate_window_store;
