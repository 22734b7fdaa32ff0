//! The stores an application instance hosts now, active and standby, for interactive queries
//! and lag reports. Tasks register their stores once they are open (and restored) and remove
//! them when they close; queries from any thread find them here.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use parking_lot::{Mutex, ReentrantMutex};
use state_stores::KeyValueStore as BytesStore;

use crate::state::StoreSpec;
use crate::task::TaskId;

/// A store stack shared by its task's thread and interactive queries. The lock is re-entrant
/// because a store's cache flush forwards updates downstream on the same thread, where another
/// processor may read the store; across threads it serializes queries with processing.
pub(crate) type SharedStore = Arc<ReentrantMutex<RefCell<Box<dyn BytesStore>>>>;

/// One hosted store of one task.
pub(crate) struct LocalStore {
    pub(crate) task: TaskId,
    pub(crate) standby: bool,
    pub(crate) spec: StoreSpec,
    pub(crate) store: SharedStore,
    /// The changelog partition, when the store is logged.
    pub(crate) changelog: Option<(Arc<str>, i32)>,
    /// The next changelog offset the local copy reflects; -1 when unknown (an active store is
    /// current by definition: it writes the changelog).
    pub(crate) position: AtomicI64,
}

impl LocalStore {
    pub(crate) fn position(&self) -> i64 {
        self.position.load(Ordering::Acquire)
    }

    pub(crate) fn set_position(&self, offset: i64) {
        self.position.store(offset, Ordering::Release);
    }
}

/// Every store this instance hosts.
#[derive(Default)]
pub(crate) struct StoreRegistry {
    stores: Mutex<Vec<Arc<LocalStore>>>,
}

impl StoreRegistry {
    pub(crate) fn register(&self, store: Arc<LocalStore>) {
        let mut stores = self.stores.lock();
        stores.retain(|s| !(s.task == store.task && s.spec.name == store.spec.name));
        stores.push(store);
    }

    /// Removes the stores of `task` (its active or its standby copy).
    pub(crate) fn deregister(&self, task: TaskId, standby: bool) {
        self.stores.lock().retain(|s| !(s.task == task && s.standby == standby));
    }

    /// The copies of store `name` hosted here, by task.
    pub(crate) fn find(&self, name: &str) -> Vec<Arc<LocalStore>> {
        let mut found: Vec<Arc<LocalStore>> =
            self.stores.lock().iter().filter(|s| s.spec.name == name).cloned().collect();
        found.sort_by_key(|s| (s.task, s.standby));
        found
    }

    /// Every hosted store.
    pub(crate) fn all(&self) -> Vec<Arc<LocalStore>> {
        let mut all = self.stores.lock().clone();
        all.sort_by(|a, b| a.spec.name.cmp(&b.spec.name).then(a.task.cmp(&b.task)));
        all
    }
}
