//! Background work: interval flushes, retention, compaction and checkpoints, on plain threads (the
//! work is blocking file I/O) that stop promptly when the broker closes.

use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use tracing::{debug, warn};

use crate::broker::{BrokerCore, Durability, now_ms};
use crate::log;

#[derive(Debug, Default)]
struct Stop {
    stopped: Mutex<bool>,
    cv: Condvar,
}

impl Stop {
    /// Sleeps up to `d`; returns true when asked to stop.
    fn sleep(&self, d: Duration) -> bool {
        let mut stopped = self.stopped.lock();
        if !*stopped {
            self.cv.wait_for(&mut stopped, d);
        }
        *stopped
    }
}

#[derive(Debug)]
pub(crate) struct Background {
    stop: Arc<Stop>,
    threads: Vec<JoinHandle<()>>,
}

impl Background {
    pub(crate) fn start(core: &Arc<BrokerCore>) -> std::io::Result<Self> {
        let mut bg = Self { stop: Arc::new(Stop::default()), threads: Vec::new() };
        if let Durability::Interval(every) = core.config.durability {
            let (weak, stop) = (Arc::downgrade(core), bg.stop.clone());
            bg.spawn("broker-flusher", move || flusher(weak, stop, every))?;
        }
        let (weak, st) = (Arc::downgrade(core), bg.stop.clone());
        let every = core.config.log_cleanup_interval;
        bg.spawn("broker-cleaner", move || cleaner(weak, st, every))?;
        let (weak, st) = (Arc::downgrade(core), bg.stop.clone());
        let every = core.config.checkpoint_interval;
        bg.spawn("broker-checkpoint", move || checkpointer(weak, st, every))?;
        Ok(bg)
    }

    /// Starts a named thread; if that fails, the threads already started are stopped.
    fn spawn(&mut self, name: &str, f: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
        match std::thread::Builder::new().name(name.to_string()).spawn(f) {
            Ok(h) => {
                self.threads.push(h);
                Ok(())
            }
            Err(e) => {
                *self.stop.stopped.lock() = true;
                self.stop.cv.notify_all();
                Err(e)
            }
        }
    }

    /// Asks the threads to stop, without waiting for them.
    pub(crate) fn halt(&self) {
        *self.stop.stopped.lock() = true;
        self.stop.cv.notify_all();
    }

    pub(crate) fn stop(self) {
        self.halt();
        for t in self.threads {
            let _ = t.join();
        }
    }
}

fn flusher(core: Weak<BrokerCore>, stop: Arc<Stop>, every: Duration) {
    while !stop.sleep(every) {
        let Some(core) = core.upgrade() else { return };
        for t in core.topics.read().values().cloned().collect::<Vec<_>>() {
            for p in t.partitions() {
                if let Err(e) = p.flush_all() {
                    warn!(topic = %p.topic, partition = p.index, error = %e, "interval flush failed");
                }
            }
        }
    }
}

fn cleaner(core: Weak<BrokerCore>, stop: Arc<Stop>, every: Duration) {
    while !stop.sleep(every) {
        let Some(core) = core.upgrade() else { return };
        run_cleanup(&core);
    }
}

/// One pass of retention and compaction over every partition.
pub(crate) fn run_cleanup(core: &BrokerCore) {
    let started = Instant::now();
    for t in core.topics.read().values().cloned().collect::<Vec<_>>() {
        for p in t.partitions() {
            let now = now_ms();
            if let Err(e) = p.log.lock().apply_retention(now) {
                warn!(topic = %p.topic, partition = p.index, error = %e, "retention failed");
            }
            if let Err(e) = log::compact(&p.log, now) {
                warn!(topic = %p.topic, partition = p.index, error = %e, "compaction failed");
            }
        }
    }
    debug!(elapsed_ms = started.elapsed().as_millis() as u64, "log cleanup pass done");
}

fn checkpointer(core: Weak<BrokerCore>, stop: Arc<Stop>, every: Duration) {
    while !stop.sleep(every) {
        let Some(core) = core.upgrade() else { return };
        if let Err(e) = core.write_checkpoints() {
            warn!(error = %e, "writing checkpoints failed");
        }
    }
}
