//! One segment of a partition's log: a `.log` file of record batches and its two indexes.

use std::io;
use std::path::{Path, PathBuf};

use crate::format::{self, BATCH_HEADER_LEN, BatchHeader, FormatError};
use crate::io::{FileHandle, FileSystem, MappedFile};
use crate::log::index::{OffsetIndex, TimeIndex};

/// Formats a base offset as Kafka's 20-digit file name stem.
pub(crate) fn file_stem(base_offset: i64) -> String {
    format!("{base_offset:020}")
}

/// The path of a segment file with the given extension (`log`, `index`, `timeindex`, ...).
pub(crate) fn segment_path(dir: &Path, base_offset: i64, ext: &str) -> PathBuf {
    dir.join(format!("{}.{ext}", file_stem(base_offset)))
}

/// What a scan of a segment's batches found.
#[derive(Debug)]
pub(crate) enum ScanEnd {
    /// Every byte of the segment is a valid batch.
    Clean,
    /// An invalid batch starts at `position`.
    Invalid { position: u64, reason: String },
}

/// A segment: the `.log` file plus its sparse indexes and the facts kept about it in memory.
#[derive(Debug)]
pub(crate) struct Segment {
    pub(crate) base_offset: i64,
    pub(crate) file: FileHandle,
    pub(crate) path: PathBuf,
    pub(crate) size: u64,
    pub(crate) index: OffsetIndex,
    pub(crate) time_index: TimeIndex,
    bytes_since_index: u64,
    /// One past the last offset stored (equal to `base_offset` while empty).
    pub(crate) next_offset: i64,
    /// The largest timestamp of any batch, `-1` while empty.
    pub(crate) max_timestamp: i64,
    offset_of_max_timestamp: i64,
    /// The max timestamp of the first batch (Kafka rolls by `segment.ms` from it), or the creation time.
    pub(crate) rolling_base_ms: Option<i64>,
    pub(crate) created_ms: i64,
    /// Bytes written since the last fsync.
    pub(crate) dirty: bool,
    /// Whether recovery requires consecutive batches to have consecutive offsets.
    dense: bool,
    /// A read-only map of the file, made on the first read and kept for the segment's life.
    mapping: Mapping,
    /// Where the writeback last returned by [`Segment::writeback_due`] ended.
    written_back: u64,
}

/// The memory map of a segment's file (never printed: it can be a gigabyte).
#[derive(Default)]
struct Mapping(parking_lot::Mutex<Option<MappedFile>>);

impl std::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = self.0.lock().as_ref().map(MappedFile::len);
        f.debug_struct("Mapping").field("len", &len).finish()
    }
}

impl Segment {
    /// Creates a new empty segment.
    pub(crate) fn create(
        fs: &dyn FileSystem,
        dir: &Path,
        base_offset: i64,
        now_ms: i64,
    ) -> io::Result<Self> {
        let path = segment_path(dir, base_offset, "log");
        let file = fs.open(&path, true)?;
        file.set_len(0)?;
        let (index, _) =
            OffsetIndex::open(fs, &segment_path(dir, base_offset, "index"), base_offset, 0)?;
        let (mut time_index, _) =
            TimeIndex::open(fs, &segment_path(dir, base_offset, "timeindex"), base_offset, 0)?;
        time_index.reset()?;
        let mut seg = Self::assemble(base_offset, file, path, 0, index, time_index, now_ms);
        seg.index.reset()?;
        Ok(seg)
    }

    fn assemble(
        base_offset: i64,
        file: FileHandle,
        path: PathBuf,
        size: u64,
        index: OffsetIndex,
        time_index: TimeIndex,
        now_ms: i64,
    ) -> Self {
        Self {
            base_offset,
            file,
            path,
            size,
            index,
            time_index,
            bytes_since_index: 0,
            next_offset: base_offset,
            max_timestamp: -1,
            offset_of_max_timestamp: base_offset,
            rolling_base_ms: None,
            created_ms: now_ms,
            dirty: false,
            dense: false,
            mapping: Mapping::default(),
            written_back: size,
        }
    }

    /// Once `every` bytes have been appended since the last call that returned something, the
    /// range of them to start writing to storage (see [`StorageFile::start_writeback`]), for the
    /// caller to hand on without holding the log's lock.
    ///
    /// [`StorageFile::start_writeback`]: crate::io::StorageFile::start_writeback
    pub(crate) fn writeback_due(&mut self, every: u64) -> Option<(u64, u64)> {
        if self.size < self.written_back {
            self.written_back = self.size;
        }
        let pending = self.size - self.written_back;
        if pending < every {
            return None;
        }
        let range = (self.written_back, pending);
        self.written_back = self.size;
        Some(range)
    }

    /// A view of the file's first `end` bytes (all written) without a copy, from a read-only map of
    /// the file. A new map covers `map_len` bytes (at least `end`): the active segment maps ahead of
    /// its end, so that one map serves reads as it grows. `None` when the file system does not map
    /// files, or when mapping fails (the caller then reads with `read_exact_at`).
    pub(crate) fn mapped(&self, end: u64, map_len: u64) -> Option<MappedFile> {
        let file = self.file.os_file()?;
        let mut mapping = self.mapping.0.lock();
        if let Some(map) = mapping.as_ref() {
            if map.len() as u64 >= end {
                return Some(map.clone());
            }
        }
        match MappedFile::map(file, map_len.max(end)) {
            Ok(map) => {
                *mapping = Some(map.clone());
                Some(map)
            }
            Err(e) => {
                tracing::debug!(file = %self.path.display(), error = %e, "cannot map segment; reading instead");
                None
            }
        }
    }

    /// Opens an existing segment whose content is trusted (below the recovery point): indexes are
    /// loaded and checked, and the segment's last offset and max timestamp are read from its tail.
    /// Returns the segment and whether its indexes had to be rebuilt.
    pub(crate) fn open_trusted(
        fs: &dyn FileSystem,
        dir: &Path,
        base_offset: i64,
        now_ms: i64,
    ) -> Result<Self, SegmentError> {
        let path = segment_path(dir, base_offset, "log");
        let file = fs.open(&path, false).map_err(|e| SegmentError::io(&path, e))?;
        let size = file.len().map_err(|e| SegmentError::io(&path, e))?;
        let index_path = segment_path(dir, base_offset, "index");
        let (index, index_ok) = OffsetIndex::open(fs, &index_path, base_offset, size)
            .map_err(|e| SegmentError::io(&index_path, e))?;
        let time_path = segment_path(dir, base_offset, "timeindex");
        // The time index is checked against the next offset once that is known.
        let (time_index, _) = TimeIndex::open(fs, &time_path, base_offset, i64::MAX)
            .map_err(|e| SegmentError::io(&time_path, e))?;
        let mut seg = Self::assemble(base_offset, file, path, size, index, time_index, now_ms);
        if !index_ok {
            // Rebuild both indexes from the log.
            seg.rebuild(None, false)?;
            return Ok(seg);
        }
        // Walk from the last indexed batch to the end to learn the next offset and max timestamp.
        let start = seg.index.last().map_or(0, |(_, pos)| pos);
        let mut pos = start;
        while pos < seg.size {
            let header = seg.read_header(pos)?;
            seg.note_batch(&header, pos);
            pos += header.total_len() as u64;
        }
        if pos != seg.size {
            return Err(SegmentError::Corrupted {
                file: seg.path.clone(),
                position: start,
                reason: "batch lengths do not add up to the segment size".into(),
            });
        }
        if let Some((ts, off)) = seg.time_index.last() {
            if ts > seg.max_timestamp {
                seg.max_timestamp = ts;
                seg.offset_of_max_timestamp = off;
            }
        }
        if seg.time_index.last().is_some_and(|(_, off)| off >= seg.next_offset) {
            seg.rebuild(None, false)?;
        }
        Ok(seg)
    }

    /// Opens a segment that must be recovered: it is scanned batch by batch from the start.
    pub(crate) fn open_for_recovery(
        fs: &dyn FileSystem,
        dir: &Path,
        base_offset: i64,
        now_ms: i64,
    ) -> Result<Self, SegmentError> {
        let path = segment_path(dir, base_offset, "log");
        let file = fs.open(&path, false).map_err(|e| SegmentError::io(&path, e))?;
        let size = file.len().map_err(|e| SegmentError::io(&path, e))?;
        let index_path = segment_path(dir, base_offset, "index");
        let (index, _) = OffsetIndex::open(fs, &index_path, base_offset, size)
            .map_err(|e| SegmentError::io(&index_path, e))?;
        let time_path = segment_path(dir, base_offset, "timeindex");
        let (time_index, _) = TimeIndex::open(fs, &time_path, base_offset, i64::MAX)
            .map_err(|e| SegmentError::io(&time_path, e))?;
        Ok(Self::assemble(base_offset, file, path, size, index, time_index, now_ms))
    }

    /// Re-walks every batch from the start, checking length and CRC (and that offsets increase),
    /// rebuilding both indexes. Each valid batch is passed to `visit`. Stops at the first invalid
    /// batch and reports where it starts; the caller decides whether to truncate.
    ///
    /// With `dense`, each batch must start exactly where the previous one ended (true of every log
    /// that compaction has not touched), so a damaged base offset is caught even though Kafka's CRC
    /// does not cover it.
    pub(crate) fn rebuild(
        &mut self,
        mut visit: Option<&mut dyn FnMut(&BatchHeader)>,
        dense: bool,
    ) -> Result<ScanEnd, SegmentError> {
        self.dense = dense;
        self.index.reset().map_err(|e| SegmentError::io(self.index.path(), e))?;
        self.time_index.reset().map_err(|e| SegmentError::io(self.time_index.path(), e))?;
        self.bytes_since_index = 0;
        self.next_offset = self.base_offset;
        self.max_timestamp = -1;
        self.offset_of_max_timestamp = self.base_offset;
        self.rolling_base_ms = None;
        let mut pos = 0u64;
        // Read in large chunks; batches that straddle a chunk boundary are re-read at their start.
        const CHUNK: u64 = 4 << 20;
        while pos < self.size {
            let len = (self.size - pos).min(CHUNK) as usize;
            let mut buf = vec![0u8; len];
            self.file.read_exact_at(&mut buf, pos).map_err(|e| SegmentError::io(&self.path, e))?;
            let mut off = 0usize;
            let mut progressed = false;
            while off < buf.len() {
                let rest = &buf[off..];
                let header = match BatchHeader::parse(rest) {
                    Ok(h) => h,
                    Err(FormatError::Truncated { .. })
                        if pos + (off as u64) + (rest.len() as u64) < self.size =>
                    {
                        break;
                    }
                    Err(e) => {
                        return Ok(ScanEnd::Invalid {
                            position: pos + off as u64,
                            reason: e.to_string(),
                        });
                    }
                };
                let total = header.total_len();
                if total > rest.len() {
                    if pos + off as u64 + total as u64 > self.size {
                        return Ok(ScanEnd::Invalid {
                            position: pos + off as u64,
                            reason: format!("batch of {total} bytes runs past the end of the file"),
                        });
                    }
                    if off == 0 {
                        // A batch larger than the chunk: read it whole.
                        let mut big = vec![0u8; total];
                        self.file
                            .read_exact_at(&mut big, pos)
                            .map_err(|e| SegmentError::io(&self.path, e))?;
                        if let Err(end) = self.accept(&big, pos, &mut visit) {
                            return Ok(end);
                        }
                        off = total;
                        progressed = true;
                    }
                    break;
                }
                if let Err(end) = self.accept(&rest[..total], pos + off as u64, &mut visit) {
                    return Ok(end);
                }
                off += total;
                progressed = true;
            }
            if !progressed {
                return Ok(ScanEnd::Invalid {
                    position: pos,
                    reason: "unreadable batch header".into(),
                });
            }
            pos += off as u64;
        }
        Ok(ScanEnd::Clean)
    }

    fn accept(
        &mut self,
        batch: &[u8],
        position: u64,
        visit: &mut Option<&mut dyn FnMut(&BatchHeader)>,
    ) -> Result<(), ScanEnd> {
        let header = match format::validate_batch(batch) {
            Ok(h) => h,
            Err(e) => {
                return Err(ScanEnd::Invalid { position, reason: e.to_string() });
            }
        };
        let gap_ok = !self.dense;
        if header.base_offset < self.next_offset
            || (!gap_ok && header.base_offset != self.next_offset)
        {
            return Err(ScanEnd::Invalid {
                position,
                reason: format!(
                    "batch base offset {} is below the expected next offset {}",
                    header.base_offset, self.next_offset
                ),
            });
        }
        if header.last_offset() - self.base_offset > i64::from(u32::MAX >> 1) {
            return Err(ScanEnd::Invalid {
                position,
                reason: "offset out of segment range".into(),
            });
        }
        if let Err(e) = self.index_batch(&header, position, 4096) {
            return Err(ScanEnd::Invalid { position, reason: e.to_string() });
        }
        if let Some(v) = visit.as_mut() {
            v(&header);
        }
        Ok(())
    }

    /// Reads the 61-byte header of the batch at `position`.
    pub(crate) fn read_header(&self, position: u64) -> Result<BatchHeader, SegmentError> {
        let mut buf = [0u8; BATCH_HEADER_LEN];
        if position + BATCH_HEADER_LEN as u64 > self.size {
            return Err(SegmentError::Corrupted {
                file: self.path.clone(),
                position,
                reason: "truncated batch header".into(),
            });
        }
        self.file.read_exact_at(&mut buf, position).map_err(|e| SegmentError::io(&self.path, e))?;
        BatchHeader::parse(&buf).map_err(|e| SegmentError::Corrupted {
            file: self.path.clone(),
            position,
            reason: e.to_string(),
        })
    }

    fn note_batch(&mut self, header: &BatchHeader, _position: u64) {
        self.next_offset = header.next_offset();
        if header.max_timestamp > self.max_timestamp {
            self.max_timestamp = header.max_timestamp;
            self.offset_of_max_timestamp = header.last_offset();
        }
        if self.rolling_base_ms.is_none() {
            self.rolling_base_ms = Some(header.max_timestamp);
        }
    }

    fn index_batch(
        &mut self,
        header: &BatchHeader,
        position: u64,
        interval: u64,
    ) -> io::Result<()> {
        self.note_batch(header, position);
        let len = header.total_len() as u64;
        self.size = self.size.max(position + len);
        if self.bytes_since_index > interval {
            self.index.append(header.last_offset(), position)?;
            self.time_index.maybe_append(self.max_timestamp, self.offset_of_max_timestamp)?;
            self.bytes_since_index = 0;
        }
        self.bytes_since_index += len;
        Ok(())
    }

    /// Appends one batch (offsets already assigned) at the end of the segment.
    ///
    /// On an error the segment is rolled back to what it was before: the file is cut back, the
    /// indexes lose any entry added, and the in-memory facts are restored. If even the rollback
    /// fails, the error says so and the caller must stop writing to this log.
    pub(crate) fn append(
        &mut self,
        batch: &[u8],
        header: &BatchHeader,
        index_interval: u64,
    ) -> Result<(), AppendError> {
        let before = Snapshot {
            size: self.size,
            next_offset: self.next_offset,
            max_timestamp: self.max_timestamp,
            offset_of_max_timestamp: self.offset_of_max_timestamp,
            rolling_base_ms: self.rolling_base_ms,
            bytes_since_index: self.bytes_since_index,
        };
        let position = self.size;
        let written = self.file.write_all_at(batch, position).and_then(|_| {
            self.dirty = true;
            self.size = position + batch.len() as u64;
            self.index_batch(header, position, index_interval)
        });
        let Err(cause) = written else { return Ok(()) };
        self.size = before.size;
        self.next_offset = before.next_offset;
        self.max_timestamp = before.max_timestamp;
        self.offset_of_max_timestamp = before.offset_of_max_timestamp;
        self.rolling_base_ms = before.rolling_base_ms;
        self.bytes_since_index = before.bytes_since_index;
        let rollback = self
            .file
            .set_len(before.size)
            .and_then(|_| self.index.truncate_to_position(before.size))
            .and_then(|_| self.time_index.truncate_to_offset(before.next_offset));
        Err(AppendError { cause, rolled_back: rollback.is_ok() })
    }

    /// Cuts the segment at `position` (the start of an invalid batch).
    pub(crate) fn truncate_to(&mut self, position: u64) -> io::Result<()> {
        *self.mapping.0.lock() = None;
        self.file.set_len(position)?;
        self.size = position;
        self.index.truncate_to_position(position)?;
        self.time_index.truncate_to_offset(self.next_offset)?;
        Ok(())
    }

    /// The position of the first batch whose last offset is `>= offset`, or the segment size.
    pub(crate) fn position_of(&self, offset: i64) -> Result<u64, SegmentError> {
        let mut pos = self.index.scan_start(offset);
        while pos < self.size {
            let header = self.read_header(pos)?;
            if header.last_offset() >= offset {
                return Ok(pos);
            }
            pos += header.total_len() as u64;
        }
        Ok(self.size)
    }

    /// Whether a record of `len` more bytes fits under `segment_bytes`, and the index has room.
    pub(crate) fn is_full(&self, incoming: u64, segment_bytes: u64, next_last_offset: i64) -> bool {
        (self.size > 0 && self.size + incoming > segment_bytes)
            || next_last_offset - self.base_offset > i64::from(i32::MAX)
            || self.index.len() >= 10 * 1024 * 1024 / 8
            || self.time_index.len() >= 10 * 1024 * 1024 / 12
    }

    /// Flushes the log file and its indexes.
    pub(crate) fn sync_all(&self) -> io::Result<()> {
        self.file.sync_data()?;
        self.index.sync()?;
        self.time_index.sync()
    }

    /// The paths of every file that belongs to this segment.
    pub(crate) fn files(&self) -> [PathBuf; 3] {
        [self.path.clone(), self.index.path().to_path_buf(), self.time_index.path().to_path_buf()]
    }
}

/// What a segment was before an append, to roll back to.
#[derive(Debug, Clone, Copy)]
struct Snapshot {
    size: u64,
    next_offset: i64,
    max_timestamp: i64,
    offset_of_max_timestamp: i64,
    rolling_base_ms: Option<i64>,
    bytes_since_index: u64,
}

/// A failed append: the I/O error, and whether the segment was rolled back to its state before.
#[derive(Debug)]
pub(crate) struct AppendError {
    pub(crate) cause: io::Error,
    pub(crate) rolled_back: bool,
}

/// Errors from reading or checking a segment.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SegmentError {
    #[error("I/O error on {file}: {source}")]
    Io { file: PathBuf, source: io::Error },
    #[error("corrupt batch in {file} at position {position}: {reason}")]
    Corrupted { file: PathBuf, position: u64, reason: String },
}

impl SegmentError {
    pub(crate) fn io(file: &Path, source: io::Error) -> Self {
        Self::Io { file: file.to_path_buf(), source }
    }
}
