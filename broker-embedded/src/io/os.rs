use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;

use super::{FileHandle, FileSystem, StorageFile};

/// The operating system's file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsFileSystem;

#[derive(Debug)]
struct OsFile(File);

impl StorageFile for OsFile {
    fn read_exact_at(&self, buf: &mut [u8], pos: u64) -> io::Result<()> {
        self.0.read_exact_at(buf, pos)
    }
    fn write_all_at(&self, data: &[u8], pos: u64) -> io::Result<()> {
        self.0.write_all_at(data, pos)
    }
    fn sync_data(&self) -> io::Result<()> {
        self.0.sync_data()
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }
    fn len(&self) -> io::Result<u64> {
        Ok(self.0.metadata()?.len())
    }
    fn os_file(&self) -> Option<&File> {
        Some(&self.0)
    }
    #[cfg(target_os = "linux")]
    fn start_writeback(&self, pos: u64, len: u64) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let (Ok(pos), Ok(len)) = (libc::off64_t::try_from(pos), libc::off64_t::try_from(len))
        else {
            return Ok(());
        };
        // SAFETY: a plain system call on a file descriptor this value owns; no memory is passed.
        #[allow(unsafe_code)]
        let rc = unsafe {
            libc::sync_file_range(self.0.as_raw_fd(), pos, len, libc::SYNC_FILE_RANGE_WRITE)
        };
        if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
    }
}

/// Maps the first `len` bytes of `file` read-only and shared, as [`Bytes`] that keep the map alive.
///
/// `len` may exceed the file's length: the map then sees the file grow as it is appended to. Bytes
/// past the end of the file must never be touched (the kernel answers with `SIGBUS`), so callers
/// slice only what the log knows to be written, and the log never cuts a mapped file below what it
/// had written when the map was made (an append that fails is rolled back to where it started,
/// recovery truncates before anything is mapped, compaction writes new files).
/// Asks the CPU to bring the first cache lines of `bytes` into its caches; a hint only.
#[inline]
pub(crate) fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults and has no effect on the program's state, whatever the
    // address; the pointer comes from a live slice anyway. SSE is part of every x86-64 CPU.
    #[allow(unsafe_code)]
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(bytes.as_ptr().cast());
        _mm_prefetch::<_MM_HINT_T0>(bytes.as_ptr().wrapping_add(64).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

/// Asks the kernel to map the pages of `bytes`, a slice of a map made by [`map_read_only`], into
/// the page table in one call (`MADV_POPULATE_READ`), rather than page fault by page fault as they
/// are first read; a hint only, failures are ignored.
pub(crate) fn populate(bytes: &[u8]) {
    #[cfg(target_os = "linux")]
    {
        static PAGE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
        let page = *PAGE.get_or_init(|| {
            // SAFETY: sysconf reads a system constant.
            #[allow(unsafe_code)]
            let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
            usize::try_from(size).ok().filter(|s| s.is_power_of_two()).unwrap_or(4096)
        });
        let start = bytes.as_ptr() as usize;
        let aligned = start & !(page - 1);
        // SAFETY: the range lies within one map (maps start on a page boundary, so rounding the
        // start down stays inside it); MADV_POPULATE_READ only fills page table entries for it
        // and changes no memory. Pages it cannot map make it fail, which is ignored.
        #[allow(unsafe_code)]
        unsafe {
            libc::madvise(
                aligned as *mut libc::c_void,
                bytes.len() + (start - aligned),
                libc::MADV_POPULATE_READ,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = bytes;
}

pub(crate) fn map_read_only(file: &File, len: u64) -> io::Result<Bytes> {
    let len = usize::try_from(len).map_err(|_| io::Error::other("mapping too large"))?;
    // SAFETY: the map is read-only and shared; the log writes only past the bytes it hands out and
    // never truncates below them while a map exists (see above), so the bytes handed out do not
    // change and stay backed by the file. Another process truncating the file could still make a
    // read fault, as with any memory map of a file; the data directory is the broker's own.
    #[allow(unsafe_code)]
    let map = unsafe { memmap2::MmapOptions::new().len(len).map(file)? };
    Ok(Bytes::from_owner(map))
}

impl FileSystem for OsFileSystem {
    fn open(&self, path: &Path, create: bool) -> io::Result<FileHandle> {
        let file =
            OpenOptions::new().read(true).write(true).create(create).truncate(false).open(path)?;
        Ok(Arc::new(OsFile(file)))
    }
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        fs::create_dir_all(path)
    }
    fn read_dir(&self, path: &Path) -> io::Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(path)? {
            out.push(entry?.path());
        }
        out.sort();
        Ok(out)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        match fs::remove_file(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }
    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        match fs::remove_dir_all(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }
    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        fs::read(path)
    }
    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        File::open(path)?.sync_all()
    }
}
