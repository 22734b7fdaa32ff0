use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::{FileHandle, FileSystem, OsFileSystem, StorageFile};

/// A file system that behaves like the real one until told to fail.
///
/// [`FaultyFileSystem::fill_after`] simulates a disk with a budget of bytes: once the budget is spent,
/// every write fails with `ENOSPC` (the error a full disk gives). [`FaultyFileSystem::fail_syncs`]
/// makes every fsync fail with `EIO`; [`FaultyFileSystem::syncs`] counts those that succeed.
/// [`FaultyFileSystem::unsynced_entries`] lists the files and directories created whose directory
/// entries a power loss could still take away. Cloning shares the fault state.
#[derive(Debug, Clone, Default)]
pub struct FaultyFileSystem {
    inner: OsFileSystem,
    state: Arc<FaultState>,
}

#[derive(Debug)]
struct FaultState {
    budget: AtomicU64,
    fail_syncs: AtomicBool,
    /// Paths created (files, directories, rename targets) whose parent directory has not been
    /// synced since.
    unsynced: parking_lot::Mutex<Vec<PathBuf>>,
    /// File fsyncs that succeeded.
    syncs: AtomicU64,
}

impl Default for FaultState {
    fn default() -> Self {
        Self {
            budget: AtomicU64::new(u64::MAX),
            fail_syncs: AtomicBool::new(false),
            unsynced: parking_lot::Mutex::default(),
            syncs: AtomicU64::new(0),
        }
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

    /// The files and directories created (or renamed into place) whose parent directory has not
    /// been synced since: after a power loss they might be gone, with whatever they held.
    pub fn unsynced_entries(&self) -> Vec<PathBuf> {
        self.state.unsynced.lock().clone()
    }

    /// How many file fsyncs have succeeded so far.
    pub fn syncs(&self) -> u64 {
        self.state.syncs.load(Ordering::SeqCst)
    }

    fn created(&self, path: &Path) {
        self.state.unsynced.lock().push(path.to_path_buf());
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
        self.inner.sync_data()?;
        self.state.syncs.fetch_add(1, Ordering::SeqCst);
        Ok(())
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
        let new = create && !self.inner.exists(path);
        let inner = self.inner.open(path, create)?;
        if new {
            self.created(path);
        }
        Ok(Arc::new(FaultyFile { inner, state: self.state.clone() }))
    }
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        let new: Vec<&Path> = path.ancestors().take_while(|p| !self.inner.exists(p)).collect();
        self.inner.create_dir_all(path)?;
        for p in new.into_iter().rev() {
            self.created(p);
        }
        Ok(())
    }
    fn read_dir(&self, path: &Path) -> io::Result<Vec<PathBuf>> {
        self.inner.read_dir(path)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.inner.remove_file(path)?;
        self.state.unsynced.lock().retain(|p| p != path);
        Ok(())
    }
    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        self.inner.remove_dir_all(path)?;
        self.state.unsynced.lock().retain(|p| !p.starts_with(path));
        Ok(())
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.inner.rename(from, to)?;
        let mut unsynced = self.state.unsynced.lock();
        // Entries created inside a renamed directory move with it.
        for p in unsynced.iter_mut() {
            if let Ok(rest) = p.strip_prefix(from) {
                *p = to.join(rest);
            }
        }
        unsynced.retain(|p| p != to);
        unsynced.push(to.to_path_buf());
        Ok(())
    }
    fn exists(&self, path: &Path) -> bool {
        self.inner.exists(path)
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.inner.read(path)
    }
    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        self.inner.sync_dir(path)?;
        self.state.unsynced.lock().retain(|p| p.parent() != Some(path));
        Ok(())
    }
}
