//! Log compaction: keep the latest record per key in closed segments.
//!
//! The cleaner copies what it needs while holding the log's lock only briefly: it reads closed
//! segments (which never change) without the lock, writes cleaned copies to `<base>.log.cleaned`, and
//! takes the lock only to swap a copy in. Appends and reads go on meanwhile; a reader that started on
//! the old file keeps reading it (the open handle outlives the rename).

use std::collections::HashMap;
use std::path::PathBuf;

use bytes::{BufMut, Bytes, BytesMut};
use parking_lot::Mutex;
use tracing::{debug, info};

use crate::error::{Error, Result};
use crate::format::{self, BatchHeader, Record};
use crate::io::FileHandle;
use crate::log::Log;
use crate::log::segment::segment_path;

/// What one cleaning pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CompactionStats {
    pub(crate) segments_cleaned: usize,
    pub(crate) records_removed: u64,
}

/// Reads a segment file batch by batch, in chunks of a few MiB.
fn for_each_batch(
    file: &FileHandle,
    path: &std::path::Path,
    size: u64,
    mut f: impl FnMut(BatchHeader, Bytes) -> Result<()>,
) -> Result<()> {
    const CHUNK: u64 = 4 << 20;
    let mut pos = 0u64;
    while pos < size {
        let mut head = [0u8; format::BATCH_HEADER_LEN];
        file.read_exact_at(&mut head, pos)
            .map_err(|e| Error::storage(format!("reading {}", path.display()), e))?;
        let first = BatchHeader::parse(&head).map_err(|e| Error::Corrupted {
            file: path.to_path_buf(),
            position: pos,
            reason: e.to_string(),
        })?;
        let want = (first.total_len() as u64).max(CHUNK.min(size - pos));
        let want = want.min(size - pos);
        let mut buf = BytesMut::zeroed(want as usize);
        file.read_exact_at(&mut buf, pos)
            .map_err(|e| Error::storage(format!("reading {}", path.display()), e))?;
        let buf = buf.freeze();
        let mut off = 0usize;
        while off < buf.len() {
            let rest = &buf[off..];
            let h = match BatchHeader::parse(rest) {
                Ok(h) if h.total_len() <= rest.len() => h,
                _ => break,
            };
            let batch = buf.slice(off..off + h.total_len());
            format::validate_batch(&batch).map_err(|e| Error::Corrupted {
                file: path.to_path_buf(),
                position: pos + off as u64,
                reason: e.to_string(),
            })?;
            f(h, batch)?;
            off += h.total_len();
        }
        if off == 0 {
            return Err(Error::Corrupted {
                file: path.to_path_buf(),
                position: pos,
                reason: "batch does not fit in the segment".into(),
            });
        }
        pos += off as u64;
    }
    Ok(())
}

/// Runs one cleaning pass over a compacted log. Does nothing for logs whose policy is not `compact`,
/// or whose dirty part is below `min.cleanable.dirty.ratio` while no stamped tombstone's delete
/// horizon has passed.
pub(crate) fn compact(log: &Mutex<Log>, now_ms: i64) -> Result<CompactionStats> {
    let (config, closed, dir, fs, first_dirty, tombstones_due) = {
        let l = log.lock();
        let (closed, dir) = (l.closed_segments(), l.dir.clone());
        (l.config.clone(), closed, dir, l.fs.clone(), l.cleaner_point, l.tombstones_due)
    };
    if !config.cleanup_policy.compact || closed.is_empty() {
        return Ok(CompactionStats::default());
    }
    // Only segments whose newest record is older than min.compaction.lag.ms are cleanable.
    let horizon = now_ms.saturating_sub(config.min_compaction_lag_ms);
    let cleanable: Vec<_> = closed.into_iter().take_while(|s| s.3 <= horizon).collect();
    if cleanable.is_empty() {
        return Ok(CompactionStats::default());
    }
    let total: u64 = cleanable.iter().map(|s| s.2).sum();
    let dirty: u64 = cleanable.iter().filter(|s| s.4 > first_dirty).map(|s| s.2).sum();
    // Tombstones whose delete horizon has passed make a pass due however clean the log is.
    let horizon_passed = tombstones_due.is_some_and(|due| due <= now_ms);
    if total == 0
        || ((dirty as f64) / (total as f64) < config.min_cleanable_dirty_ratio && !horizon_passed)
    {
        return Ok(CompactionStats::default());
    }

    // Pass 1: the latest offset of every key.
    let mut latest: HashMap<Bytes, i64> = HashMap::new();
    for (base, file, size, _, _) in &cleanable {
        let path = segment_path(&dir, *base, "log");
        for_each_batch(file, &path, *size, |h, batch| {
            if h.is_control() {
                return Ok(());
            }
            for r in format::decode_records(&batch)? {
                if let Some(k) = r.key {
                    latest.insert(k, r.offset);
                }
            }
            Ok(())
        })?;
    }

    // Pass 2: write a cleaned copy of each segment and swap it in. Tombstones go as Kafka's cleaner
    // lets them go: a batch holding one gets a delete horizon (now + delete.retention.ms) the first
    // time it is cleaned, and its tombstones are removed by the first pass after that horizon, so
    // every tombstone stays readable for at least delete.retention.ms after compaction first saw it,
    // whatever its own timestamp.
    let new_horizon = now_ms.saturating_add(config.delete_retention_ms);
    let mut stats = CompactionStats::default();
    // The earliest horizon of the tombstones left after this pass.
    let mut pending: Option<i64> = None;
    let mut cleaned_to = first_dirty;
    for (base, file, size, _, next_offset) in &cleanable {
        let path = segment_path(&dir, *base, "log");
        let mut out = BytesMut::new();
        let (mut removed, mut stamped) = (0u64, false);
        for_each_batch(file, &path, *size, |h, batch| {
            if h.is_control() {
                out.extend_from_slice(&batch);
                return Ok(());
            }
            let horizon = h.has_delete_horizon().then_some(h.base_timestamp);
            let expired = horizon.is_some_and(|horizon| now_ms >= horizon);
            let records = format::decode_records(&batch)?;
            let n = records.len();
            let kept: Vec<Record> = records
                .into_iter()
                .filter(|r| {
                    let is_latest =
                        r.key.as_ref().is_some_and(|k| latest.get(k) == Some(&r.offset));
                    is_latest && !(expired && r.value.is_none())
                })
                .collect();
            removed += (n - kept.len()) as u64;
            let has_tombstones = kept.iter().any(|r| r.value.is_none());
            let stamp = horizon.is_none() && has_tombstones;
            stamped |= stamp;
            if has_tombstones {
                let due = if stamp { new_horizon } else { horizon.unwrap_or(new_horizon) };
                pending = Some(pending.map_or(due, |p| p.min(due)));
            }
            if kept.len() == n && !stamp {
                out.extend_from_slice(&batch);
            } else if !kept.is_empty() {
                let horizon = if stamp { Some(new_horizon) } else { horizon };
                out.extend_from_slice(&rebuild_batch(&h, &kept, horizon));
            }
            Ok(())
        })?;
        if removed == 0 && !stamped {
            cleaned_to = cleaned_to.max(*next_offset);
            continue;
        }
        let mut cleaned_path = path.as_os_str().to_owned();
        cleaned_path.push(".cleaned");
        let cleaned_path = PathBuf::from(cleaned_path);
        let cleaned = fs
            .open(&cleaned_path, true)
            .map_err(|e| Error::storage(format!("creating {}", cleaned_path.display()), e))?;
        let write = cleaned
            .set_len(0)
            .and_then(|_| cleaned.write_all_at(&out, 0))
            .and_then(|_| cleaned.sync_data());
        if let Err(e) = write {
            let _ = fs.remove_file(&cleaned_path);
            return Err(Error::storage(format!("writing {}", cleaned_path.display()), e));
        }
        drop(cleaned);
        let swapped = log.lock().swap_cleaned(*base, *size, &cleaned_path, now_ms)?;
        if swapped {
            stats.segments_cleaned += 1;
            stats.records_removed += removed;
            cleaned_to = cleaned_to.max(*next_offset);
            debug!(dir = %dir.display(), base_offset = base, removed, "cleaned segment");
        }
    }
    {
        let mut l = log.lock();
        l.cleaner_point = cleaned_to;
        l.tombstones_due = pending;
    }
    if stats.segments_cleaned > 0 {
        info!(
            dir = %dir.display(),
            segments = stats.segments_cleaned,
            records_removed = stats.records_removed,
            "compaction pass done"
        );
    }
    Ok(stats)
}

/// Re-encodes a batch with a subset of its records, keeping their offsets and timestamps, the
/// producer fields and the batch's last offset (so producer state stays consistent), as Kafka's
/// cleaner does. A compressed batch's survivors are written uncompressed (Kafka would recompress
/// them with the same codec; the records are the same either way).
///
/// With a delete horizon, the batch carries it as Kafka does (KIP-534): attribute bit 6 set and the
/// horizon in the base timestamp field, the records' timestamp deltas relative to it, so that
/// every record keeps its timestamp.
fn rebuild_batch(original: &BatchHeader, records: &[Record], horizon: Option<i64>) -> BytesMut {
    let base_offset = records[0].offset;
    let base_ts = horizon.unwrap_or(records[0].timestamp);
    let mut body = BytesMut::new();
    for r in records {
        let mut rec = BytesMut::new();
        rec.put_i8(0);
        format::put_varlong(&mut rec, r.timestamp - base_ts);
        format::put_varint(&mut rec, (r.offset - base_offset) as i32);
        put_bytes(&mut rec, r.key.as_deref());
        put_bytes(&mut rec, r.value.as_deref());
        format::put_varint(&mut rec, r.headers.len() as i32);
        for h in &r.headers {
            put_bytes(&mut rec, Some(h.key.as_bytes()));
            put_bytes(&mut rec, h.value.as_deref());
        }
        format::put_varint(&mut body, rec.len() as i32);
        body.extend_from_slice(&rec);
    }
    let max_ts = if original.has_log_append_time() {
        original.max_timestamp
    } else {
        records.iter().map(|r| r.timestamp).max().unwrap_or(records[0].timestamp)
    };
    let attributes = match horizon {
        Some(_) => original.attributes | format::DELETE_HORIZON_FLAG,
        None => original.attributes & !format::DELETE_HORIZON_FLAG,
    };
    let mut out = BytesMut::with_capacity(format::BATCH_HEADER_LEN + body.len());
    out.put_i64(base_offset);
    out.put_i32((format::BATCH_HEADER_LEN - format::LOG_OVERHEAD + body.len()) as i32);
    out.put_i32(original.partition_leader_epoch);
    out.put_i8(2);
    out.put_u32(0); // CRC, filled below
    // The kept records are written uncompressed: clear the codec bits (the rest stays).
    out.put_i16(attributes & !0x07);
    out.put_i32((original.last_offset() - base_offset) as i32);
    out.put_i64(base_ts);
    out.put_i64(max_ts);
    out.put_i64(original.producer_id);
    out.put_i16(original.producer_epoch);
    out.put_i32(original.base_sequence);
    out.put_i32(records.len() as i32);
    out.extend_from_slice(&body);
    let crc = crate::format::crc32c(&out[21..]);
    out[17..21].copy_from_slice(&crc.to_be_bytes());
    out
}

fn put_bytes(buf: &mut BytesMut, b: Option<&[u8]>) {
    match b {
        None => format::put_varint(buf, -1),
        Some(b) => {
            format::put_varint(buf, b.len() as i32);
            buf.extend_from_slice(b);
        }
    }
}
