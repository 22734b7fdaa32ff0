//! One thread for hints to the operating system that nobody waits for: mapping the pages of
//! mapped segments ahead of their readers, and starting the writeback of appended bytes.

use std::sync::OnceLock;
use std::sync::mpsc::{SyncSender, sync_channel};

type Job = Box<dyn FnOnce() + Send>;

/// Runs `job` on the background thread (started on first use). Returns `false`, and drops the job,
/// when the thread's queue is full or the thread cannot be started: every job is a hint whose work
/// happens anyway when it is needed (a page fault, an fsync).
pub(crate) fn background(job: impl FnOnce() + Send + 'static) -> bool {
    static QUEUE: OnceLock<Option<SyncSender<Job>>> = OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        let (tx, rx) = sync_channel::<Job>(64);
        let spawned = std::thread::Builder::new().name("broker-io-hints".into()).spawn(move || {
            // Runs for the life of the process; a job holds what it needs (a map, a file) only
            // until it has run.
            for job in rx {
                job();
            }
        });
        match spawned {
            Ok(_) => Some(tx),
            Err(e) => {
                tracing::debug!(error = %e, "cannot start the I/O hints thread; hints are dropped");
                None
            }
        }
    });
    queue.as_ref().is_some_and(|tx| tx.try_send(Box::new(job)).is_ok())
}
