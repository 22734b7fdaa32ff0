//! One partition: its log, group commit of fsyncs, and the visible end that readers wait on.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use parking_lot::{Condvar, Mutex};
use tokio::sync::{Notify, watch};

use crate::broker::Durability;
use crate::error::{Error, Result};
use crate::log::{self, AppendInfo, Log};
use crate::topic::TopicName;

#[derive(Debug, Default)]
struct FlushState {
    /// Every offset below this is on stable storage.
    flushed: i64,
    /// A thread is running an fsync right now; others wait for it.
    in_progress: bool,
}

/// In interval-flush mode, the disk writes of every this many appended bytes are started at once
/// (like RocksDB's `bytes_per_sync`), so that the flusher's fsync finds little left to write and
/// does not stall appends and reads with a burst of disk traffic.
const WRITEBACK_BYTES: u64 = 8 << 20;

/// Data read from a partition.
#[derive(Debug, Clone)]
pub(crate) struct ReadResult {
    /// Whole record batches (possibly empty).
    pub(crate) batches: Bytes,
    /// The file the batches came from, and the position of the first one (for error messages).
    pub(crate) source: Option<(std::path::PathBuf, u64)>,
}

/// A partition of a topic.
#[derive(Debug)]
pub(crate) struct Partition {
    pub(crate) topic: TopicName,
    pub(crate) index: i32,
    pub(crate) log: Mutex<Log>,
    durability: Durability,
    flush: Mutex<FlushState>,
    flushed_cv: Condvar,
    /// The high watermark: the end of what readers may see (the flushed end in sync-on-ack mode).
    hw: watch::Sender<i64>,
    /// Shared by every partition of the broker: woken whenever any high watermark moves.
    data_arrived: Arc<Notify>,
}

impl Partition {
    pub(crate) fn new(
        topic: TopicName,
        index: i32,
        log: Log,
        durability: Durability,
        data_arrived: Arc<Notify>,
    ) -> Self {
        let end = log.log_end_offset();
        let flushed = log.recovery_point().min(end);
        let (hw, _) = watch::channel(end);
        Self {
            topic,
            index,
            log: Mutex::new(log),
            durability,
            flush: Mutex::new(FlushState { flushed, in_progress: false }),
            flushed_cv: Condvar::new(),
            hw,
            data_arrived,
        }
    }

    /// Appends without waiting for the fsync; pair with [`Partition::wait_durable`].
    /// `built` says the batch comes from this process's [`crate::format::BatchBuilder`] and needs
    /// no record-by-record validation.
    pub(crate) fn append_nowait(
        &self,
        batch: &mut BytesMut,
        now_ms: i64,
        built: bool,
    ) -> Result<AppendInfo> {
        let interval = matches!(self.durability, Durability::Interval(_));
        let (info, leo, writeback) = {
            let mut log = self.log.lock();
            let info =
                if built { log.append_built(batch, now_ms)? } else { log.append(batch, now_ms)? };
            let writeback = if interval { log.writeback_due(WRITEBACK_BYTES) } else { None };
            (info, log.log_end_offset(), writeback)
        };
        if interval {
            self.publish(leo);
        }
        if let Some((file, pos, len)) = writeback {
            // Off the append path: starting writeback can block on the disk's queue. A dropped
            // hint only leaves more for the next fsync.
            crate::io::background(move || {
                if let Err(e) = file.start_writeback(pos, len) {
                    tracing::debug!(error = %e, "early writeback refused");
                }
            });
        }
        Ok(info)
    }

    /// Whether an acknowledged append waits for an fsync ([`Partition::wait_durable`] blocks):
    /// false in interval mode, where an append only writes into the page cache.
    pub(crate) fn acks_wait_for_fsync(&self) -> bool {
        !matches!(self.durability, Durability::Interval(_))
    }

    /// Waits until every offset below `offset` is durable (sync-on-ack mode); many callers share one
    /// fsync (group commit). In interval mode this returns at once.
    pub(crate) fn wait_durable(&self, offset: i64) -> Result<()> {
        if !self.acks_wait_for_fsync() {
            return Ok(());
        }
        self.flush_to(offset)
    }

    /// Makes every offset below `offset` durable, sharing fsyncs with concurrent callers.
    pub(crate) fn flush_to(&self, offset: i64) -> Result<()> {
        let mut st = self.flush.lock();
        loop {
            if st.flushed >= offset {
                return Ok(());
            }
            if st.in_progress {
                self.flushed_cv.wait(&mut st);
                continue;
            }
            st.in_progress = true;
            drop(st);
            let result = self.run_flush();
            st = self.flush.lock();
            st.in_progress = false;
            match result {
                Ok(target) => {
                    st.flushed = st.flushed.max(target);
                    self.flushed_cv.notify_all();
                    let visible = st.flushed;
                    drop(st);
                    self.publish(visible);
                    st = self.flush.lock();
                }
                Err(e) => {
                    self.flushed_cv.notify_all();
                    return Err(e);
                }
            }
        }
    }

    /// Flushes everything appended so far; returns the offset now durable.
    pub(crate) fn flush_all(&self) -> Result<()> {
        let leo = self.log.lock().log_end_offset();
        self.flush_to(leo)
    }

    fn run_flush(&self) -> Result<i64> {
        let plan = self.log.lock().begin_flush()?;
        let synced = plan.files.iter().try_for_each(|f| f.sync_data()).and_then(|()| {
            // The directory after the files: a new segment's entry must be durable too.
            plan.dir.as_ref().map_or(Ok(()), |(fs, dir)| fs.sync_dir(dir))
        });
        if let Err(e) = synced {
            // After a failed fsync the kernel may have dropped the dirty pages: the log's state on
            // disk is unknown, so it takes no more writes until it is reopened and recovered.
            let msg = format!("fsync failed for {}-{}: {e}", self.topic, self.index);
            self.log.lock().mark_failed(msg.clone());
            return Err(Error::storage(msg, e));
        }
        self.log.lock().mark_flushed(plan.target);
        Ok(plan.target)
    }

    fn publish(&self, end: i64) {
        let moved = self.hw.send_if_modified(|hw| {
            if end > *hw {
                *hw = end;
                true
            } else {
                false
            }
        });
        if moved {
            self.data_arrived.notify_waiters();
        }
    }

    /// The high watermark: the end of what consumers may read.
    pub(crate) fn high_watermark(&self) -> i64 {
        *self.hw.borrow()
    }

    /// Reads whole batches from `offset`, at most `max_bytes` (but at least one batch), below the
    /// high watermark.
    /// `reuse` is an optional buffer to read into.
    pub(crate) fn read(
        &self,
        offset: i64,
        max_bytes: usize,
        reuse: Option<BytesMut>,
    ) -> Result<ReadResult> {
        let hw = self.high_watermark();
        let plan = {
            let log = self.log.lock();
            let log_start = log.log_start_offset();
            if offset > hw {
                return Err(Error::OffsetOutOfRange { offset, log_start, log_end: hw });
            }
            if offset == hw {
                return Ok(ReadResult { batches: Bytes::new(), source: None });
            }
            log.plan_read(offset)?
        };
        let (batches, source) = match plan {
            Some(plan) => (
                log::read_batches(&plan, max_bytes, hw, reuse)?,
                Some((plan.path.clone(), plan.start)),
            ),
            None => (Bytes::new(), None),
        };
        Ok(ReadResult { batches, source })
    }

    /// Deletes the records below `offset` (`-1` = the high watermark) by moving the log start
    /// offset; whole segments below it go. Records above the high watermark are not committed and
    /// cannot be deleted. Returns the new log start offset. Blocking.
    pub(crate) fn delete_records(&self, offset: i64) -> Result<i64> {
        let hw = self.high_watermark();
        let offset = if offset == -1 { hw } else { offset };
        if offset > hw || offset < 0 {
            return Err(Error::OffsetOutOfRange {
                offset,
                log_start: self.log_start_offset(),
                log_end: hw,
            });
        }
        self.log.lock().delete_records_before(offset)
    }

    pub(crate) fn log_start_offset(&self) -> i64 {
        self.log.lock().log_start_offset()
    }
}

/// Shared handle.
pub(crate) type PartitionRef = Arc<Partition>;
