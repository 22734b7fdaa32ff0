//! Segmented bytes in RocksDB: one RocksDB instance per time segment, Kafka's `KeyValueSegments`.
//!
//! # On disk
//!
//! ```text
//! <store dir>/
//!     <store name>.<segment id × interval>/    one RocksDB database per segment
//!     ...
//! ```
//!
//! A segment holds every entry filed under a time in `[id × interval, (id + 1) × interval)`;
//! the directory name is the segment's first millisecond, as Kafka names them. When stream time
//! moves past a segment's last live millisecond the whole directory is deleted: expiry costs one
//! `remove_dir_all`, not a delete per record. Each segment uses the application's shared
//! [`RocksDbConfig`] (one block cache, bloom filters, no write-ahead log).
//!
//! Besides data, the newest segment holds one entry under the key `"\0streamtime"` (11 bytes,
//! shorter than any data key, which ends in a 12- or 16-byte time suffix): the stream time as of
//! the last flush, big-endian, so that a reopened store expires exactly what it had expired
//! before. Scans never return it. If every segment has expired, a flush creates the (empty)
//! segment that stream time falls in to hold it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use rocksdb::{DB, FlushOptions, IteratorMode, ReadOptions, WriteOptions};

use crate::StoreError;
use crate::bounds;
use crate::rocks::config::RocksDbConfig;
use crate::rocks::store_error;
use crate::segments::{NO_STREAM_TIME, RawIter, SegmentedBytes, merge_sorted};

/// Where a segment store keeps its stream time; never a data key (see the module docs).
const STREAM_TIME_KEY: &[u8] = b"\0streamtime";

/// Kafka's minimum segment interval: one minute.
const MIN_SEGMENT_INTERVAL_MS: i64 = 60_000;

/// Kafka's segment interval for a retention period: `max(retention / 2, 60 000 ms)`.
pub(crate) fn segment_interval(retention_ms: i64) -> i64 {
    (retention_ms / 2).max(MIN_SEGMENT_INTERVAL_MS)
}

/// The segments of one store under its directory.
pub(crate) struct RocksSegments {
    store: String,
    dir: PathBuf,
    config: RocksDbConfig,
    interval: i64,
    open: Option<Open>,
}

struct Open {
    segments: BTreeMap<i64, Segment>,
    read: ReadOptions,
    write: WriteOptions,
    flush: FlushOptions,
    /// The stream time last written to the newest segment.
    saved_stream_time: i64,
}

struct Segment {
    db: DB,
    path: PathBuf,
}

impl RocksSegments {
    /// Segments of `interval` ms for the store `store`, under `dir`.
    pub(crate) fn new(store: &str, dir: PathBuf, config: &RocksDbConfig, interval: i64) -> Self {
        Self {
            store: store.to_owned(),
            dir,
            config: config.clone(),
            interval: interval.max(1),
            open: None,
        }
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn interval(&self) -> i64 {
        self.interval
    }

    fn segment_id(&self, time: i64) -> i64 {
        time.max(0) / self.interval
    }

    fn segment_path(&self, id: i64) -> PathBuf {
        self.dir.join(format!("{}.{}", self.store, id.saturating_mul(self.interval)))
    }

    fn closed(&self) -> StoreError {
        StoreError::Closed { store: self.store.clone() }
    }

    fn open_segment(&self, path: PathBuf) -> Result<Segment, StoreError> {
        std::fs::create_dir_all(&path)
            .map_err(|source| StoreError::Io { path: path.clone(), source })?;
        let db = DB::open(&self.config.options(), &path)
            .map_err(|err| store_error(err, &self.store, &path))?;
        Ok(Segment { db, path })
    }

    /// The segment ids found under the store directory, with their directories.
    fn existing(&self) -> Result<Vec<(i64, PathBuf)>, StoreError> {
        let io = |source| StoreError::Io { path: self.dir.clone(), source };
        let prefix = format!("{}.", self.store);
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = entry.file_name();
            let Some(start) = name
                .to_str()
                .and_then(|name| name.strip_prefix(&prefix))
                .and_then(|start| start.parse::<i64>().ok())
            else {
                continue;
            };
            if start < 0 || !entry.file_type().map_err(io)?.is_dir() {
                continue;
            }
            found.push((start / self.interval, entry.path()));
        }
        found.sort();
        Ok(found)
    }

    fn drop_segment(&self, segment: Segment) -> Result<(), StoreError> {
        let Segment { db, path } = segment;
        drop(db);
        std::fs::remove_dir_all(&path)
            .map_err(|source| StoreError::Io { path: path.clone(), source })?;
        tracing::debug!(store = %self.store, path = %path.display(), "dropped expired segment");
        Ok(())
    }

    fn flush_open(&mut self, stream_time: i64) -> Result<(), StoreError> {
        let Some(open) = self.open.as_ref() else {
            return Err(StoreError::Closed { store: self.store.clone() });
        };
        if stream_time != open.saved_stream_time && stream_time != NO_STREAM_TIME {
            if open.segments.is_empty() {
                // Every segment expired (or none was written): keep the stream time in the
                // segment it falls in, which is live, so that a reopened store still knows it.
                let id = stream_time.max(0) / self.interval;
                let path =
                    self.dir.join(format!("{}.{}", self.store, id.saturating_mul(self.interval)));
                let segment = self.open_segment(path)?;
                if let Some(open) = self.open.as_mut() {
                    open.segments.insert(id, segment);
                }
            }
            let Some(open) = self.open.as_mut() else {
                return Err(StoreError::Closed { store: self.store.clone() });
            };
            if let Some(newest) = open.segments.values().next_back() {
                newest
                    .db
                    .put_opt(STREAM_TIME_KEY, stream_time.to_be_bytes(), &open.write)
                    .map_err(|err| store_error(err, &self.store, &newest.path))?;
                open.saved_stream_time = stream_time;
            }
        }
        let Some(open) = self.open.as_ref() else {
            return Err(StoreError::Closed { store: self.store.clone() });
        };
        for segment in open.segments.values() {
            segment
                .db
                .flush_opt(&open.flush)
                .map_err(|err| store_error(err, &self.store, &segment.path))?;
        }
        Ok(())
    }
}

fn saved_stream_time(segment: &Segment, store: &str) -> Result<Option<i64>, StoreError> {
    let value = segment
        .db
        .get_pinned(STREAM_TIME_KEY)
        .map_err(|err| store_error(err, store, &segment.path))?;
    Ok(value.and_then(|v| <[u8; 8]>::try_from(&v[..]).ok()).map(i64::from_be_bytes))
}

impl SegmentedBytes for RocksSegments {
    fn persistent(&self) -> bool {
        true
    }

    fn open(&mut self) -> Result<Option<i64>, StoreError> {
        if let Some(open) = &self.open {
            return Ok(Some(open.saved_stream_time).filter(|&t| t != NO_STREAM_TIME));
        }
        std::fs::create_dir_all(&self.dir)
            .map_err(|source| StoreError::Io { path: self.dir.clone(), source })?;
        let mut segments = BTreeMap::new();
        let mut stream_time = NO_STREAM_TIME;
        for (id, path) in self.existing()? {
            if segments.contains_key(&id) {
                tracing::warn!(store = %self.store, path = %path.display(),
                    "ignoring a segment directory that does not match the segment interval");
                continue;
            }
            let segment = self.open_segment(path)?;
            // A segment exists only once a record filed in it was written: stream time reached
            // at least its first millisecond.
            stream_time = stream_time.max(id.saturating_mul(self.interval));
            if let Some(saved) = saved_stream_time(&segment, &self.store)? {
                stream_time = stream_time.max(saved);
            }
            segments.insert(id, segment);
        }
        let mut write = WriteOptions::default();
        write.disable_wal(true);
        let mut flush = FlushOptions::default();
        flush.set_wait(true);
        let recovered = (!segments.is_empty()).then_some(stream_time);
        self.open = Some(Open {
            segments,
            read: ReadOptions::default(),
            write,
            flush,
            saved_stream_time: stream_time,
        });
        tracing::debug!(store = %self.store, dir = %self.dir.display(), "opened segmented RocksDB store");
        Ok(recovered)
    }

    fn get(&self, raw: &[u8], time: i64) -> Result<Option<Bytes>, StoreError> {
        let open = self.open.as_ref().ok_or_else(|| self.closed())?;
        let Some(segment) = open.segments.get(&self.segment_id(time)) else {
            return Ok(None);
        };
        match segment.db.get_pinned_opt(raw, &open.read) {
            Ok(value) => Ok(value.map(|value| Bytes::copy_from_slice(&value))),
            Err(err) => Err(store_error(err, &self.store, &segment.path)),
        }
    }

    fn put(&mut self, raw: Bytes, value: Option<Bytes>, time: i64) -> Result<(), StoreError> {
        let id = self.segment_id(time);
        let exists = self.open.as_ref().ok_or_else(|| self.closed())?.segments.contains_key(&id);
        if !exists {
            if value.is_none() {
                return Ok(()); // nothing to delete
            }
            let segment = self.open_segment(self.segment_path(id))?;
            tracing::debug!(store = %self.store, path = %segment.path.display(), "created segment");
            if let Some(open) = self.open.as_mut() {
                open.segments.insert(id, segment);
            }
        }
        let open = self.open.as_ref().ok_or_else(|| self.closed())?;
        let Some(segment) = open.segments.get(&id) else {
            return Err(self.closed());
        };
        let result = match value {
            Some(value) => segment.db.put_opt(&raw, &value, &open.write),
            None => segment.db.delete_opt(&raw, &open.write),
        };
        result.map_err(|err| store_error(err, &self.store, &segment.path))
    }

    fn scan(
        &self,
        lower: Option<&[u8]>,
        upper: Option<&[u8]>,
        time_from: i64,
        time_to: i64,
        reverse: bool,
    ) -> Result<RawIter<'_>, StoreError> {
        let open = self.open.as_ref().ok_or_else(|| self.closed())?;
        if time_to < time_from.max(0) || bounds::is_inverted(lower, upper) {
            return Ok(Box::new(std::iter::empty()));
        }
        let ids = self.segment_id(time_from)..=self.segment_id(time_to);
        let mut sources: Vec<RawIter<'_>> = Vec::new();
        for segment in open.segments.range(ids).map(|(_, segment)| segment) {
            let mut read = ReadOptions::default();
            if let Some(lower) = lower {
                read.set_iterate_lower_bound(lower.to_vec());
            }
            if let Some(upper) = upper {
                read.set_iterate_upper_bound(bounds::after(upper));
            }
            let mode = if reverse { IteratorMode::End } else { IteratorMode::Start };
            let (store, path) = (self.store.as_str(), segment.path.as_path());
            sources.push(Box::new(segment.db.iterator_opt(mode, read).filter_map(move |item| {
                match item {
                    Ok((key, _)) if &*key == STREAM_TIME_KEY => None,
                    Ok((key, value)) => Some(Ok((Bytes::from(key), Bytes::from(value)))),
                    Err(err) => Some(Err(store_error(err, store, path))),
                }
            })));
        }
        Ok(merge_sorted(sources, reverse))
    }

    fn expire(&mut self, min_live: i64) -> Result<(), StoreError> {
        let min_id = self.segment_id(min_live);
        let Some(open) = self.open.as_mut() else {
            return Err(StoreError::Closed { store: self.store.clone() });
        };
        let expired: Vec<i64> = open.segments.range(..min_id).map(|(&id, _)| id).collect();
        let mut removed = Vec::with_capacity(expired.len());
        for id in expired {
            if let Some(segment) = open.segments.remove(&id) {
                removed.push(segment);
            }
        }
        let mut first_error = Ok(());
        for segment in removed {
            let dropped = self.drop_segment(segment);
            if first_error.is_ok() {
                first_error = dropped;
            }
        }
        first_error
    }

    fn max_time(&self) -> Option<i64> {
        let open = self.open.as_ref()?;
        let (&newest, _) = open.segments.last_key_value()?;
        Some(newest.saturating_add(1).saturating_mul(self.interval).saturating_sub(1))
    }

    fn flush(&mut self, stream_time: i64) -> Result<(), StoreError> {
        self.flush_open(stream_time)
    }

    fn close(&mut self, stream_time: i64) -> Result<(), StoreError> {
        if self.open.is_none() {
            return Ok(());
        }
        let flushed = self.flush_open(stream_time);
        // Dropping the handles closes the databases and releases their LOCK files.
        self.open = None;
        tracing::debug!(store = %self.store, dir = %self.dir.display(), "closed segmented RocksDB store");
        flushed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_interval_is_half_the_retention_but_at_least_a_minute() {
        assert_eq!(segment_interval(0), 60_000);
        assert_eq!(segment_interval(100_000), 60_000);
        assert_eq!(segment_interval(86_400_000), 43_200_000);
        assert_eq!(segment_interval(i64::MAX), i64::MAX / 2);
    }
}
