//! Read-only memory maps of segment files, with their pages mapped ahead of sequential readers.
//!
//! A fresh map has no page table entries: each first touch of a page would fault. A window handed
//! to a reader has its pages mapped in one `madvise(MADV_POPULATE_READ)` call before it is read,
//! and the pages after it, up to [`AHEAD`] bytes, are mapped by the I/O hints thread
//! ([`background`](super::background)) while the reader works through the window, as kernel
//! readahead does for `read`. All of it is a hint: a page that is not mapped yet (the thread is
//! behind, or its queue was full) is faulted in when touched.

use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;

/// How far past a window the background thread maps pages.
const AHEAD: usize = 4 << 20;

/// A read-only map of the first bytes of a file, with how far its pages have been mapped.
#[derive(Clone)]
pub(crate) struct MappedFile {
    bytes: Bytes,
    populated: Arc<Populated>,
}

/// How far a map's pages have been put in the page table (`done`: everything below was asked for
/// and its call returned) and asked to be (`asked`: handed to the background thread).
#[derive(Default)]
struct Populated {
    done: AtomicU64,
    asked: AtomicU64,
}

impl std::fmt::Debug for MappedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MappedFile").field("len", &self.bytes.len()).finish()
    }
}

impl MappedFile {
    /// Maps the first `len` bytes of `file` read-only and shared.
    ///
    /// `len` may exceed the file's length: the map then sees the file grow as it is appended to.
    /// Bytes past the end of the file must never be touched (the kernel answers with `SIGBUS`), so
    /// callers slice only what the log knows to be written, and the log never cuts a mapped file
    /// below what it had written when the map was made (an append that fails is rolled back to
    /// where it started, recovery truncates before anything is mapped, compaction writes new
    /// files).
    pub(crate) fn map(file: &File, len: u64) -> io::Result<Self> {
        let len = usize::try_from(len).map_err(|_| io::Error::other("mapping too large"))?;
        // SAFETY: the map is read-only and shared; the log writes only past the bytes it hands out
        // and never truncates below them while a map exists (see above), so the bytes handed out
        // do not change and stay backed by the file. Another process truncating the file could
        // still make a read fault, as with any memory map of a file; the data directory is the
        // broker's own.
        #[allow(unsafe_code)]
        let map = unsafe { memmap2::MmapOptions::new().len(len).map(file)? };
        Ok(Self { bytes: Bytes::from_owner(map), populated: Arc::default() })
    }

    /// The length of the map (not of the file).
    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Bytes `start..end` of the map, all written, for a reader that may go on sequentially up to
    /// `limit` (also written): the window's pages are mapped now unless that was done already, and
    /// the next [`AHEAD`] bytes up to `limit` are handed to the background thread.
    pub(crate) fn window(&self, start: usize, end: usize, limit: usize) -> Bytes {
        let window = self.bytes.slice(start..end);
        if !cfg!(target_os = "linux") {
            return window;
        }
        // Pages already handed to the background thread are left to it, even if it has not got
        // to them yet: mapping them here too would only contend for the same page-table locks.
        let asked = usize::try_from(self.populated.asked.load(Ordering::Acquire)).unwrap_or(0);
        if end > asked {
            let done = usize::try_from(self.populated.done.load(Ordering::Acquire)).unwrap_or(0);
            populate(&self.bytes[start.max(done).min(end)..end]);
            self.populated.done.fetch_max(end as u64, Ordering::AcqRel);
        }
        let ahead = end.saturating_add(AHEAD).min(limit).min(self.bytes.len());
        let asked = self.populated.asked.fetch_max(ahead as u64, Ordering::AcqRel);
        let from = end.max(usize::try_from(asked).unwrap_or(usize::MAX));
        if from < ahead {
            let (bytes, populated) = (self.bytes.slice(from..ahead), self.populated.clone());
            // A dropped job (full queue) leaves those pages to be faulted in by the reader.
            super::background(move || {
                populate(&bytes);
                populated.done.fetch_max(ahead as u64, Ordering::AcqRel);
            });
        }
        window
    }
}

/// Asks the kernel to map the pages of `bytes`, a slice of a [`MappedFile`], into the page table
/// in one call (`MADV_POPULATE_READ`), rather than page fault by page fault as they are first
/// read; a hint only, failures are ignored.
fn populate(bytes: &[u8]) {
    #[cfg(target_os = "linux")]
    {
        static PAGE: OnceLock<usize> = OnceLock::new();
        let page = *PAGE.get_or_init(|| {
            // SAFETY: sysconf reads a system constant.
            #[allow(unsafe_code)]
            let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
            usize::try_from(size).ok().filter(|s| s.is_power_of_two()).unwrap_or(4096)
        });
        if bytes.is_empty() {
            return;
        }
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

/// Asks the CPU to bring the first two cache lines of `bytes` into its caches; a hint only.
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::time::{Duration, Instant};

    /// A file of `len` bytes, byte i = i % 251.
    fn file(len: usize) -> (tempfile::NamedTempFile, Vec<u8>) {
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(&data).unwrap();
        f.flush().unwrap();
        (f, data)
    }

    #[test]
    fn windows_hold_the_file_bytes_and_pages_are_asked_for_ahead_up_to_the_limit() {
        let len = 9 << 20;
        let (f, data) = file(len);
        // Mapped past the end of the file, as the active segment is: nothing past `limit` may be
        // touched, by the reader or by the background thread.
        let map = MappedFile::map(f.as_file(), 16 << 20).unwrap();
        assert_eq!(map.len(), 16 << 20);
        let w = map.window(100, 1 << 20, len);
        assert_eq!(&w[..], &data[100..1 << 20]);
        if cfg!(target_os = "linux") {
            assert!(map.populated.done.load(Ordering::Acquire) >= 1 << 20);
            assert_eq!(map.populated.asked.load(Ordering::Acquire), (1 << 20) + AHEAD as u64);
        }
        // Sequential windows up to the end of the file.
        let mut at = 1 << 20;
        while at < len {
            let end = (at + (1 << 20)).min(len);
            assert_eq!(&map.window(at, end, len)[..], &data[at..end]);
            at = end;
        }
        if cfg!(target_os = "linux") {
            assert_eq!(
                map.populated.asked.load(Ordering::Acquire),
                len as u64,
                "never past the limit"
            );
            // The background thread catches up.
            let deadline = Instant::now() + Duration::from_secs(10);
            while map.populated.done.load(Ordering::Acquire) < len as u64 {
                assert!(Instant::now() < deadline, "the background thread never finished");
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        // A window before what was mapped ahead is still right.
        assert_eq!(&map.window(10, 20, len)[..], &data[10..20]);
    }
}
