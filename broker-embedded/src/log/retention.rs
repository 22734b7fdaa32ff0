//! Pure decisions about segments: when to roll and which segments retention deletes.

use crate::topic::TopicConfig;

/// What retention needs to know about a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegmentInfo {
    pub(crate) base_offset: i64,
    pub(crate) size: u64,
    pub(crate) max_timestamp: i64,
}

/// Whether the active segment is due to roll by `segment.ms`: Kafka measures from the first batch's
/// timestamp (or the segment's creation when it has none) to the incoming batch's timestamp or now.
pub(crate) fn time_to_roll(
    rolling_base_ms: Option<i64>,
    created_ms: i64,
    incoming_max_ts: i64,
    now_ms: i64,
    segment_ms: i64,
) -> bool {
    match rolling_base_ms {
        Some(base) if base >= 0 => incoming_max_ts.max(0) - base > segment_ms,
        _ => now_ms - created_ms > segment_ms,
    }
}

/// The base offsets of the segments that retention deletes, oldest first. The last (active) segment is
/// never deleted. Only the `delete` policy deletes; by time, a segment goes once its largest timestamp
/// is older than `retention.ms`; by size, the oldest segments go while the log stays at or above
/// `retention.bytes` without them.
pub(crate) fn segments_to_delete(
    segments: &[SegmentInfo],
    config: &TopicConfig,
    now_ms: i64,
) -> Vec<i64> {
    if !config.cleanup_policy.delete || segments.len() < 2 {
        return Vec::new();
    }
    let closed = &segments[..segments.len() - 1];
    let mut doomed = Vec::new();
    if config.retention_ms >= 0 {
        for s in closed {
            if s.max_timestamp >= 0 && now_ms - s.max_timestamp > config.retention_ms {
                doomed.push(s.base_offset);
            } else {
                // Kafka stops at the first segment that is not expired.
                break;
            }
        }
    }
    if config.retention_bytes >= 0 {
        let mut total: u64 = segments.iter().map(|s| s.size).sum();
        let limit = config.retention_bytes as u64;
        for s in closed {
            if doomed.contains(&s.base_offset) {
                total -= s.size;
                continue;
            }
            if total - s.size >= limit && total > limit {
                doomed.push(s.base_offset);
                total -= s.size;
            } else {
                break;
            }
        }
    }
    doomed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(base: i64, size: u64, ts: i64) -> SegmentInfo {
        SegmentInfo { base_offset: base, size, max_timestamp: ts }
    }

    #[test]
    fn time_retention_deletes_only_expired_closed_segments() {
        let config = TopicConfig { retention_ms: 1000, ..TopicConfig::default() };
        let segs = [seg(0, 10, 100), seg(10, 10, 500), seg(20, 10, 5000), seg(30, 10, 100)];
        assert_eq!(segments_to_delete(&segs, &config, 2000), vec![0, 10]);
        // The active segment is never deleted, however old.
        assert_eq!(segments_to_delete(&[seg(0, 10, 0)], &config, 1_000_000), Vec::<i64>::new());
    }

    #[test]
    fn size_retention_keeps_the_log_under_the_limit() {
        let config =
            TopicConfig { retention_ms: -1, retention_bytes: 25, ..TopicConfig::default() };
        let segs = [seg(0, 10, 1), seg(10, 10, 1), seg(20, 10, 1), seg(30, 5, 1)];
        // 35 bytes; dropping the first leaves 25 (>= 25 is fine), dropping the second would leave 15.
        assert_eq!(segments_to_delete(&segs, &config, 0), vec![0]);
    }

    #[test]
    fn compact_only_topics_are_not_deleted() {
        let config = TopicConfig {
            cleanup_policy: crate::topic::CleanupPolicy { delete: false, compact: true },
            retention_ms: 1,
            ..TopicConfig::default()
        };
        let segs = [seg(0, 10, 1), seg(10, 10, 1)];
        assert!(segments_to_delete(&segs, &config, 1_000_000).is_empty());
    }

    #[test]
    fn roll_by_time_measures_from_the_first_batch() {
        assert!(time_to_roll(Some(1000), 0, 3001, 0, 2000));
        assert!(!time_to_roll(Some(1000), 0, 3000, 0, 2000));
        assert!(time_to_roll(None, 0, -1, 2001, 2000));
    }
}
