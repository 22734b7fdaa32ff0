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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::OsFileSystem;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Entries written to an index come back from the file in order, and a lookup always
        /// points at or before the batch that holds the offset.
        #[test]
        fn offset_index_round_trips_and_lookups_never_overshoot(
            batches in proptest::collection::vec((1u32..500, 50u32..5000), 1..200),
            probes in proptest::collection::vec(0i64..200_000, 1..50),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("0.index");
            let base = 1000i64;
            // (last offset, position) of each batch; every batch is indexed.
            let mut layout = Vec::new();
            let (mut next, mut pos) = (base, 0u64);
            for (records, bytes) in &batches {
                layout.push((next, next + i64::from(*records) - 1, pos));
                next += i64::from(*records);
                pos += u64::from(*bytes);
            }
            {
                let (mut idx, ok) = OffsetIndex::open(&OsFileSystem, &path, base, pos).unwrap();
                prop_assert!(ok);
                for &(_, last, p) in &layout {
                    idx.append(last, p).unwrap();
                }
            }
            let (idx, ok) = OffsetIndex::open(&OsFileSystem, &path, base, pos).unwrap();
            prop_assert!(ok);
            prop_assert_eq!(idx.len(), layout.len());
            for probe in probes {
                let target = base + probe % (next - base);
                let start = idx.scan_start(target);
                let holder = layout.iter().find(|&&(first, last, _)| first <= target && target <= last).unwrap();
                prop_assert!(start <= holder.2, "scan would start after the batch holding {}", target);
            }
        }

        /// Time index entries round-trip, and `last_offset_below` never names an offset whose
        /// recorded timestamp reaches the target.
        #[test]
        fn time_index_round_trips(
            steps in proptest::collection::vec((1i64..1000, 1u32..100), 1..200),
            target in 0i64..300_000,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("0.timeindex");
            let mut entries = Vec::new();
            let (mut ts, mut rel) = (0i64, 0u32);
            for (dt, dr) in &steps {
                ts += dt;
                rel += dr;
                entries.push((ts, i64::from(rel)));
            }
            let next_offset = i64::from(rel) + 1;
            {
                let (mut idx, _) = TimeIndex::open(&OsFileSystem, &path, 0, next_offset).unwrap();
                for &(t, o) in &entries {
                    idx.maybe_append(t, o).unwrap();
                }
            }
            let (idx, ok) = TimeIndex::open(&OsFileSystem, &path, 0, next_offset).unwrap();
            prop_assert!(ok);
            prop_assert_eq!(idx.len(), entries.len());
            prop_assert_eq!(idx.last(), entries.last().copied());
            if let Some(off) = idx.last_offset_below(target) {
                let (t, _) = entries.iter().find(|&&(_, o)| o == off).unwrap();
                prop_assert!(*t < target);
            }
        }
    }

    #[test]
    fn a_torn_or_out_of_range_index_is_rejected_and_emptied() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.index");
        std::fs::write(&path, [0u8, 0, 0, 5, 0, 0, 0, 10, 0, 0]).unwrap(); // 10 bytes: torn entry
        let (idx, ok) = OffsetIndex::open(&OsFileSystem, &path, 0, 100).unwrap();
        assert!(!ok);
        assert_eq!(idx.len(), 0);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
        // An entry pointing past the end of the log is rejected too.
        std::fs::write(&path, [0u8, 0, 0, 5, 0, 0, 1, 0]).unwrap();
        let (_, ok) = OffsetIndex::open(&OsFileSystem, &path, 0, 100).unwrap();
        assert!(!ok);
    }
}
