//! The partition log: Kafka's on-disk layout of segments, indexes and producer-state snapshots.
//!
//! A [`Log`] owns one partition directory `<topic>-<partition>/`. Appends go to the active (last)
//! segment; reads find the segment and position of an offset through the sparse index and return
//! whole batches. Recovery after an unclean stop re-checks every batch from the recovery point and cuts
//! the log at the first invalid one. Retention deletes whole segments and compaction rewrites closed
//! segments, both outside the append path.

pub(crate) mod checkpoint;
mod compaction;
pub(crate) mod index;
// The transaction accessors (open transaction offset, coordinator epoch, expiry) are exercised by its
// tests now and used by the transaction coordinator when transactions land.
#[allow(dead_code)]
pub(crate) mod producer_state;
mod retention;
pub(crate) mod segment;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tracing::{debug, info, warn};

use crate::error::{Error, Result};
use crate::format::{self, BatchHeader};
use crate::io::{FileHandle, FileSystem, MappedFile};
use crate::topic::{TimestampType, TopicConfig};
use producer_state::{ProducerBatch, ProducerStateError, ProducerStateManager, SeqCheck};
use segment::{ScanEnd, Segment, SegmentError};

pub(crate) use compaction::compact;

impl From<SegmentError> for Error {
    fn from(e: SegmentError) -> Self {
        match e {
            SegmentError::Io { file, source } => {
                Error::storage(format!("segment file {}", file.display()), source)
            }
            SegmentError::Corrupted { file, position, reason } => {
                Error::Corrupted { file, position, reason }
            }
        }
    }
}

/// Where to start and what the broker knew about a log before opening it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OpenOptions {
    /// Every offset below this was fsynced before the stop.
    pub(crate) recovery_point: i64,
    /// The log start offset from the checkpoint (moved by retention and DeleteRecords).
    pub(crate) log_start_offset: i64,
    /// Whether the previous stop was clean (the clean-shutdown marker was present).
    pub(crate) clean_shutdown: bool,
    /// The current wall-clock time.
    pub(crate) now_ms: i64,
}

/// The outcome of one append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AppendInfo {
    /// Offset of the first record of the batch.
    pub(crate) base_offset: i64,
    /// Offset of the last record of the batch.
    pub(crate) last_offset: i64,
    /// The broker's time when the topic uses `LogAppendTime`, else `-1`.
    pub(crate) log_append_time: i64,
    /// Whether the batch was a duplicate of one already stored (nothing was written).
    pub(crate) duplicate: bool,
}

/// A planned read: a byte range of one segment file, to be read without holding the log's lock.
#[derive(Debug, Clone)]
pub(crate) struct ReadPlan {
    pub(crate) file: FileHandle,
    pub(crate) path: PathBuf,
    pub(crate) start: u64,
    pub(crate) end: u64,
    /// The segment's bytes up to at least `end`, mapped; `None` means read from `file`.
    pub(crate) mapped: Option<MappedFile>,
}

/// One partition's log.
#[derive(Debug)]
pub(crate) struct Log {
    dir: PathBuf,
    fs: Arc<dyn FileSystem>,
    config: Arc<TopicConfig>,
    segments: BTreeMap<i64, Segment>,
    log_start_offset: i64,
    recovery_point: i64,
    producers: ProducerStateManager,
    /// Offsets below this were cleaned by the last compaction pass.
    cleaner_point: i64,
    /// The earliest delete horizon of the tombstones compaction has stamped and not yet removed:
    /// a pass is due then even if the log is not dirty enough. Unknown after opening (a pass is
    /// due at once, which finds out).
    tombstones_due: Option<i64>,
    /// Set when a write or fsync failed: the log accepts no more appends until it is reopened.
    failed: Option<String>,
    /// Whether files were created in `dir` since it was last synced: a new segment's records are
    /// durable only once the directory entry of its file is (the next flush syncs the directory).
    dir_unsynced: bool,
}

/// What a flush has to sync, from [`Log::begin_flush`].
pub(crate) struct FlushPlan {
    /// Files holding unsynced data.
    pub(crate) files: Vec<FileHandle>,
    /// The log's directory, when files were created in it since it was last synced.
    pub(crate) dir: Option<(Arc<dyn FileSystem>, PathBuf)>,
    /// The offset everything below which is durable once the above are synced.
    pub(crate) target: i64,
}

impl Log {
    /// Opens (or creates) the log in `dir`, recovering it if the last stop was not clean.
    pub(crate) fn open(
        fs: Arc<dyn FileSystem>,
        dir: &Path,
        config: Arc<TopicConfig>,
        opts: OpenOptions,
    ) -> Result<Self> {
        let ctx = |what: &str| format!("{what} {}", dir.display());
        fs.create_dir_all(dir).map_err(|e| Error::storage(ctx("creating"), e))?;
        let mut bases = Vec::new();
        let mut snapshots = Vec::new();
        for path in fs.read_dir(dir).map_err(|e| Error::storage(ctx("listing"), e))? {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if name.ends_with(".deleted") || name.ends_with(".cleaned") || name.ends_with(".tmp") {
                fs.remove_file(&path).map_err(|e| Error::storage(ctx("cleaning"), e))?;
                continue;
            }
            if let Some(stem) = name.strip_suffix(".log") {
                if let Ok(base) = stem.parse::<i64>() {
                    bases.push(base);
                }
            } else if let Some(off) = producer_state::parse_snapshot_file_name(name) {
                snapshots.push(off);
            }
        }
        bases.sort_unstable();
        snapshots.sort_unstable();

        let mut log = Self {
            dir: dir.to_path_buf(),
            fs: fs.clone(),
            config,
            segments: BTreeMap::new(),
            log_start_offset: opts.log_start_offset.max(0),
            recovery_point: opts.recovery_point,
            producers: ProducerStateManager::new(),
            cleaner_point: 0,
            tombstones_due: Some(i64::MIN),
            failed: None,
            // Opening may have created the directory or the first segment.
            dir_unsynced: true,
        };
        if bases.is_empty() {
            let seg = Segment::create(&*fs, dir, log.log_start_offset, opts.now_ms)
                .map_err(|e| Error::storage(ctx("creating segment in"), e))?;
            log.segments.insert(seg.base_offset, seg);
            log.recovery_point = log.log_start_offset;
            return Ok(log);
        }

        // Segments below the one holding the recovery point are trusted; the rest are re-checked.
        let first_unflushed = if opts.clean_shutdown {
            i64::MAX
        } else {
            bases.iter().copied().rfind(|&b| b <= opts.recovery_point).unwrap_or(bases[0])
        };

        // Producer state: the newest snapshot at or below where recovery starts.
        let replay_from = log.load_producer_snapshot(&snapshots, first_unflushed);

        for (i, &base) in bases.iter().enumerate() {
            if base < first_unflushed {
                let seg = Segment::open_trusted(&*fs, dir, base, opts.now_ms)?;
                if seg.next_offset > replay_from {
                    log.replay_producer_state(&seg, replay_from)?;
                }
                log.segments.insert(base, seg);
                continue;
            }
            let mut seg = Segment::open_for_recovery(&*fs, dir, base, opts.now_ms)?;
            let producers = &mut log.producers;
            let mut visit = |h: &BatchHeader| {
                if h.base_offset >= replay_from {
                    replay_header(producers, h);
                }
            };
            let dense = !log.config.cleanup_policy.compact;
            let end = seg.rebuild(Some(&mut visit), dense)?;
            if let ScanEnd::Invalid { position, reason } = end {
                let later_has_data = bases[i + 1..].iter().any(|&b| {
                    let p = segment::segment_path(dir, b, "log");
                    fs.open(&p, false).and_then(|f| f.len()).map(|l| l > 0).unwrap_or(false)
                });
                if later_has_data {
                    let reason =
                        format!("{reason} (the batch after offset {})", seg.next_offset - 1);
                    return Err(Error::Corrupted { file: seg.path.clone(), position, reason });
                }
                warn!(
                    file = %seg.path.display(),
                    position,
                    %reason,
                    "truncating the log at the first invalid batch after an unclean stop"
                );
                seg.truncate_to(position)
                    .map_err(|e| Error::storage(format!("truncating {}", seg.path.display()), e))?;
                for &later in &bases[i + 1..] {
                    for ext in ["log", "index", "timeindex"] {
                        let p = segment::segment_path(dir, later, ext);
                        fs.remove_file(&p).map_err(|e| Error::storage(ctx("deleting in"), e))?;
                    }
                }
                seg.sync_all().map_err(|e| Error::storage(ctx("syncing"), e))?;
                log.segments.insert(base, seg);
                break;
            }
            seg.sync_all().map_err(|e| Error::storage(ctx("syncing"), e))?;
            log.segments.insert(base, seg);
        }
        if log.log_start_offset < log.first_segment_base() {
            log.log_start_offset = log.first_segment_base();
        }
        log.recovery_point = log.log_end_offset();
        // Snapshots above the log end describe data that is gone.
        let leo = log.log_end_offset();
        for &snap in snapshots.iter().filter(|&&s| s > leo) {
            let _ = fs.remove_file(&dir.join(producer_state::snapshot_file_name(snap)));
        }
        debug!(dir = %dir.display(), log_end_offset = leo, "log opened");
        Ok(log)
    }

    /// Loads the newest valid snapshot at or below `limit`; returns the offset from which batches must
    /// be replayed into the producer state.
    fn load_producer_snapshot(&mut self, snapshots: &[i64], limit: i64) -> i64 {
        for &off in snapshots.iter().rev().filter(|&&s| s <= limit) {
            let path = self.dir.join(producer_state::snapshot_file_name(off));
            match self.fs.read(&path).map_err(|e| e.to_string()).and_then(|bytes| {
                ProducerStateManager::decode_snapshot(&bytes).map_err(|e| e.to_string())
            }) {
                Ok(state) => {
                    self.producers = state;
                    return off;
                }
                Err(e) => {
                    warn!(file = %path.display(), error = %e, "ignoring unreadable producer snapshot")
                }
            }
        }
        0
    }

    fn replay_producer_state(&mut self, seg: &Segment, from: i64) -> Result<()> {
        let mut pos = seg.position_of(from)?;
        while pos < seg.size {
            let h = seg.read_header(pos)?;
            if h.base_offset >= from {
                replay_header(&mut self.producers, &h);
            }
            pos += h.total_len() as u64;
        }
        Ok(())
    }

    fn first_segment_base(&self) -> i64 {
        self.segments.keys().next().copied().unwrap_or(0)
    }

    fn active(&self) -> &Segment {
        // There is always at least one segment.
        match self.segments.values().next_back() {
            Some(s) => s,
            None => unreachable!("a log always has an active segment"),
        }
    }

    fn active_mut(&mut self) -> &mut Segment {
        match self.segments.values_mut().next_back() {
            Some(s) => s,
            None => unreachable!("a log always has an active segment"),
        }
    }

    /// Once the active segment has `every` or more bytes whose writeback was not started, its file
    /// and that range, to start writing to storage (a hint for interval-flush mode; see
    /// [`Segment::writeback_due`]).
    pub(crate) fn writeback_due(&mut self, every: u64) -> Option<(FileHandle, u64, u64)> {
        let active = self.active_mut();
        let (pos, len) = active.writeback_due(every)?;
        Some((active.file.clone(), pos, len))
    }

    /// One past the last offset in the log (Kafka's log end offset).
    pub(crate) fn log_end_offset(&self) -> i64 {
        self.active().next_offset
    }

    /// The first offset still in the log.
    pub(crate) fn log_start_offset(&self) -> i64 {
        self.log_start_offset
    }

    /// Every offset below this is fsynced.
    pub(crate) fn recovery_point(&self) -> i64 {
        self.recovery_point
    }

    /// Replaces the topic configuration (IncrementalAlterConfigs).
    pub(crate) fn set_config(&mut self, config: Arc<TopicConfig>) {
        self.config = config;
    }

    /// The total size of all segment files.
    pub(crate) fn size_in_bytes(&self) -> u64 {
        self.segments.values().map(|s| s.size).sum()
    }

    /// Number of segments.
    pub(crate) fn segment_count(&self) -> usize {
        self.segments.len()
    }

    fn check_healthy(&self) -> Result<()> {
        match &self.failed {
            Some(why) => Err(Error::storage(
                format!("log {} failed earlier and must be reopened", self.dir.display()),
                std::io::Error::other(why.clone()),
            )),
            None => Ok(()),
        }
    }

    /// Marks the log failed after an I/O error whose effect on disk is unknown.
    pub(crate) fn mark_failed(&mut self, why: String) {
        self.failed = Some(why);
    }

    /// Validates `batch` (one whole record batch as sent by a producer), assigns offsets and appends it.
    pub(crate) fn append(&mut self, batch: &mut BytesMut, now_ms: i64) -> Result<AppendInfo> {
        self.append_checked(batch, now_ms, true)
    }

    /// Appends a batch built in this process by [`format::BatchBuilder`], whose encoding is known to
    /// be valid: only its header is parsed (the topic's rules are still applied).
    pub(crate) fn append_built(&mut self, batch: &mut BytesMut, now_ms: i64) -> Result<AppendInfo> {
        self.append_checked(batch, now_ms, false)
    }

    fn append_checked(
        &mut self,
        batch: &mut BytesMut,
        now_ms: i64,
        validate: bool,
    ) -> Result<AppendInfo> {
        self.check_healthy()?;
        let header =
            if validate { format::validate_batch(batch)? } else { BatchHeader::parse(batch)? };
        if header.total_len() != batch.len() {
            return Err(Error::CorruptMessage(format::FormatError::InvalidRecord(format!(
                "expected one record batch of {} bytes, got {} bytes",
                header.total_len(),
                batch.len()
            ))));
        }
        let max = self.config.max_message_bytes.max(0) as usize;
        if batch.len() > max {
            return Err(Error::RecordTooLarge { size: batch.len(), max });
        }
        if header.record_count == 0 {
            return Err(Error::InvalidRecord(
                "a record batch must hold at least one record".into(),
            ));
        }
        if self.config.cleanup_policy.compact && !header.is_control() {
            let records = format::decode_records(&Bytes::copy_from_slice(batch))?;
            if records.iter().any(|r| r.key.is_none()) {
                return Err(Error::InvalidRecord(
                    "compacted topic cannot accept a record without a key".into(),
                ));
            }
        }
        let idempotent = header.producer_id >= 0 && header.base_sequence >= 0;
        if idempotent {
            match self.producers.check(
                header.producer_id,
                header.producer_epoch,
                header.base_sequence,
                header.last_sequence(),
            ) {
                Ok(SeqCheck::Append) => {}
                Ok(SeqCheck::Duplicate { base_offset, last_offset }) => {
                    return Ok(AppendInfo {
                        base_offset,
                        last_offset,
                        log_append_time: -1,
                        duplicate: true,
                    });
                }
                Err(e) => return Err(producer_error(e, &header)),
            }
        }

        let base_offset = self.log_end_offset();
        let last_offset = base_offset + i64::from(header.last_offset_delta);
        self.maybe_roll(batch.len() as u64, last_offset, header.max_timestamp, now_ms)?;
        format::set_base_offset(batch, base_offset);
        format::set_partition_leader_epoch(batch, 0);
        let log_append_time = if self.config.message_timestamp_type == TimestampType::LogAppendTime
        {
            format::set_max_timestamp_log_append(batch, now_ms);
            now_ms
        } else {
            -1
        };
        let header = BatchHeader {
            base_offset,
            max_timestamp: if log_append_time >= 0 { now_ms } else { header.max_timestamp },
            ..header
        };
        let interval = self.config.index_interval_bytes.max(1) as u64;
        let dir = self.dir.clone();
        if let Err(e) = self.active_mut().append(batch, &header, interval) {
            let msg = format!("append to {} failed: {}", dir.display(), e.cause);
            if !e.rolled_back {
                // The file may hold part of the batch: no more writes until recovery cuts it.
                self.failed = Some(format!("{msg}; rolling back also failed"));
            }
            return Err(Error::storage(msg, e.cause));
        }
        if idempotent || header.is_transactional() {
            self.producers.update(&producer_batch(&header));
        }
        Ok(AppendInfo { base_offset, last_offset, log_append_time, duplicate: false })
    }

    fn maybe_roll(
        &mut self,
        incoming: u64,
        last_offset: i64,
        max_ts: i64,
        now_ms: i64,
    ) -> Result<()> {
        let segment_bytes = self.config.segment_bytes.max(1) as u64;
        let segment_ms = self.config.segment_ms;
        let active = self.active();
        let by_time = active.size > 0
            && retention::time_to_roll(
                active.rolling_base_ms,
                active.created_ms,
                max_ts,
                now_ms,
                segment_ms,
            );
        if !(active.is_full(incoming, segment_bytes, last_offset) || by_time) {
            return Ok(());
        }
        if active.size == 0 {
            return Ok(());
        }
        let new_base = self.log_end_offset();
        // Snapshot producer state at the roll, so that recovery never replays more than one segment.
        let snap = self.producers.encode_snapshot();
        let snap_path = self.dir.join(producer_state::snapshot_file_name(new_base));
        self.fs
            .write_atomic(&snap_path, &snap)
            .map_err(|e| Error::storage(format!("writing {}", snap_path.display()), e))?;
        let seg = Segment::create(&*self.fs, &self.dir, new_base, now_ms).map_err(|e| {
            Error::storage(format!("rolling a segment in {}", self.dir.display()), e)
        })?;
        debug!(dir = %self.dir.display(), base_offset = new_base, "rolled a new segment");
        self.segments.insert(new_base, seg);
        self.dir_unsynced = true;
        self.prune_snapshots();
        Ok(())
    }

    /// Keeps only the newest few producer snapshots.
    fn prune_snapshots(&self) {
        let Ok(entries) = self.fs.read_dir(&self.dir) else {
            return;
        };
        let mut snaps: Vec<(i64, PathBuf)> = entries
            .into_iter()
            .filter_map(|p| {
                let off = p.file_name()?.to_str()?.strip_suffix(".snapshot")?.parse().ok()?;
                Some((off, p))
            })
            .collect();
        snaps.sort();
        let keep_from = snaps.len().saturating_sub(2);
        for (_, p) in &snaps[..keep_from] {
            let _ = self.fs.remove_file(p);
        }
    }

    /// Plans a read of whole batches starting with the batch that holds `offset`. Returns `None` when
    /// `offset` is the log end (nothing to read yet).
    pub(crate) fn plan_read(&self, offset: i64) -> Result<Option<ReadPlan>> {
        let leo = self.log_end_offset();
        if offset < self.log_start_offset || offset > leo {
            return Err(Error::OffsetOutOfRange {
                offset,
                log_start: self.log_start_offset,
                log_end: leo,
            });
        }
        if offset == leo {
            return Ok(None);
        }
        let active = self.segments.last_key_value().map(|(&base, _)| base);
        // The segment holding `offset`, or the next one when compaction left a gap.
        for (_, seg) in self
            .segments
            .range(..=offset)
            .next_back()
            .into_iter()
            .chain(self.segments.range(offset + 1..))
        {
            if seg.next_offset <= offset {
                continue;
            }
            let start = seg.position_of(offset)?;
            if start < seg.size {
                // The active segment is mapped up to its full size, so one map follows its appends.
                let map_len = if Some(seg.base_offset) == active {
                    (self.config.segment_bytes.max(1) as u64).max(seg.size)
                } else {
                    seg.size
                };
                return Ok(Some(ReadPlan {
                    file: seg.file.clone(),
                    path: seg.path.clone(),
                    start,
                    end: seg.size,
                    mapped: seg.mapped(seg.size, map_len),
                }));
            }
        }
        Ok(None)
    }

    /// The earliest offset whose record timestamp is `>= timestamp`, with that timestamp.
    pub(crate) fn offset_for_timestamp(&self, timestamp: i64) -> Result<Option<(i64, i64)>> {
        for seg in self.segments.values() {
            if seg.max_timestamp < timestamp {
                continue;
            }
            let from = seg
                .time_index
                .last_offset_below(timestamp)
                .map_or(seg.base_offset, |o| o + 1)
                .max(self.log_start_offset);
            let mut pos = seg.position_of(from)?;
            while pos < seg.size {
                let h = seg.read_header(pos)?;
                let len = h.total_len() as u64;
                if h.max_timestamp >= timestamp && h.last_offset() >= from {
                    let mut buf = vec![0u8; len as usize];
                    seg.file.read_exact_at(&mut buf, pos).map_err(|e| {
                        Error::storage(format!("reading {}", seg.path.display()), e)
                    })?;
                    let batch = Bytes::from(buf);
                    format::validate_batch(&batch).map_err(|e| Error::Corrupted {
                        file: seg.path.clone(),
                        position: pos,
                        reason: e.to_string(),
                    })?;
                    let records = format::decode_records(&batch)?;
                    if let Some(r) =
                        records.iter().find(|r| r.offset >= from && r.timestamp >= timestamp)
                    {
                        return Ok(Some((r.offset, r.timestamp)));
                    }
                }
                pos += len;
            }
        }
        Ok(None)
    }

    /// The offset and timestamp of the (first) record with the largest timestamp (ListOffsets -3).
    pub(crate) fn max_timestamp_offset(&self) -> Result<Option<(i64, i64)>> {
        let max = self.segments.values().map(|s| s.max_timestamp).max().unwrap_or(-1);
        if max < 0 {
            return Ok(None);
        }
        // The earliest record at or above the largest timestamp is the first one carrying it.
        self.offset_for_timestamp(max)
    }

    /// Hands out the files that hold unsynced data, the directory if files were created in it,
    /// and the offset they cover; call [`Log::mark_flushed`] once they are synced.
    pub(crate) fn begin_flush(&mut self) -> Result<FlushPlan> {
        self.check_healthy()?;
        let dir =
            std::mem::take(&mut self.dir_unsynced).then(|| (self.fs.clone(), self.dir.clone()));
        let target = self.log_end_offset();
        let mut files = Vec::new();
        let last_base = self.active().base_offset;
        for seg in self.segments.values_mut() {
            if seg.dirty {
                files.push(seg.file.clone());
                seg.dirty = false;
                if seg.base_offset != last_base {
                    // A closed segment: its indexes are final, sync them too.
                    files.extend(seg_index_handles(seg));
                }
            }
        }
        Ok(FlushPlan { files, dir, target })
    }

    /// Records that everything below `offset` is on stable storage.
    pub(crate) fn mark_flushed(&mut self, offset: i64) {
        if offset > self.recovery_point {
            self.recovery_point = offset;
        }
    }

    /// Writes a producer-state snapshot at the log end and syncs every segment (clean shutdown).
    /// A log that failed a write or fsync reports it here, so the stop is not taken for clean.
    pub(crate) fn close(&mut self) -> Result<()> {
        self.check_healthy()?;
        for seg in self.segments.values() {
            seg.sync_all()
                .map_err(|e| Error::storage(format!("syncing {}", seg.path.display()), e))?;
        }
        if std::mem::take(&mut self.dir_unsynced) {
            self.fs
                .sync_dir(&self.dir)
                .map_err(|e| Error::storage(format!("syncing {}", self.dir.display()), e))?;
        }
        let leo = self.log_end_offset();
        let snap_path = self.dir.join(producer_state::snapshot_file_name(leo));
        self.fs
            .write_atomic(&snap_path, &self.producers.encode_snapshot())
            .map_err(|e| Error::storage(format!("writing {}", snap_path.display()), e))?;
        self.recovery_point = leo;
        self.prune_snapshots();
        Ok(())
    }

    /// Deletes closed segments that `retention.ms` / `retention.bytes` say are expired.
    pub(crate) fn apply_retention(&mut self, now_ms: i64) -> Result<usize> {
        let infos: Vec<retention::SegmentInfo> = self
            .segments
            .values()
            .map(|s| retention::SegmentInfo {
                base_offset: s.base_offset,
                size: s.size,
                max_timestamp: s.max_timestamp,
            })
            .collect();
        let doomed = retention::segments_to_delete(&infos, &self.config, now_ms);
        if doomed.is_empty() {
            return Ok(0);
        }
        let n = doomed.len();
        for base in doomed {
            self.delete_segment(base)?;
        }
        let first = self.first_segment_base();
        if self.log_start_offset < first {
            self.log_start_offset = first;
        }
        info!(dir = %self.dir.display(), segments = n, log_start_offset = self.log_start_offset, "retention deleted segments");
        Ok(n)
    }

    fn delete_segment(&mut self, base: i64) -> Result<()> {
        if let Some(seg) = self.segments.remove(&base) {
            for path in seg.files() {
                let mut deleted = path.as_os_str().to_owned();
                deleted.push(".deleted");
                let deleted = PathBuf::from(deleted);
                if self.fs.exists(&path) {
                    self.fs
                        .rename(&path, &deleted)
                        .map_err(|e| Error::storage(format!("deleting {}", path.display()), e))?;
                    self.fs.remove_file(&deleted).map_err(|e| {
                        Error::storage(format!("deleting {}", deleted.display()), e)
                    })?;
                }
            }
        }
        Ok(())
    }

    /// Moves the log start offset forward (DeleteRecords); whole segments below it are deleted.
    pub(crate) fn delete_records_before(&mut self, offset: i64) -> Result<i64> {
        let leo = self.log_end_offset();
        if offset < 0 || offset > leo {
            return Err(Error::OffsetOutOfRange {
                offset,
                log_start: self.log_start_offset,
                log_end: leo,
            });
        }
        if offset > self.log_start_offset {
            self.log_start_offset = offset;
        }
        let doomed: Vec<i64> = self
            .segments
            .values()
            .filter(|s| {
                s.next_offset <= self.log_start_offset && s.base_offset != self.active().base_offset
            })
            .map(|s| s.base_offset)
            .collect();
        for base in doomed {
            self.delete_segment(base)?;
        }
        Ok(self.log_start_offset)
    }

    /// The closed segments (all but the active one), for the cleaner.
    pub(crate) fn closed_segments(&self) -> Vec<(i64, FileHandle, u64, i64, i64)> {
        let active = self.active().base_offset;
        self.segments
            .values()
            .filter(|s| s.base_offset != active)
            .map(|s| (s.base_offset, s.file.clone(), s.size, s.max_timestamp, s.next_offset))
            .collect()
    }

    /// Replaces a closed segment's file by a cleaned copy written at `cleaned` (same base offset).
    /// Returns false when the segment changed meanwhile (then the copy is discarded).
    pub(crate) fn swap_cleaned(
        &mut self,
        base: i64,
        expected_size: u64,
        cleaned: &Path,
        now_ms: i64,
    ) -> Result<bool> {
        let still_there = self.segments.get(&base).is_some_and(|s| s.size == expected_size)
            && self.active().base_offset != base;
        if !still_there {
            let _ = self.fs.remove_file(cleaned);
            return Ok(false);
        }
        let ctx = |e| {
            Error::storage(format!("swapping cleaned segment {base} in {}", self.dir.display()), e)
        };
        // Indexes first: a log file must never be paired with an index of another file.
        for ext in ["index", "timeindex"] {
            self.fs.remove_file(&segment::segment_path(&self.dir, base, ext)).map_err(ctx)?;
        }
        self.fs.sync_dir(&self.dir).map_err(ctx)?;
        self.fs.rename(cleaned, &segment::segment_path(&self.dir, base, "log")).map_err(ctx)?;
        self.fs.sync_dir(&self.dir).map_err(ctx)?;
        let seg = Segment::open_trusted(&*self.fs, &self.dir, base, now_ms)?;
        seg.sync_all().map_err(ctx)?;
        self.segments.insert(base, seg);
        Ok(true)
    }

    /// Every record of the batches in a read, for callers that need records rather than bytes.
    #[cfg(test)]
    pub(crate) fn read_all_records(&self) -> Result<Vec<format::Record>> {
        let mut out = Vec::new();
        let mut offset = self.log_start_offset;
        while let Some(plan) = self.plan_read(offset)? {
            let bytes = read_batches(&plan, 1 << 20, i64::MAX, None)?;
            if bytes.is_empty() {
                break;
            }
            for item in format::batches(&bytes) {
                let (h, _) = item?;
                offset = h.next_offset();
            }
            for r in decode_checked(&plan.path, plan.start, bytes)? {
                out.push(r);
            }
        }
        Ok(out)
    }
}

fn seg_index_handles(seg: &Segment) -> [FileHandle; 2] {
    [seg.index.file(), seg.time_index.file()]
}

fn producer_batch(h: &BatchHeader) -> ProducerBatch {
    ProducerBatch {
        producer_id: h.producer_id,
        epoch: h.producer_epoch,
        first_seq: h.base_sequence,
        last_seq: h.last_sequence(),
        first_offset: h.base_offset,
        last_offset: h.last_offset(),
        max_timestamp: h.max_timestamp,
        is_transactional: h.is_transactional(),
        is_control: h.is_control(),
    }
}

fn replay_header(producers: &mut ProducerStateManager, h: &BatchHeader) {
    if h.producer_id >= 0 {
        producers.replay_batch(&producer_batch(h));
    }
}

fn producer_error(e: ProducerStateError, h: &BatchHeader) -> Error {
    match e {
        ProducerStateError::InvalidProducerEpoch { current, .. } => Error::InvalidProducerEpoch {
            producer_id: h.producer_id,
            epoch: h.producer_epoch,
            current,
        },
        ProducerStateError::OutOfOrderSequence { expected, got, .. } => {
            Error::OutOfOrderSequence { expected, got }
        }
        ProducerStateError::UnknownProducerId { .. } => Error::UnknownProducerId(h.producer_id),
    }
}

/// Reads the planned range and keeps whole batches: at most `max_bytes` (but always at least one
/// whole batch), and only batches that start below `max_offset` (the high watermark).
///
/// A mapped segment is sliced without a copy. Otherwise the bytes are read into `reuse` (its pages
/// are already mapped, which saves the kernel from handing out and clearing fresh ones) or into a
/// new buffer.
pub(crate) fn read_batches(
    plan: &ReadPlan,
    max_bytes: usize,
    max_offset: i64,
    reuse: Option<BytesMut>,
) -> Result<Bytes> {
    let available = plan.end.saturating_sub(plan.start);
    let want =
        (max_bytes as u64).min(available).max((format::BATCH_HEADER_LEN as u64).min(available));
    let window = |len: u64, reuse: Option<BytesMut>| -> Result<Bytes> {
        if let Some(map) = &plan.mapped {
            // plan.end <= map.len() (see Segment::mapped), and len <= plan.end - plan.start.
            let (start, end) = (plan.start as usize, plan.end as usize);
            return Ok(map.window(start, start + len as usize, end));
        }
        let mut buf = match reuse {
            Some(mut b) => {
                b.clear();
                b.resize(len as usize, 0);
                b
            }
            None => BytesMut::zeroed(len as usize),
        };
        plan.file
            .read_exact_at(&mut buf, plan.start)
            .map_err(|e| Error::storage(format!("reading {}", plan.path.display()), e))?;
        Ok(buf.freeze())
    };
    let buf = window(want, reuse)?;
    let mut keep = 0usize;
    let mut first_len = None;
    for item in format::batches(&buf) {
        match item {
            Ok((h, slice)) => {
                if h.base_offset >= max_offset {
                    break;
                }
                keep += slice.len();
            }
            Err(format::FormatError::Truncated { .. }) => {
                if keep == 0 {
                    // The first batch is larger than max_bytes: read it whole.
                    if let Ok(h) = BatchHeader::parse(&buf) {
                        if h.base_offset < max_offset {
                            first_len = Some(h.total_len());
                        }
                    }
                }
                break;
            }
            Err(e) => {
                if keep == 0 {
                    return Err(Error::Corrupted {
                        file: plan.path.clone(),
                        position: plan.start,
                        reason: e.to_string(),
                    });
                }
                break;
            }
        }
    }
    if let Some(len) = first_len {
        if plan.start + len as u64 > plan.end {
            return Err(Error::Corrupted {
                file: plan.path.clone(),
                position: plan.start,
                reason: format!("batch of {len} bytes runs past the end of the segment"),
            });
        }
        return window(len as u64, None);
    }
    if plan.mapped.is_some() {
        return Ok(buf.slice(..keep));
    }
    // Truncate rather than slice, so that the buffer keeps its capacity for reuse.
    let mut buf = BytesMut::from(buf);
    buf.truncate(keep);
    Ok(buf.freeze())
}

/// Decodes the records of the whole batches in `bytes` (read from `path` at `start`), checking each
/// batch's CRC first; control batches are skipped, and a bad batch is an error naming the file and
/// position it was read from.
pub(crate) fn decode_checked(path: &Path, start: u64, bytes: Bytes) -> Result<Vec<format::Record>> {
    let (mut out, mut pos) = (Vec::new(), 0usize);
    while pos < bytes.len() {
        let h = check_batch(path, start, &bytes, pos, true)?;
        decode_batch(path, start, &bytes, pos, &h, |r| out.push(r))?;
        pos += h.total_len();
    }
    Ok(out)
}

/// The header of the whole batch at `pos` in `bytes` (read from `path` at `start`), its CRC
/// checked with `check_crcs`; a bad batch is an error naming the file and the batch's position.
pub(crate) fn check_batch(
    path: &Path,
    start: u64,
    bytes: &[u8],
    pos: usize,
    check_crcs: bool,
) -> Result<BatchHeader> {
    let rest = bytes.get(pos..).unwrap_or_default();
    match check_crcs {
        true => format::verify_crc(rest),
        false => BatchHeader::parse_whole(rest).map(|(h, _)| h),
    }
    .map_err(|e| corrupted(path, start, pos, e))
}

/// Hands each record of the batch at `pos` in `bytes`, whose header [`check_batch`] returned, to
/// `each` (none for a control batch). On an error, the records already handed out are the
/// batch's records before the bad one.
pub(crate) fn decode_batch(
    path: &Path,
    start: u64,
    bytes: &Bytes,
    pos: usize,
    header: &BatchHeader,
    mut each: impl FnMut(format::Record),
) -> Result<()> {
    if header.is_control() {
        return Ok(());
    }
    let batch = bytes.slice(pos..pos + header.total_len());
    format::decode_records_with(&batch, &mut each).map_err(|e| corrupted(path, start, pos, e))
}

/// A batch that does not check out, named by its file and position.
fn corrupted(path: &Path, start: u64, pos: usize, e: format::FormatError) -> Error {
    Error::Corrupted {
        file: path.to_path_buf(),
        position: start + pos as u64,
        reason: e.to_string(),
    }
}
