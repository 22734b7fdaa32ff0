//! The in-memory session backend.

use std::time::Duration;

use crate::segments::memory::MemorySegments;
use crate::session::core::{SessionCore, delegate_session_store};

/// A session store held in memory: Kafka's `InMemorySessionStore`.
///
/// Sessions live in one ordered map keyed by `[key][end][start]` (the RocksDB layout, so both
/// backends search in the same order), with an index by end time so that expired sessions are
/// dropped one by one as stream time advances. Not persistent:
/// [`close`](crate::SessionStore::close) drops the data, and the runtime restores the store from
/// its changelog when it is opened again.
///
/// ```
/// use std::time::Duration;
/// use bytes::Bytes;
/// use state_stores::{InMemorySessionStore, SessionKey, SessionStore};
///
/// let mut store = InMemorySessionStore::new("visits", Duration::from_secs(3600));
/// store.init()?;
/// store.put(SessionKey::new(Bytes::from_static(b"alice"), 1_000, 5_000), Some(Bytes::from_static(b"2")))?;
/// // A record at 7 000 with a 3 000 ms inactivity gap merges with sessions touching [4 000, 10 000].
/// let found: Vec<_> = store.find_sessions(b"alice", 4_000, 10_000)?.collect::<Result<_, _>>()?;
/// assert_eq!(found[0].0, SessionKey::new(Bytes::from_static(b"alice"), 1_000, 5_000));
/// # Ok::<(), state_stores::StoreError>(())
/// ```
pub struct InMemorySessionStore {
    core: SessionCore<MemorySegments>,
}

impl InMemorySessionStore {
    /// A closed, empty store keeping sessions for `retention` of stream time past their end.
    /// [`init`](crate::SessionStore::init) opens it.
    pub fn new(name: impl Into<String>, retention: Duration) -> Self {
        Self { core: SessionCore::new(name.into(), MemorySegments::new(), retention) }
    }
}

impl std::fmt::Debug for InMemorySessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemorySessionStore")
            .field("name", &self.core.name())
            .field("open", &self.core.is_open())
            .field("retention_period_ms", &self.core.retention_period_ms())
            .finish()
    }
}

delegate_session_store!(InMemorySessionStore);
