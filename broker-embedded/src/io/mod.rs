//! The storage seam: every file the broker touches goes through [`FileSystem`].
//!
//! The real implementation is [`OsFileSystem`]. [`FaultyFileSystem`] wraps it and injects failures
//! (a disk that fills up after a byte budget, failing fsyncs) so that tests can prove that a failed
//! write is reported as an error and never acknowledged.

mod background;
mod faulty;
mod mapped;
mod os;

pub(crate) use background::background;
pub use faulty::FaultyFileSystem;
pub(crate) use mapped::{MappedFile, prefetch};
pub use os::OsFileSystem;

use std::fmt::Debug;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file opened for positioned reads and writes. All methods take `&self` so that readers can read
/// while the single writer appends.
pub trait StorageFile: Send + Sync + Debug {
    /// Reads exactly `buf.len()` bytes at `pos`, or fails with `UnexpectedEof`.
    fn read_exact_at(&self, buf: &mut [u8], pos: u64) -> io::Result<()>;
    /// Writes all of `data` at `pos`.
    fn write_all_at(&self, data: &[u8], pos: u64) -> io::Result<()>;
    /// Flushes file data to stable storage.
    fn sync_data(&self) -> io::Result<()>;
    /// Truncates or extends the file.
    fn set_len(&self, len: u64) -> io::Result<()>;
    /// The current length of the file.
    fn len(&self) -> io::Result<u64>;
    /// Whether the file is empty.
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }
    /// Asks the operating system to start writing `len` bytes at `pos` to storage, without waiting
    /// (Linux's `sync_file_range` with `SYNC_FILE_RANGE_WRITE`). A hint that spreads the disk
    /// writes of interval-flush mode over time, so that the next fsync has little left to do; it
    /// makes nothing durable. The default does nothing.
    fn start_writeback(&self, pos: u64, len: u64) -> io::Result<()> {
        let _ = (pos, len);
        Ok(())
    }
    /// The operating-system file behind this one, if any. The log maps such files read-only to hand
    /// out batches without copying them; without one (the default) it reads with
    /// [`read_exact_at`](StorageFile::read_exact_at).
    fn os_file(&self) -> Option<&std::fs::File> {
        None
    }
}

/// A shared handle to an open file.
pub type FileHandle = Arc<dyn StorageFile>;

/// The directory and file operations the broker needs.
pub trait FileSystem: Send + Sync + Debug {
    /// Opens a file for reading and writing, creating it when `create` is set.
    fn open(&self, path: &Path, create: bool) -> io::Result<FileHandle>;
    /// Creates a directory and its parents.
    fn create_dir_all(&self, path: &Path) -> io::Result<()>;
    /// Lists the entries of a directory (full paths).
    fn read_dir(&self, path: &Path) -> io::Result<Vec<PathBuf>>;
    /// Removes a file; a missing file is not an error.
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// Removes a directory and everything in it; a missing directory is not an error.
    fn remove_dir_all(&self, path: &Path) -> io::Result<()>;
    /// Renames a file or directory.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Whether a path exists.
    fn exists(&self, path: &Path) -> bool;
    /// Reads a whole (small) file.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Flushes a directory's entries (after creating, renaming or deleting files in it).
    fn sync_dir(&self, path: &Path) -> io::Result<()>;

    /// Replaces a small file atomically: write a temporary file, fsync, rename, fsync the directory.
    fn write_atomic(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let _ = self.remove_file(&tmp);
        let file = self.open(&tmp, true)?;
        file.set_len(0)?;
        file.write_all_at(data, 0)?;
        file.sync_data()?;
        drop(file);
        self.rename(&tmp, path)?;
        if let Some(parent) = path.parent() {
            self.sync_dir(parent)?;
        }
        Ok(())
    }
}
