//! What all RocksDB-backed stores share: the application-wide [`RocksDbConfig`] and the mapping of
//! RocksDB's errors onto [`StoreError`].

pub(crate) mod config;

use std::path::Path;

use rocksdb::ErrorKind;

use crate::StoreError;

/// Turns a RocksDB error into a [`StoreError`] that names the store directory.
pub(crate) fn store_error(err: rocksdb::Error, store: &str, path: &Path) -> StoreError {
    let kind = err.kind();
    let message = err.into_string();
    match kind {
        ErrorKind::Corruption => {
            StoreError::Corrupted { path: path.to_path_buf(), reason: message }
        }
        ErrorKind::IOError if is_lock_conflict(&message) => {
            StoreError::LockHeld { path: path.to_path_buf() }
        }
        ErrorKind::IOError => {
            StoreError::Io { path: path.to_path_buf(), source: std::io::Error::other(message) }
        }
        _ => StoreError::Engine { store: store.to_owned(), path: path.to_path_buf(), message },
    }
}

/// RocksDB's two messages for a `LOCK` file held elsewhere: by this process ("lock hold by current
/// process, acquire time ...: <dir>/LOCK: No locks available") or by another one ("While lock file:
/// <dir>/LOCK: Resource temporarily unavailable").
fn is_lock_conflict(message: &str) -> bool {
    message.contains("LOCK")
        && (message.contains("lock hold by current process") || message.contains("While lock file"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_lock_messages_are_recognized() {
        assert!(is_lock_conflict(
            "IO error: lock hold by current process, acquire time 1764500000 acquiring thread \
             140000: /tmp/s/LOCK: No locks available"
        ));
        assert!(is_lock_conflict(
            "IO error: While lock file: /tmp/s/LOCK: Resource temporarily unavailable"
        ));
        assert!(!is_lock_conflict("IO error: No space left on device: /tmp/s/000012.sst"));
    }
}
