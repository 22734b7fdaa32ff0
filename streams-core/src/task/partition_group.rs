//! A task's input buffers: one queue per partition, drained in timestamp order.

use std::sync::Arc;

use super::record_queue::RecordQueue;
#[cfg(test)]
use crate::time::RawRecord;

#[derive(Debug)]
pub(crate) struct PartitionQueue {
    pub(crate) topic: Arc<str>,
    pub(crate) partition: i32,
    /// The task's source slot for this partition's topic, once known.
    pub(crate) source: Option<usize>,
    pub(crate) records: RecordQueue,
    /// The largest timestamp extracted in this partition so far (`-1` before the first).
    pub(crate) partition_time: i64,
    /// Wall-clock time since which the queue has been empty.
    empty_since: Option<i64>,
}

/// The choice of the next record to process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Process the head of this queue.
    Queue(usize),
    /// Records are buffered, but a partition is empty and the task is still waiting for it.
    Wait,
    /// Nothing is buffered.
    Empty,
}

#[derive(Debug, Default)]
pub(crate) struct PartitionGroup {
    pub(crate) queues: Vec<PartitionQueue>,
}

impl PartitionGroup {
    pub(crate) fn add_partition(&mut self, topic: Arc<str>, partition: i32) -> usize {
        if let Some(i) = self.index(&topic, partition) {
            return i;
        }
        self.queues.push(PartitionQueue {
            topic,
            partition,
            source: None,
            records: RecordQueue::default(),
            partition_time: -1,
            empty_since: None,
        });
        self.queues.len() - 1
    }

    pub(crate) fn index(&self, topic: &Arc<str>, partition: i32) -> Option<usize> {
        self.queues.iter().position(|q| {
            q.partition == partition && (Arc::ptr_eq(&q.topic, topic) || *q.topic == **topic)
        })
    }

    pub(crate) fn buffered(&self) -> usize {
        self.queues.iter().map(|q| q.records.len()).sum()
    }

    /// Picks the partition whose head has the smallest timestamp. While another partition is
    /// empty, waits up to `max_idle_ms` of wall-clock time for it (negative: never waits);
    /// `force` processes what is there regardless.
    pub(crate) fn next(&mut self, now: i64, max_idle_ms: i64, force: bool) -> Next {
        let mut best: Option<(i64, usize)> = None;
        let mut waiting = false;
        for (i, q) in self.queues.iter_mut().enumerate() {
            match q.records.front_timestamp() {
                Some(ts) => {
                    q.empty_since = None;
                    if best.is_none_or(|(b, _)| ts < b) {
                        best = Some((ts, i));
                    }
                }
                None => {
                    let since = *q.empty_since.get_or_insert(now);
                    if max_idle_ms > 0 && now - since < max_idle_ms {
                        waiting = true;
                    }
                }
            }
        }
        match best {
            None => Next::Empty,
            Some(_) if waiting && !force => Next::Wait,
            Some((_, i)) => Next::Queue(i),
        }
    }

    /// How many records at the head of queue `q` go, one after another, before any other
    /// queue's head: those whose timestamp is smaller than every other head's (or equal to it
    /// when `q` comes first, as [`next`](Self::next) breaks ties by position). While the other
    /// queues do not change, `next` would pick `q` for each of them in turn.
    pub(crate) fn run_length(&self, q: usize) -> usize {
        let mut bound: Option<(i64, usize)> = None;
        for (i, other) in self.queues.iter().enumerate() {
            if i == q {
                continue;
            }
            if let Some(ts) = other.records.front_timestamp() {
                if bound.is_none_or(|(b, _)| ts < b) {
                    bound = Some((ts, i));
                }
            }
        }
        let records = &self.queues[q].records;
        match bound {
            None => records.len(),
            Some((b, j)) => {
                records.timestamps().take_while(|&ts| ts < b || (ts == b && q < j)).count()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(topic: &str, partition: i32, offset: i64) -> RawRecord {
        RawRecord {
            topic: Arc::from(topic),
            partition,
            offset,
            timestamp: 0,
            key: None,
            value: None,
            headers: Vec::new(),
        }
    }

    #[test]
    fn the_smallest_head_timestamp_goes_first() {
        let mut g = PartitionGroup::default();
        let a = g.add_partition(Arc::from("a"), 0);
        let b = g.add_partition(Arc::from("b"), 0);
        g.queues[a].records.push(raw("a", 0, 0), 20);
        g.queues[b].records.push(raw("b", 0, 0), 10);
        assert_eq!(g.next(0, 0, false), Next::Queue(b));
        g.queues[b].records.retire(1, |_, _| {});
        g.queues[b].records.push(raw("b", 0, 1), 30);
        assert_eq!(g.next(0, 0, false), Next::Queue(a));
    }

    #[test]
    fn an_empty_partition_is_waited_for_up_to_max_idle() {
        let mut g = PartitionGroup::default();
        let a = g.add_partition(Arc::from("a"), 0);
        g.add_partition(Arc::from("b"), 0);
        g.queues[a].records.push(raw("a", 0, 0), 5);
        assert_eq!(g.next(1_000, 100, false), Next::Wait);
        assert_eq!(g.next(1_050, 100, false), Next::Wait);
        assert_eq!(g.next(1_050, 100, true), Next::Queue(a));
        assert_eq!(g.next(1_100, 100, false), Next::Queue(a));
        // Zero and negative idle times never wait.
        let mut g2 = PartitionGroup::default();
        let a = g2.add_partition(Arc::from("a"), 0);
        g2.add_partition(Arc::from("b"), 0);
        g2.queues[a].records.push(raw("a", 0, 0), 5);
        assert_eq!(g2.next(0, 0, false), Next::Queue(a));
        assert_eq!(g2.next(0, -1, false), Next::Queue(a));
    }

    /// A run is what `next` would pick one record at a time while nothing else arrives.
    #[test]
    fn a_run_is_what_next_would_pick_in_turn() {
        let mut g = PartitionGroup::default();
        let a = g.add_partition(Arc::from("a"), 0);
        let b = g.add_partition(Arc::from("b"), 0);
        for (o, ts) in [5, 7, 10, 12, 3].into_iter().enumerate() {
            g.queues[a].records.push(raw("a", 0, o as i64), ts);
        }
        g.queues[b].records.push(raw("b", 0, 0), 10);
        // 5 and 7 go before b's 10; a's 10 ties with it and `a` comes first; 12 does not.
        assert_eq!(g.run_length(a), 3);
        assert_eq!(g.run_length(b), 0);
        // With `b` first, a tie goes to `b`.
        let mut h = PartitionGroup::default();
        let b2 = h.add_partition(Arc::from("b"), 0);
        let a2 = h.add_partition(Arc::from("a"), 0);
        h.queues[b2].records.push(raw("b", 0, 0), 10);
        for (o, ts) in [5, 10].into_iter().enumerate() {
            h.queues[a2].records.push(raw("a", 0, o as i64), ts);
        }
        assert_eq!(h.run_length(a2), 1);
        // Alone, a queue's whole content is one run, whatever its timestamps.
        let mut one = PartitionGroup::default();
        let c = one.add_partition(Arc::from("c"), 0);
        for o in 0..4 {
            one.queues[c].records.push(raw("c", 0, o), 100 - o);
        }
        assert_eq!(one.run_length(c), 4);
        // And `next` agrees, record by record.
        let mut n = 0;
        while g.next(0, 0, false) == Next::Queue(a) {
            g.queues[a].records.retire(1, |_, _| {});
            n += 1;
        }
        assert_eq!(n, 3);
    }

    #[test]
    fn nothing_buffered_is_empty() {
        let mut g = PartitionGroup::default();
        g.add_partition(Arc::from("a"), 0);
        assert_eq!(g.next(0, 100, false), Next::Empty);
    }
}
