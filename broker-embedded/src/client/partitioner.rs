//! Kafka's default partitioning: murmur2 of the key for keyed records, a sticky partition for
//! records without a key.
//!
//! Keyed records go to `to_positive(murmur2(key)) % num_partitions`, exactly as Kafka's Java
//! client does, so a record lands on the same partition whichever client produced it. This is
//! what makes co-partitioning between topics (and Kafka Streams joins) work.
//!
//! Records without a key use the sticky strategy of KIP-480: all of them go to one partition
//! until the batch for it is complete, then a new partition is chosen at random. This fills
//! batches faster than round-robin.

use std::hash::{BuildHasher, RandomState};

const SEED: u32 = 0x9747_b28c;
const M: u32 = 0x5bd1_e995;
const R: u32 = 24;

/// The 32-bit murmur2 hash of `data`, bit for bit as Kafka's `Utils.murmur2` computes it
/// (seed `0x9747b28c`), returned as Java's signed `int`.
pub(crate) fn murmur2(data: &[u8]) -> i32 {
    // Java's `int` length; keys are far below 4 GiB.
    let mut h = SEED ^ (data.len() as u32);
    let mut chunks = data.chunks_exact(4);
    for chunk in chunks.by_ref() {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    // The tail: Kafka's switch falls through from case 3 to case 1, then multiplies once.
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &byte) in tail.iter().enumerate().rev() {
            h ^= u32::from(byte) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Clears the sign bit, as Kafka's `Utils.toPositive` does (not `abs`: `i32::MIN` maps to 0).
pub(crate) fn to_positive(i: i32) -> i32 {
    i & 0x7fff_ffff
}

/// The partition Kafka's default partitioner picks for a record with this key.
///
/// `num_partitions` is at least 1 for any existing topic; smaller values are treated as 1.
pub(crate) fn partition_for_key(key: &[u8], num_partitions: i32) -> i32 {
    to_positive(murmur2(key)) % num_partitions.max(1)
}

/// Chooses partitions for records without a key (KIP-480), for one topic.
///
/// [`partition`](Self::partition) keeps returning the same partition until
/// [`new_batch`](Self::new_batch) reports that the batch for it is complete; then another
/// partition is chosen at random, never the previous one when there is more than one.
#[derive(Debug, Clone)]
pub(crate) struct StickyPartitioner {
    current: Option<i32>,
    rng: SplitMix64,
}

impl StickyPartitioner {
    /// A partitioner seeded from the process's random hash keys.
    pub(crate) fn new() -> Self {
        Self::with_seed(RandomState::new().hash_one(0x5eed_u64))
    }

    /// A partitioner with a fixed seed, for reproducible tests.
    pub(crate) fn with_seed(seed: u64) -> Self {
        StickyPartitioner { current: None, rng: SplitMix64(seed) }
    }

    /// The partition for the next record without a key. Chooses one at random on first use or
    /// when the current one no longer exists (the partition count shrank).
    pub(crate) fn partition(&mut self, num_partitions: i32) -> i32 {
        let count = num_partitions.max(1);
        match self.current {
            Some(p) if p < count => p,
            _ => {
                let p = self.rng.below(count);
                self.current = Some(p);
                p
            }
        }
    }

    /// Reports that the batch for `completed_partition` is complete, and returns the partition
    /// for the records that follow.
    ///
    /// Switches only if `completed_partition` is the current sticky partition, so reports for
    /// batches of partitions already left behind change nothing (as in Kafka's
    /// `onNewBatch`). The new partition differs from the completed one when
    /// `num_partitions > 1`.
    pub(crate) fn new_batch(&mut self, completed_partition: i32, num_partitions: i32) -> i32 {
        let count = num_partitions.max(1);
        match self.current {
            Some(p) if p != completed_partition && p < count => p,
            _ => {
                let next = if count > 1 && (0..count).contains(&completed_partition) {
                    // Uniform over the other count - 1 partitions.
                    let r = self.rng.below(count - 1);
                    if r >= completed_partition { r + 1 } else { r }
                } else {
                    self.rng.below(count)
                };
                self.current = Some(next);
                next
            }
        }
    }

    /// The current sticky partition, if one has been chosen.
    #[cfg(test)]
    pub(crate) fn current(&self) -> Option<i32> {
        self.current
    }
}

impl Default for StickyPartitioner {
    fn default() -> Self {
        Self::new()
    }
}

/// A small, fast generator; partition choice needs spread, not unpredictability.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `0..bound`; `bound` must be positive.
    fn below(&mut self, bound: i32) -> i32 {
        let bound = u64::from(bound.max(1).unsigned_abs());
        // Multiply-shift maps 32 random bits onto 0..bound without a division.
        let r = ((self.next_u64() >> 32) * bound) >> 32;
        // r < bound <= i32::MAX, so the conversion cannot fail.
        i32::try_from(r).unwrap_or(0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may unwrap.
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The known answers of Kafka's `UtilsTest.testMurmur2`.
    #[test]
    fn murmur2_matches_kafka_known_answers() {
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
            (b"abc", 479_470_107),
        ];
        for (input, expected) in cases {
            assert_eq!(murmur2(input), expected, "murmur2({:?})", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn to_positive_clears_only_the_sign_bit() {
        assert_eq!(to_positive(-1), i32::MAX);
        assert_eq!(to_positive(i32::MIN), 0);
        assert_eq!(to_positive(5), 5);
        assert_eq!(to_positive(-790_332_482), 1_357_151_166);
    }

    #[test]
    fn partition_for_key_uses_the_positive_hash() {
        // to_positive(murmur2("foobar")) = 1357151166.
        assert_eq!(partition_for_key(b"foobar", 50), 1_357_151_166 % 50);
        assert_eq!(partition_for_key(b"foobar", 1), 0);
        assert_eq!(partition_for_key(b"foobar", 0), 0);
        assert_eq!(partition_for_key(b"foobar", -3), 0);
    }

    #[test]
    fn sticky_partition_stays_until_its_batch_completes() {
        let mut s = StickyPartitioner::with_seed(7);
        assert_eq!(s.current(), None);
        let first = s.partition(8);
        assert!((0..8).contains(&first));
        for _ in 0..100 {
            assert_eq!(s.partition(8), first);
        }
        let next = s.new_batch(first, 8);
        assert_ne!(next, first);
        assert_eq!(s.partition(8), next);
        assert_eq!(s.current(), Some(next));
    }

    #[test]
    fn completing_a_batch_of_another_partition_does_not_switch() {
        let mut s = StickyPartitioner::with_seed(1);
        let current = s.partition(4);
        let other = (current + 1) % 4;
        assert_eq!(s.new_batch(other, 4), current);
        assert_eq!(s.partition(4), current);
    }

    #[test]
    fn single_partition_always_zero() {
        let mut s = StickyPartitioner::with_seed(3);
        assert_eq!(s.partition(1), 0);
        assert_eq!(s.new_batch(0, 1), 0);
        assert_eq!(s.partition(1), 0);
    }

    #[test]
    fn shrinking_partition_count_rechooses() {
        let mut s = StickyPartitioner::with_seed(11);
        // Drive the sticky partition above 1, then shrink to two partitions.
        let mut p = s.partition(100);
        while p < 2 {
            p = s.new_batch(p, 100);
        }
        assert!(s.partition(2) < 2);
    }

    #[test]
    fn new_batches_spread_over_all_partitions() {
        let mut s = StickyPartitioner::with_seed(42);
        let mut seen = [0u32; 6];
        let mut p = s.partition(6);
        for _ in 0..6000 {
            let next = s.new_batch(p, 6);
            assert_ne!(next, p);
            seen[usize::try_from(next).unwrap()] += 1;
            p = next;
        }
        // Each partition gets about 1000 picks; a fair generator stays well within this.
        assert!(seen.iter().all(|&n| (700..1300).contains(&n)), "{seen:?}");
    }

    #[test]
    fn unseeded_partitioners_work() {
        let mut s = StickyPartitioner::default();
        assert!((0..3).contains(&s.partition(3)));
    }

    proptest! {
        #[test]
        fn keyed_partition_is_in_range(key in proptest::collection::vec(any::<u8>(), 0..64), n in 1..1000i32) {
            let p = partition_for_key(&key, n);
            prop_assert!((0..n).contains(&p));
            prop_assert_eq!(p, partition_for_key(&key, n));
        }

        #[test]
        fn sticky_partitions_are_in_range(seed in any::<u64>(), counts in proptest::collection::vec(1..50i32, 1..40)) {
            let mut s = StickyPartitioner::with_seed(seed);
            for n in counts {
                let p = s.partition(n);
                prop_assert!((0..n).contains(&p));
                let q = s.new_batch(p, n);
                prop_assert!((0..n).contains(&q));
                if n > 1 {
                    prop_assert_ne!(p, q);
                }
            }
        }
    }
}
