//! Sparse offset and time indexes of one segment (`.index`, `.timeindex`).
//!
//! `.index` holds 8-byte entries: the offset relative to the segment's base (u32, big-endian) of the
//! last record of a batch, and the file position (u32) where that batch starts. `.timeindex` holds
//! 12-byte entries: the largest timestamp seen so far in the segment (i64) and the relative offset of
//! the record that carried it (u32). Entries are appended every `index.interval.bytes` of log data.
//! Indexes carry no checksum: on load they are checked for order and range, and rebuilt from the log
//! when they fail the check or when the segment is recovered.

use std::io;
use std::path::{Path, PathBuf};

use crate::io::{FileHandle, FileSystem};

const OFFSET_ENTRY: usize = 8;
const TIME_ENTRY: usize = 12;

/// Offsets and positions in a loaded index, checked against the segment.
#[derive(Debug)]
pub(crate) struct OffsetIndex {
    file: FileHandle,
    path: PathBuf,
    base_offset: i64,
    entries: Vec<(u32, u32)>,
}

impl OffsetIndex {
    /// Opens (or creates) an index. Returns the index and whether its content passed the checks;
    /// an index that failed them is emptied and must be rebuilt by the caller.
    pub(crate) fn open(
        fs: &dyn FileSystem,
        path: &Path,
        base_offset: i64,
        log_size: u64,
    ) -> io::Result<(Self, bool)> {
        let file = fs.open(path, true)?;
        let len = file.len()?;
        let mut bytes = vec![0u8; len as usize];
        file.read_exact_at(&mut bytes, 0)?;
        let mut entries = Vec::with_capacity(bytes.len() / OFFSET_ENTRY);
        let mut valid = bytes.len() % OFFSET_ENTRY == 0;
        for chunk in bytes.chunks_exact(OFFSET_ENTRY) {
            let rel = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            let pos = u32::from_be_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
            let ordered = entries.last().is_none_or(|&(r, p)| rel > r && pos > p);
            if !ordered || u64::from(pos) >= log_size.max(1) {
                valid = false;
                break;
            }
            entries.push((rel, pos));
        }
        let mut index = Self { file, path: path.to_path_buf(), base_offset, entries };
        if !valid {
            index.reset()?;
        }
        Ok((index, valid))
    }

    /// Appends an entry for a batch whose last offset is `last_offset`, starting at `position`.
    pub(crate) fn append(&mut self, last_offset: i64, position: u64) -> io::Result<()> {
        let rel = (last_offset - self.base_offset) as u32;
        let pos = position as u32;
        if self.entries.last().is_some_and(|&(r, p)| rel <= r || pos <= p) {
            return Ok(());
        }
        let mut buf = [0u8; OFFSET_ENTRY];
        buf[..4].copy_from_slice(&rel.to_be_bytes());
        buf[4..].copy_from_slice(&pos.to_be_bytes());
        self.file.write_all_at(&buf, (self.entries.len() * OFFSET_ENTRY) as u64)?;
        self.entries.push((rel, pos));
        Ok(())
    }

    /// The file position from which to scan for `offset`: the start of the batch of the largest entry
    /// whose offset is strictly below `offset` is not enough (the entry names a batch's last offset),
    /// so the scan starts at the batch following it, or at 0.
    pub(crate) fn scan_start(&self, offset: i64) -> u64 {
        let rel = offset - self.base_offset;
        if rel <= 0 {
            return 0;
        }
        // Entries whose last offset < offset: the batch they index ends before `offset`, but the
        // batch that contains `offset` starts at or after that batch's position.
        let idx = self.entries.partition_point(|&(r, _)| i64::from(r) < rel);
        if idx == 0 { 0 } else { u64::from(self.entries[idx - 1].1) }
    }

    /// Drops entries at or after `position` (after the log was truncated there).
    pub(crate) fn truncate_to_position(&mut self, position: u64) -> io::Result<()> {
        let keep = self.entries.partition_point(|&(_, p)| u64::from(p) < position);
        self.entries.truncate(keep);
        self.file.set_len((keep * OFFSET_ENTRY) as u64)
    }

    /// Empties the index.
    pub(crate) fn reset(&mut self) -> io::Result<()> {
        self.entries.clear();
        self.file.set_len(0)
    }

    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The last entry as (absolute offset, position).
    pub(crate) fn last(&self) -> Option<(i64, u64)> {
        self.entries.last().map(|&(r, p)| (self.base_offset + i64::from(r), u64::from(p)))
    }

    pub(crate) fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    /// The open index file.
    pub(crate) fn file(&self) -> FileHandle {
        self.file.clone()
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// The time index of one segment.
#[derive(Debug)]
pub(crate) struct TimeIndex {
    file: FileHandle,
    path: PathBuf,
    base_offset: i64,
    entries: Vec<(i64, u32)>,
}

impl TimeIndex {
    /// Opens (or creates) a time index; see [`OffsetIndex::open`].
    pub(crate) fn open(
        fs: &dyn FileSystem,
        path: &Path,
        base_offset: i64,
        next_offset: i64,
    ) -> io::Result<(Self, bool)> {
        let file = fs.open(path, true)?;
        let len = file.len()?;
        let mut bytes = vec![0u8; len as usize];
        file.read_exact_at(&mut bytes, 0)?;
        let mut entries = Vec::with_capacity(bytes.len() / TIME_ENTRY);
        let mut valid = bytes.len() % TIME_ENTRY == 0;
        let max_rel = (next_offset - base_offset).max(0);
        for chunk in bytes.chunks_exact(TIME_ENTRY) {
            let mut ts = [0u8; 8];
            ts.copy_from_slice(&chunk[..8]);
            let ts = i64::from_be_bytes(ts);
            let rel = u32::from_be_bytes([chunk[8], chunk[9], chunk[10], chunk[11]]);
            let ordered = entries.last().is_none_or(|&(t, r)| ts > t && rel >= r);
            if !ordered || i64::from(rel) >= max_rel.max(1) {
                valid = false;
                break;
            }
            entries.push((ts, rel));
        }
        let mut index = Self { file, path: path.to_path_buf(), base_offset, entries };
        if !valid {
            index.reset()?;
        }
        Ok((index, valid))
    }

    /// Appends `(timestamp, offset)` when `timestamp` is larger than the last entry's.
    pub(crate) fn maybe_append(&mut self, timestamp: i64, offset: i64) -> io::Result<()> {
        let rel = (offset - self.base_offset) as u32;
        if self.entries.last().is_some_and(|&(t, r)| timestamp <= t || rel < r) {
            return Ok(());
        }
        let mut buf = [0u8; TIME_ENTRY];
        buf[..8].copy_from_slice(&timestamp.to_be_bytes());
        buf[8..].copy_from_slice(&rel.to_be_bytes());
        self.file.write_all_at(&buf, (self.entries.len() * TIME_ENTRY) as u64)?;
        self.entries.push((timestamp, rel));
        Ok(())
    }

    /// The offset after which the first record with a timestamp `>= target` must lie: every record up
    /// to and including the returned offset has a timestamp below `target`. `None` if no entry says so.
    pub(crate) fn last_offset_below(&self, target: i64) -> Option<i64> {
        let idx = self.entries.partition_point(|&(t, _)| t < target);
        (idx > 0).then(|| self.base_offset + i64::from(self.entries[idx - 1].1))
    }

    /// The last entry as (timestamp, absolute offset).
    pub(crate) fn last(&self) -> Option<(i64, i64)> {
        self.entries.last().map(|&(t, r)| (t, self.base_offset + i64::from(r)))
    }

    /// Drops entries whose offset is `>= offset`.
    pub(crate) fn truncate_to_offset(&mut self, offset: i64) -> io::Result<()> {
        let rel = offset - self.base_offset;
        let keep = self.entries.partition_point(|&(_, r)| i64::from(r) < rel);
        self.entries.truncate(keep);
        self.file.set_len((keep * TIME_ENTRY) as u64)
    }

    /// Empties the index.
    pub(crate) fn reset(&mut self) -> io::Result<()> {
        self.entries.clear();
        self.file.set_len(0)
    }

    pub(crate) fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    /// The open index file.
    pub(crate) fn file(&self) -> FileHandle {
        self.file.clone()
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}
