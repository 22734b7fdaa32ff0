//! A window store seen as a key-value store over Kafka's windowed changelog keys.

use bytes::Bytes;

use crate::StoreError;
use crate::key_value::{KeyValueIterator, KeyValueStore};
use crate::window::WindowStore;

/// The 12-byte suffix of a windowed key: window start (8 bytes) and sequence number (4 bytes).
const SUFFIX: usize = 12;

/// Presents a window store (without duplicates) as a [`KeyValueStore`] whose keys are Kafka's
/// windowed changelog keys `[key][window start, 8 bytes BE][seq 0, 4 bytes BE]`
/// ([`WindowedKey::to_changelog_key`](crate::WindowedKey::to_changelog_key)).
///
/// This lets the key-value layers (record cache, change-logging, metering) and everything built
/// on key-value stores (restoration from a changelog, standby replicas, queries) serve window
/// stores too: the changelog it writes is exactly a Kafka window store's, and the window store
/// below keeps its time segments, retention and expiry. Keys shorter than the suffix are refused.
///
/// Scans are in the window store's order, the byte order of these keys. A range scan whose two
/// ends share one key (`[k][from][0]` to `[k][to][u32::MAX]`, a fetch of `k`'s windows in a time
/// range) reads only that key's windows.
///
/// ```
/// use bytes::Bytes;
/// use state_stores::{
///     InMemoryWindowStore, KeyValueStore, WindowKeyValueStore, WindowStore, WindowedKey,
/// };
/// use std::time::Duration;
///
/// let day = Duration::from_secs(86_400);
/// let minute = Duration::from_secs(60);
/// let mut store = WindowKeyValueStore::new(InMemoryWindowStore::new("w", day, minute, false));
/// store.init()?;
/// let k = WindowedKey::new(Bytes::from("page"), 60_000).to_changelog_key(0);
/// store.put(k.clone(), Some(Bytes::from("3")))?;
/// assert_eq!(store.window_store().fetch(b"page", 60_000)?, Some(Bytes::from("3")));
/// assert_eq!(store.get(&k)?, Some(Bytes::from("3")));
/// # Ok::<(), state_stores::StoreError>(())
/// ```
pub struct WindowKeyValueStore<W> {
    inner: W,
}

impl<W: WindowStore> WindowKeyValueStore<W> {
    /// Wraps `inner`, which must not retain duplicates.
    pub fn new(inner: W) -> Self {
        Self { inner }
    }

    /// The window store below.
    pub fn window_store(&self) -> &W {
        &self.inner
    }

    /// The length of the key in windowed key `raw`, and the window start it names.
    fn split(&self, raw: &[u8]) -> Result<(usize, i64), StoreError> {
        let parsed = raw.len().checked_sub(SUFFIX).and_then(|n| {
            let start: [u8; 8] = raw.get(n..n + 8)?.try_into().ok()?;
            Some((n, i64::from_be_bytes(start)))
        });
        parsed.ok_or_else(|| StoreError::InvalidInput {
            store: self.inner.name().to_owned(),
            message: format!(
                "a windowed key needs at least {SUFFIX} bytes ([key][start][seq]); got {}",
                raw.len()
            ),
        })
    }

    /// The windows whose windowed keys lie in `[from, to]` (`None` leaves that end open), in
    /// store order or, `backward`, its reverse; read as the scan goes.
    fn scan(
        &self,
        from: Option<&[u8]>,
        to: Option<&[u8]>,
        backward: bool,
    ) -> Result<KeyValueIterator<'_>, StoreError> {
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Ok(Box::new(std::iter::empty()));
            }
        }
        // Narrow the scan to the keys the bounds name; the byte bounds then cut the rest.
        let key_of = |b: &[u8]| (b.len() >= SUFFIX).then(|| b[..b.len() - SUFFIX].to_vec());
        let (key_from, key_to) = (from.and_then(key_of), to.and_then(key_of));
        let (kf, kt) = (key_from.as_deref(), key_to.as_deref());
        let windows = if backward {
            self.inner.backward_fetch_key_range(kf, kt, i64::MIN, i64::MAX)?
        } else {
            self.inner.fetch_key_range(kf, kt, i64::MIN, i64::MAX)?
        };
        let (from, to) = (from.map(<[u8]>::to_vec), to.map(<[u8]>::to_vec));
        Ok(Box::new(windows.filter_map(move |item| match item {
            Err(e) => Some(Err(e)),
            Ok((wk, v)) => {
                let k = wk.to_changelog_key(0);
                let below = from.as_deref().is_some_and(|f| k.as_ref() < f);
                let above = to.as_deref().is_some_and(|t| k.as_ref() > t);
                (!below && !above).then_some(Ok((k, v)))
            }
        })))
    }
}

impl<W: WindowStore> KeyValueStore for WindowKeyValueStore<W> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn persistent(&self) -> bool {
        self.inner.persistent()
    }

    fn is_open(&self) -> bool {
        self.inner.is_open()
    }

    fn init(&mut self) -> Result<(), StoreError> {
        self.inner.init()
    }

    fn get(&self, key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        let (n, start) = self.split(key)?;
        self.inner.fetch(&key[..n], start)
    }

    fn put(&mut self, key: Bytes, value: Option<Bytes>) -> Result<(), StoreError> {
        let (n, start) = self.split(&key)?;
        self.inner.put(key.slice(..n), value, start)
    }

    fn put_if_absent(&mut self, key: Bytes, value: Bytes) -> Result<Option<Bytes>, StoreError> {
        let existing = self.get(&key)?;
        if existing.is_none() {
            self.put(key, Some(value))?;
        }
        Ok(existing)
    }

    fn put_all(&mut self, entries: &[(Bytes, Option<Bytes>)]) -> Result<(), StoreError> {
        for (k, v) in entries {
            self.put(k.clone(), v.clone())?;
        }
        Ok(())
    }

    fn delete(&mut self, key: &Bytes) -> Result<Option<Bytes>, StoreError> {
        let old = self.get(key)?;
        self.put(key.clone(), None)?;
        Ok(old)
    }

    fn range(
        &self,
        from: Option<&[u8]>,
        to: Option<&[u8]>,
    ) -> Result<KeyValueIterator<'_>, StoreError> {
        self.scan(from, to, false)
    }

    fn reverse_range(
        &self,
        from: Option<&[u8]>,
        to: Option<&[u8]>,
    ) -> Result<KeyValueIterator<'_>, StoreError> {
        self.scan(from, to, true)
    }

    fn prefix_scan(&self, prefix: &[u8]) -> Result<KeyValueIterator<'_>, StoreError> {
        let prefix = prefix.to_vec();
        Ok(Box::new(
            self.scan(None, None, false)?
                .filter(move |item| item.as_ref().map_or(true, |(k, _)| k.starts_with(&prefix))),
        ))
    }

    fn approximate_num_entries(&self) -> Result<u64, StoreError> {
        Ok(self.inner.all()?.count() as u64)
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        self.inner.flush()
    }

    fn close(&mut self) -> Result<(), StoreError> {
        self.inner.close()
    }
}
