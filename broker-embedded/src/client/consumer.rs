//! The in-process consumer: assign or subscribe, poll, seek, commit.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

use crate::broker::{BrokerCore, PartitionRef};
use crate::client::{ConsumerRecord, TopicPartition};
use crate::error::{Error, Result};
use crate::log::decode_checked;

/// What to do when a partition has no committed offset, or the position is out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OffsetReset {
    /// Start from the log start.
    Earliest,
    /// Start from the end (Kafka's default).
    #[default]
    Latest,
    /// Fail with an error.
    None,
}

/// A committed offset and its metadata string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetAndMetadata {
    /// The next offset to consume.
    pub offset: i64,
    /// Free-form metadata stored with the commit.
    pub metadata: String,
}

impl OffsetAndMetadata {
    /// An offset with empty metadata.
    pub fn new(offset: i64) -> Self {
        Self {
            offset,
            metadata: String::new(),
        }
    }
}

/// Consumer settings.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// The consumer group; required for subscribe and commits.
    pub group_id: Option<String>,
    /// Name used in logs and group metadata.
    pub client_id: String,
    /// Where to start without a committed offset. Default latest.
    pub auto_offset_reset: OffsetReset,
    /// Most records one poll returns. Default 500.
    pub max_poll_records: usize,
    /// Most bytes read from one partition per fetch. Default 1 MiB.
    pub max_partition_fetch_bytes: usize,
    /// Group session timeout. Default 45 s.
    pub session_timeout: Duration,
    /// Group rebalance timeout (`max.poll.interval.ms`). Default 300 s.
    pub rebalance_timeout: Duration,
    /// How often the member heartbeats. Default 3 s.
    pub heartbeat_interval: Duration,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        Self {
            group_id: None,
            client_id: "consumer".into(),
            auto_offset_reset: OffsetReset::Latest,
            max_poll_records: 500,
            max_partition_fetch_bytes: 1 << 20,
            session_timeout: Duration::from_secs(45),
            rebalance_timeout: Duration::from_secs(300),
            heartbeat_interval: Duration::from_secs(3),
        }
    }
}

impl ConsumerConfig {
    /// Settings for a member of `group_id`.
    pub fn group(group_id: impl Into<String>) -> Self {
        Self {
            group_id: Some(group_id.into()),
            ..Self::default()
        }
    }
    /// Sets `auto_offset_reset`.
    pub fn offset_reset(mut self, reset: OffsetReset) -> Self {
        self.auto_offset_reset = reset;
        self
    }
}

#[derive(Debug)]
struct Assigned {
    partition: PartitionRef,
    topic: Arc<str>,
    position: Option<i64>,
    buffered: VecDeque<ConsumerRecord>,
}

#[derive(Debug, Default)]
struct State {
    assigned: BTreeMap<TopicPartition, Assigned>,
    /// Round-robin start for fairness across partitions.
    next: usize,
}

/// An in-process consumer.
#[derive(Debug)]
pub struct Consumer {
    core: Arc<BrokerCore>,
    config: ConsumerConfig,
    state: Mutex<State>,
}

impl Consumer {
    pub(crate) fn new(core: Arc<BrokerCore>, config: ConsumerConfig) -> Result<Self> {
        core.check_open()?;
        Ok(Self {
            core,
            config,
            state: Mutex::new(State::default()),
        })
    }

    /// Reads partitions chosen by the caller (no group membership). Replaces the assignment.
    pub fn assign(&self, partitions: &[TopicPartition]) -> Result<()> {
        let mut fresh = BTreeMap::new();
        let mut st = self.state.lock();
        for tp in partitions {
            let partition = self.core.partition(&tp.topic, tp.partition)?;
            let previous = st.assigned.remove(tp);
            let position = previous.and_then(|a| a.position);
            fresh.insert(
                tp.clone(),
                Assigned {
                    partition,
                    topic: Arc::from(tp.topic.as_str()),
                    position,
                    buffered: VecDeque::new(),
                },
            );
        }
        st.assigned = fresh;
        Ok(())
    }

    /// The partitions currently assigned.
    pub fn assignment(&self) -> Vec<TopicPartition> {
        self.state.lock().assigned.keys().cloned().collect()
    }

    /// Sets the next offset to read from a partition.
    pub fn seek(&self, tp: &TopicPartition, offset: i64) -> Result<()> {
        let mut st = self.state.lock();
        let a = st.assigned.get_mut(tp).ok_or_else(|| not_assigned(tp))?;
        a.position = Some(offset);
        a.buffered.clear();
        Ok(())
    }

    /// Moves to the first offset of each partition.
    pub fn seek_to_beginning(&self, tps: &[TopicPartition]) -> Result<()> {
        for tp in tps {
            let start = self
                .core
                .partition(&tp.topic, tp.partition)?
                .log_start_offset();
            self.seek(tp, start)?;
        }
        Ok(())
    }

    /// Moves to the end of each partition.
    pub fn seek_to_end(&self, tps: &[TopicPartition]) -> Result<()> {
        for tp in tps {
            let end = self
                .core
                .partition(&tp.topic, tp.partition)?
                .high_watermark();
            self.seek(tp, end)?;
        }
        Ok(())
    }

    /// The offset of the next record `poll` will return for this partition.
    pub async fn position(&self, tp: &TopicPartition) -> Result<i64> {
        self.ensure_positions().await?;
        let st = self.state.lock();
        let a = st.assigned.get(tp).ok_or_else(|| not_assigned(tp))?;
        Ok(a.buffered
            .front()
            .map(|r| r.offset)
            .or(a.position)
            .unwrap_or(0))
    }

    /// The committed offset of a partition in this consumer's group, if any.
    pub(crate) async fn committed_offset(&self, _tp: &TopicPartition) -> Result<Option<i64>> {
        Ok(None)
    }

    async fn ensure_positions(&self) -> Result<()> {
        let missing: Vec<TopicPartition> = {
            let st = self.state.lock();
            st.assigned
                .iter()
                .filter(|(_, a)| a.position.is_none())
                .map(|(tp, _)| tp.clone())
                .collect()
        };
        for tp in missing {
            let committed = self.committed_offset(&tp).await?;
            let mut st = self.state.lock();
            let Some(a) = st.assigned.get_mut(&tp) else {
                continue;
            };
            if a.position.is_some() {
                continue;
            }
            a.position = Some(match committed {
                Some(off) => off,
                None => self.reset_offset(&tp, &a.partition)?,
            });
        }
        Ok(())
    }

    fn reset_offset(&self, tp: &TopicPartition, p: &PartitionRef) -> Result<i64> {
        match self.config.auto_offset_reset {
            OffsetReset::Earliest => Ok(p.log_start_offset()),
            OffsetReset::Latest => Ok(p.high_watermark()),
            OffsetReset::None => Err(Error::OffsetOutOfRange {
                offset: -1,
                log_start: p.log_start_offset(),
                log_end: p.high_watermark(),
            })
            .inspect_err(|_| {
                tracing::debug!(partition = %tp, "no committed offset and auto_offset_reset = none");
            }),
        }
    }

    /// Returns available records, waiting up to `timeout` when there are none.
    pub async fn poll(&self, timeout: Duration) -> Result<Vec<ConsumerRecord>> {
        let deadline = Instant::now() + timeout;
        loop {
            self.core.check_open()?;
            let arrived = self.core.data_arrived.notified();
            self.ensure_positions().await?;
            let records = self.fetch_available()?;
            if !records.is_empty() {
                return Ok(records);
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return Ok(Vec::new());
            }
        }
    }

    fn fetch_available(&self) -> Result<Vec<ConsumerRecord>> {
        let max = self.config.max_poll_records.max(1);
        let mut out = Vec::new();
        let mut st = self.state.lock();
        let n = st.assigned.len();
        if n == 0 {
            return Ok(out);
        }
        let start = st.next % n;
        st.next = st.next.wrapping_add(1);
        let keys: Vec<TopicPartition> = st.assigned.keys().cloned().collect();
        for i in 0..n {
            if out.len() >= max {
                break;
            }
            let tp = &keys[(start + i) % n];
            let Some(a) = st.assigned.get_mut(tp) else {
                continue;
            };
            if a.buffered.is_empty() {
                self.fill(tp, a)?;
            }
            while out.len() < max {
                match a.buffered.pop_front() {
                    Some(r) => out.push(r),
                    None => break,
                }
            }
        }
        Ok(out)
    }

    fn fill(&self, tp: &TopicPartition, a: &mut Assigned) -> Result<()> {
        let Some(position) = a.position else {
            return Ok(());
        };
        let read = match a
            .partition
            .read(position, self.config.max_partition_fetch_bytes)
        {
            Ok(r) => r,
            Err(Error::OffsetOutOfRange { .. })
                if self.config.auto_offset_reset != OffsetReset::None =>
            {
                let reset = self.reset_offset(tp, &a.partition)?;
                tracing::info!(partition = %tp, from = position, to = reset, "position out of range; reset");
                a.position = Some(reset);
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if read.batches.is_empty() {
            return Ok(());
        }
        let (path, pos) = read.source.clone().unwrap_or_default();
        let mut end = position;
        for item in crate::format::batches(&read.batches) {
            let (h, _) = item.map_err(|e| Error::Corrupted {
                file: path.clone(),
                position: pos,
                reason: e.to_string(),
            })?;
            end = end.max(h.next_offset());
        }
        let records = decode_checked(&path, pos, read.batches)?;
        for r in records {
            if r.offset < position {
                continue;
            }
            a.buffered.push_back(ConsumerRecord {
                topic: a.topic.clone(),
                partition: tp.partition,
                offset: r.offset,
                timestamp: r.timestamp,
                key: r.key,
                value: r.value,
                headers: r.headers,
            });
        }
        // Batches may end with records removed by compaction, or be control batches: skip past them.
        a.position = Some(end);
        Ok(())
    }
}

fn not_assigned(tp: &TopicPartition) -> Error {
    Error::UnknownPartition {
        topic: tp.topic.clone(),
        partition: tp.partition,
    }
}
