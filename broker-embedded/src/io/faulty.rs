use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::{FileHandle, FileSystem, OsFileSystem, StorageFile};

/// A file system that behaves like the real one until told to fail.
///
/// [`FaultyFileSystem::fill_after`] simulates a disk with a budget of bytes: once the budget is spent,
/// every write fails with `ENOSPC` (the error a full disk gives). [`FaultyFileSystem::fail_syncs`]
/// makes every fsync fail with `EIO`. Cloning shares the fault state.
#[derive(Debug, Clone, Default)]
pub struct FaultyFileSystem {
    inner: OsFileSystem,
    state: Arc<FaultState>,
}

#[derive(Debug)]
struct FaultState {
    budget: AtomicU64,
    fail_syncs: AtomicBool,
}

impl Default for FaultState {
    fn default() -> Self {
        Self { budget: AtomicU64::new(u64::MAX), fail_syncs: AtomicBool::new(false) }
    }
}

impl FaultState {
    /// Takes up to `bytes` from the budget; returns how many fit.
    fn take(&self, bytes: u64) -> u64 {
        let mut current = self.budget.load(Ordering::SeqCst);
        loop {
            let granted = current.min(bytes);
            match self.budget.compare_exchange(
                current,
                current - granted,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return granted,
                Err(actual) => current = actual,
            }
        }
    }

    fn charge(&self, bytes: u64) -> io::Result<()> {
        let mut current = self.budget.load(Ordering::SeqCst);
        loop {
            if current < bytes {
                self.budget.store(0, Ordering::SeqCst);
                return Err(io::Error::from_raw_os_error(libc_enospc()));
            }
            match self.budget.compare_exchange(
                current,
                current - bytes,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => current = actual,
            }
        }
    }
}

/// `ENOSPC` on Linux and the BSDs.
const fn libc_enospc() -> i32 {
    28
}

impl FaultyFileSystem {
    /// A file system with no faults armed.
    pub fn new() -> Self {
        Self::default()
    }

    /// After `bytes` more bytes are written, every write fails with "no space left on device".
    pub fn fill_after(&self, bytes: u64) {
        self.state.budget.store(bytes, Ordering::SeqCst);
    }

    /// Makes every later fsync fail (or succeed again).
    pub fn fail_syncs(&self, fail: bool) {
        self.state.fail_syncs.store(fail, Ordering::SeqCst);
    }

    /// Removes every armed fault: the disk has space again.
    pub fn heal(&self) {
        self.state.budget.store(u64::MAX, Ordering::SeqCst);
        self.state.fail_syncs.store(false, Ordering::SeqCst);
    }
}

#[derive(Debug)]
struct FaultyFile {
    inner: FileHandle,
    state: Arc<FaultState>,
}

impl StorageFile for FaultyFile {
    fn read_exact_at(&self, buf: &mut [u8], pos: u64) -> io::Result<()> {
        self.inner.read_exact_at(buf, pos)
    }
    fn write_all_at(&self, data: &[u8], pos: u64) -> io::Result<()> {
        // Like a real disk filling up: what fits is written, then the write fails.
        let granted = self.state.take(data.len() as u64) as usize;
        if granted < data.len() {
            self.inner.write_all_at(&data[..granted], pos)?;
            return Err(io::Error::from_raw_os_error(libc_enospc()));
        }
        self.inner.write_all_at(data, pos)
    }
    fn sync_data(&self) -> io::Result<()> {
        if self.state.fail_syncs.load(Ordering::SeqCst) {
            return Err(io::Error::from_raw_os_error(5));
        }
        self.inner.sync_data()
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        let current = self.inner.len()?;
        if len > current {
            self.state.charge(len - current)?;
        }
        self.inner.set_len(len)
    }
    fn len(&self) -> io::Result<u64> {
        self.inner.len()
    }
}

impl FileSystem for FaultyFileSystem {
    fn open(&self, path: &Path, create: bool) -> io::Result<FileHandle> {
        let inner = self.inner.open(path, create)?;
        Ok(Arc::new(FaultyFile { inner, state: self.state.clone() }))
    }
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        self.inner.create_dir_all(path)
    }
    fn read_dir(&self, path: &Path) -> io::Result<Vec<PathBuf>> {
        self.inner.read_dir(path)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.inner.remove_file(path)
    }
    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        self.inner.remove_dir_all(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.inner.rename(from, to)
    }
    fn exists(&self, path: &Path) -> bool {
        self.inner.exists(path)
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.inner.read(path)
    }
    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        self.inner.sync_dir(path)
    }
}
