//! The one error type every store operation returns.
//!
//! Each variant says what went wrong and what the caller can do about it. The runtime treats
//! `Corrupted` and `LockHeld` as "this local state cannot be used": it wipes or moves the task and
//! restores the store from its changelog, which is the source of truth.

use std::path::PathBuf;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store was never initialized, or it has been closed.
    #[error(
        "state store `{store}` is not open: call init() before using it (and not after close())"
    )]
    Closed {
        /// The store's name.
        store: String,
    },

    /// Another open store (in this process or another one) holds the directory's RocksDB `LOCK`
    /// file. Only one store instance may use a directory at a time.
    #[error(
        "state directory {} is in use by another open store (its RocksDB LOCK file is held): \
         close that store first, or give this one its own directory",
        path.display()
    )]
    LockHeld {
        /// The store directory.
        path: PathBuf,
    },

    /// The on-disk state is damaged (a bad `CURRENT` or `MANIFEST`, a truncated or garbled table
    /// file, a checksum mismatch).
    #[error(
        "state directory {} is corrupted ({reason}); delete the directory and the store will be \
         rebuilt from its changelog",
        path.display()
    )]
    Corrupted {
        /// The store directory.
        path: PathBuf,
        /// What the storage engine reported.
        reason: String,
    },

    /// An I/O operation on the store's directory failed (permissions, disk full, not a directory).
    #[error("I/O error on state directory {}: {source}", path.display())]
    Io {
        /// The file or directory the operation touched.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// The storage engine reported an error that is neither corruption, a held lock nor I/O.
    #[error("state store `{store}` at {}: storage engine error: {message}", path.display())]
    Engine {
        /// The store's name.
        store: String,
        /// The store directory.
        path: PathBuf,
        /// What the storage engine reported.
        message: String,
    },

    /// A key or value the store cannot take (a windowed key without its time suffix, say).
    #[error("state store `{store}`: {message}")]
    InvalidInput {
        /// The store's name.
        store: String,
        /// What is wrong with the input.
        message: String,
    },
}
