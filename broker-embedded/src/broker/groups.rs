//! Binds the group coordinator to the log: committed offsets and group metadata live in the
//! compacted internal topic `__consumer_offsets`, in Kafka's key and value formats, and are replayed
//! into the coordinator when the broker opens.

use std::sync::{Arc, Weak};
use std::time::Instant;

use bytes::Bytes;
use tracing::{info, warn};

use crate::broker::{BrokerCore, now_ms};
use crate::error::Result;
use crate::format::BatchBuilder;
use crate::group::offsets_topic::OffsetsKey;
use crate::group::{CoordinatorConfig, GroupCoordinator, OffsetLog};
use crate::log::decode_checked;

/// The internal topic holding committed offsets and group metadata.
pub(crate) const OFFSETS_TOPIC: &str = "__consumer_offsets";

/// Java's `String.hashCode`, which Kafka uses to place a group in `__consumer_offsets`.
fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The `__consumer_offsets` partition of a group (Kafka: `abs(hashCode) % partitions`).
pub(crate) fn partition_for_group(group: &str, partitions: i32) -> i32 {
    let h = java_string_hash(group);
    // Kafka's Utils.abs maps i32::MIN to 0.
    let abs = if h == i32::MIN { 0 } else { h.abs() };
    abs % partitions.max(1)
}

/// Appends coordinator records to `__consumer_offsets`, durably.
#[derive(Debug)]
pub(crate) struct OffsetsTopicLog {
    core: Weak<BrokerCore>,
}

impl OffsetLog for OffsetsTopicLog {
    fn append(&self, records: Vec<(Bytes, Option<Bytes>)>) -> std::result::Result<(), String> {
        let core = self.core.upgrade().ok_or("the broker is shut down")?;
        let topic = core
            .topics
            .read()
            .get(OFFSETS_TOPIC)
            .cloned()
            .ok_or("the __consumer_offsets topic is missing")?;
        let partitions = topic.partition_count();
        // Group the records by the partition of their group, keeping their order.
        let mut by_partition: Vec<(i32, BatchBuilder)> = Vec::new();
        let now = now_ms();
        for (key, value) in &records {
            let group = match OffsetsKey::decode(key).map_err(|e| e.to_string())? {
                OffsetsKey::OffsetCommit { group, .. } | OffsetsKey::GroupMetadata { group } => {
                    group
                }
            };
            let p = partition_for_group(&group, partitions);
            let idx = match by_partition.iter().position(|(q, _)| *q == p) {
                Some(i) => i,
                None => {
                    by_partition.push((p, BatchBuilder::new()));
                    by_partition.len() - 1
                }
            };
            by_partition[idx].1.push(now, Some(key), value.as_deref(), &[]);
        }
        for (p, builder) in by_partition {
            let part = topic.partition(p).map_err(|e| e.to_string())?;
            let mut batch = builder.build(0).map_err(|e| e.to_string())?;
            let info = part.append_nowait(&mut batch, now, true).map_err(|e| e.to_string())?;
            part.wait_durable(info.last_offset + 1).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// Creates `__consumer_offsets` if needed and rebuilds the coordinator from it. Blocking.
pub(crate) fn load_coordinator(
    core: &Arc<BrokerCore>,
) -> Result<(GroupCoordinator, Arc<dyn OffsetLog>)> {
    let existing = core.topics.read().get(OFFSETS_TOPIC).cloned();
    let topic = match existing {
        Some(t) => t,
        None => core.create_topic(
            OFFSETS_TOPIC,
            core.config.offsets_topic_partitions,
            &[
                ("cleanup.policy".into(), "compact".into()),
                ("segment.bytes".into(), "104857600".into()),
            ],
        )?,
    };
    let mut coordinator = GroupCoordinator::new(CoordinatorConfig {
        initial_rebalance_delay_ms: core.config.group_initial_rebalance_delay.as_millis() as u64,
        min_session_timeout_ms: core
            .config
            .group_min_session_timeout
            .as_millis()
            .min(i32::MAX as u128) as i32,
        ..CoordinatorConfig::default()
    });
    let started = Instant::now();
    let mut replayed = 0u64;
    for part in topic.partitions() {
        let mut offset = part.log_start_offset();
        let end = part.high_watermark();
        while offset < end {
            let read = part.read(offset, 1 << 20, None)?;
            if read.batches.is_empty() {
                break;
            }
            let mut next = offset;
            for item in crate::format::batches(&read.batches) {
                let (h, _) = item?;
                next = next.max(h.next_offset());
            }
            let (path, pos) = read.source.clone().unwrap_or_default();
            for r in decode_checked(&path, pos, read.batches)? {
                let Some(key) = r.key else { continue };
                if let Err(e) = coordinator.replay(&key, r.value.as_deref()) {
                    warn!(partition = part.index, offset = r.offset, error = %e, "skipping an unreadable __consumer_offsets record");
                }
                replayed += 1;
            }
            offset = next;
        }
    }
    info!(
        records = replayed,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "loaded consumer groups from __consumer_offsets"
    );
    Ok((coordinator, Arc::new(OffsetsTopicLog { core: Arc::downgrade(core) })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_placed_as_kafka_places_them() {
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        assert_eq!(java_string_hash("ab"), 97 * 31 + 98);
        assert_eq!(partition_for_group("anything", 1), 0);
        let h = java_string_hash("my-group");
        assert_eq!(partition_for_group("my-group", 50), h.abs() % 50);
    }
}
