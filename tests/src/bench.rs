//! What the benchmark binaries share: arguments and time measurement.

use std::time::Instant;

/// `/proc` ticks per second on Linux.
const USER_HZ: f64 = 100.0;

/// CPU time (user + system, all threads) this process has used so far, from `/proc/self/stat`;
/// NaN where that file is unreadable.
pub fn cpu_time() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // The command name (field 2) may hold spaces; utime and stime are the 12th and 13th fields
    // after its closing parenthesis.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return f64::NAN;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) + ticks(12)) as f64 / USER_HZ
}

/// Wall-clock and CPU time of one measured phase.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Wall-clock seconds.
    pub secs: f64,
    /// CPU seconds of the whole process.
    pub cpu_secs: f64,
}

/// Starts measuring a phase.
#[derive(Debug)]
pub struct Stopwatch {
    wall: Instant,
    cpu: f64,
}

impl Stopwatch {
    /// Starts now.
    pub fn start() -> Self {
        Self { wall: Instant::now(), cpu: cpu_time() }
    }

    /// The time since the start.
    pub fn sample(&self) -> Sample {
        Sample { secs: self.wall.elapsed().as_secs_f64(), cpu_secs: cpu_time() - self.cpu }
    }
}

/// The value after `--name` on the command line, parsed, or `default`.
pub fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    let argv: Vec<String> = std::env::args().collect();
    argv.iter()
        .position(|a| a == name)
        .and_then(|i| argv.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// True when run by `cargo bench` (which passes `--bench`), false under `cargo test`'s quick
/// smoke run of bench targets.
pub fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// The median of some numbers (NaN for none).
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}
