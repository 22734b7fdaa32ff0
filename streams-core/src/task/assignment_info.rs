//! What the stream threads' group members tell the assignor, and what it tells them back
//! (Kafka Streams' `SubscriptionInfo` and `AssignmentInfo`), as bytes in the consumer protocol's
//! `user_data`. Sans-I/O: plain encode and decode; decoding never panics on bad bytes.
//!
//! Layout (all integers big-endian):
//!
//! ```text
//! SubscriptionInfo: version u8 (=1) | process_id str | endpoint opt-str
//!                   | n u32 | n × (task | offset sum i64)
//! AssignmentInfo:   version u8 (=1) | standby: n u32 | n × task
//!                   | hosts: n u32 | n × (endpoint str | active: tasks | standby: tasks)
//! str: len u16 | UTF-8 bytes;  opt-str: 0u8 | 1u8 str;  task: subtopology u32 | partition i32
//! ```

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::task::TaskId;

const VERSION: u8 = 1;

/// A member's subscription data: which instance it belongs to, where that instance answers
/// queries, and the tasks whose state the instance holds on disk (with the sum of their
/// checkpointed changelog offsets: the larger, the more caught up).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct SubscriptionInfo {
    pub(crate) process_id: String,
    pub(crate) endpoint: Option<String>,
    pub(crate) task_offset_sums: Vec<(TaskId, i64)>,
}

/// One instance's tasks, as every member learns them (for query metadata).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct HostTasks {
    pub(crate) endpoint: String,
    pub(crate) active: Vec<TaskId>,
    pub(crate) standby: Vec<TaskId>,
}

/// A member's assignment data: its standby tasks, and every instance's tasks by endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct AssignmentInfo {
    pub(crate) standby: Vec<TaskId>,
    pub(crate) hosts: Vec<HostTasks>,
}

/// Why bytes are not a valid info.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum InfoError {
    #[error("truncated at byte {0}")]
    Truncated(usize),
    #[error("unsupported version {0}")]
    Version(u8),
    #[error("a string is not UTF-8")]
    Utf8,
    #[error("{0} trailing bytes")]
    Trailing(usize),
}

fn put_str(out: &mut BytesMut, s: &str) {
    // Strings longer than u16::MAX are cut at a character boundary (process ids and host:port
    // endpoints are far shorter).
    let mut end = s.len().min(u16::MAX as usize);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    out.put_u16(end as u16);
    out.put_slice(&s.as_bytes()[..end]);
}

fn put_tasks(out: &mut BytesMut, tasks: &[TaskId]) {
    out.put_u32(tasks.len() as u32);
    for t in tasks {
        out.put_u32(t.subtopology);
        out.put_i32(t.partition);
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    total: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf, total: buf.len() }
    }

    fn need(&self, n: usize) -> Result<(), InfoError> {
        if self.buf.remaining() < n {
            Err(InfoError::Truncated(self.total - self.buf.remaining()))
        } else {
            Ok(())
        }
    }

    fn u8(&mut self) -> Result<u8, InfoError> {
        self.need(1)?;
        Ok(self.buf.get_u8())
    }

    fn u32(&mut self) -> Result<u32, InfoError> {
        self.need(4)?;
        Ok(self.buf.get_u32())
    }

    fn i64(&mut self) -> Result<i64, InfoError> {
        self.need(8)?;
        Ok(self.buf.get_i64())
    }

    fn str(&mut self) -> Result<String, InfoError> {
        self.need(2)?;
        let n = self.buf.get_u16() as usize;
        self.need(n)?;
        let s = std::str::from_utf8(&self.buf[..n]).map_err(|_| InfoError::Utf8)?.to_owned();
        self.buf.advance(n);
        Ok(s)
    }

    fn task(&mut self) -> Result<TaskId, InfoError> {
        self.need(8)?;
        Ok(TaskId::new(self.buf.get_u32(), self.buf.get_i32()))
    }

    /// A count of items each at least `min_size` bytes long, checked against what is left so a
    /// forged count cannot make the decoder allocate more than the input.
    fn count(&mut self, min_size: usize) -> Result<usize, InfoError> {
        let n = self.u32()? as usize;
        self.need(n.saturating_mul(min_size))?;
        Ok(n)
    }

    fn tasks(&mut self) -> Result<Vec<TaskId>, InfoError> {
        let n = self.count(8)?;
        (0..n).map(|_| self.task()).collect()
    }

    fn version(&mut self) -> Result<(), InfoError> {
        match self.u8()? {
            VERSION => Ok(()),
            v => Err(InfoError::Version(v)),
        }
    }

    fn end(&self) -> Result<(), InfoError> {
        match self.buf.remaining() {
            0 => Ok(()),
            n => Err(InfoError::Trailing(n)),
        }
    }
}

impl SubscriptionInfo {
    pub(crate) fn encode(&self) -> Bytes {
        let mut out = BytesMut::new();
        out.put_u8(VERSION);
        put_str(&mut out, &self.process_id);
        match &self.endpoint {
            Some(e) => {
                out.put_u8(1);
                put_str(&mut out, e);
            }
            None => out.put_u8(0),
        }
        out.put_u32(self.task_offset_sums.len() as u32);
        for (t, sum) in &self.task_offset_sums {
            out.put_u32(t.subtopology);
            out.put_i32(t.partition);
            out.put_i64(*sum);
        }
        out.freeze()
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, InfoError> {
        let mut r = Reader::new(bytes);
        r.version()?;
        let process_id = r.str()?;
        let endpoint = match r.u8()? {
            0 => None,
            _ => Some(r.str()?),
        };
        let n = r.count(16)?;
        let task_offset_sums =
            (0..n).map(|_| Ok((r.task()?, r.i64()?))).collect::<Result<_, _>>()?;
        r.end()?;
        Ok(Self { process_id, endpoint, task_offset_sums })
    }
}

impl AssignmentInfo {
    pub(crate) fn encode(&self) -> Bytes {
        let mut out = BytesMut::new();
        out.put_u8(VERSION);
        put_tasks(&mut out, &self.standby);
        out.put_u32(self.hosts.len() as u32);
        for h in &self.hosts {
            put_str(&mut out, &h.endpoint);
            put_tasks(&mut out, &h.active);
            put_tasks(&mut out, &h.standby);
        }
        out.freeze()
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, InfoError> {
        let mut r = Reader::new(bytes);
        r.version()?;
        let standby = r.tasks()?;
        let n = r.count(10)?;
        let hosts = (0..n)
            .map(|_| Ok(HostTasks { endpoint: r.str()?, active: r.tasks()?, standby: r.tasks()? }))
            .collect::<Result<_, _>>()?;
        r.end()?;
        Ok(Self { standby, hosts })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn task() -> impl Strategy<Value = TaskId> {
        (any::<u32>(), any::<i32>()).prop_map(|(s, p)| TaskId::new(s, p))
    }

    proptest! {
        #[test]
        fn subscription_info_round_trips(
            process_id in ".{0,40}",
            endpoint in proptest::option::of("[a-z0-9.]{1,20}:[0-9]{1,5}"),
            sums in proptest::collection::vec((task(), any::<i64>()), 0..20),
        ) {
            let info = SubscriptionInfo { process_id, endpoint, task_offset_sums: sums };
            prop_assert_eq!(SubscriptionInfo::decode(&info.encode()), Ok(info));
        }

        #[test]
        fn assignment_info_round_trips(
            standby in proptest::collection::vec(task(), 0..20),
            hosts in proptest::collection::vec(
                ("[a-z]{1,10}:[0-9]{1,5}", proptest::collection::vec(task(), 0..8),
                 proptest::collection::vec(task(), 0..8)),
                0..5,
            ),
        ) {
            let hosts = hosts
                .into_iter()
                .map(|(endpoint, active, standby)| HostTasks { endpoint, active, standby })
                .collect();
            let info = AssignmentInfo { standby, hosts };
            prop_assert_eq!(AssignmentInfo::decode(&info.encode()), Ok(info));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = SubscriptionInfo::decode(&bytes);
            let _ = AssignmentInfo::decode(&bytes);
        }

        #[test]
        fn every_truncation_is_an_error(cut in 0usize..1000) {
            let info = AssignmentInfo {
                standby: vec![TaskId::new(0, 1)],
                hosts: vec![HostTasks {
                    endpoint: "a:1".into(),
                    active: vec![TaskId::new(1, 2)],
                    standby: vec![],
                }],
            };
            let bytes = info.encode();
            let cut = cut % bytes.len();
            prop_assert!(AssignmentInfo::decode(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn forged_counts_do_not_allocate_beyond_the_input() {
        let mut b = BytesMut::new();
        b.put_u8(VERSION);
        b.put_u32(u32::MAX);
        assert_eq!(AssignmentInfo::decode(&b), Err(InfoError::Truncated(5)));
        assert_eq!(AssignmentInfo::decode(&[9]), Err(InfoError::Version(9)));
    }
}
