//! What the benchmark binaries share: arguments, time measurement, a Zipf sampler, and the
//! stateless pipeline that several benchmarks use as their baseline.

use std::time::{Duration, Instant};

use broker_embedded::{Broker, ProducerConfig};
use bytes::Bytes;
use streams_dsl::prelude::*;

/// What a benchmark step returns.
pub type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

/// Lets the machine settle before a timed phase: writes every dirty page to disk (so the page
/// cache writeback of the previous phase's output does not compete with the next one for the
/// CPU and the disk) and waits a moment.
pub fn settle() {
    if let Err(e) = std::process::Command::new("sync").status() {
        eprintln!("  (could not run sync: {e})");
    }
    std::thread::sleep(Duration::from_millis(500));
}

/// Keeps glibc's allocator from handing freed memory back to the kernel while a benchmark runs
/// (a trim threshold of 512 MiB, and blocks up to 32 MiB from the heap rather than from their own
/// maps), so that a phase allocating and freeing the same large blocks over and over (a plain
/// consumer's vector of records, 1000 per poll) reuses them instead of faulting fresh pages in
/// each time. With glibc's defaults that refaulting slowed the plain-client phases of the
/// stateless pipeline bench by up to about a third in the slow phases of the machine it was
/// measured on; a baseline is meant to be the raw cost of the work, not of the allocator's
/// choices. Call it first thing in `main`; does nothing with other C libraries.
pub fn steady_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes two of the allocator's tuning thresholds, under the
        // allocator's own lock; no memory is read or written through it.
        #[allow(unsafe_code)]
        let set = unsafe {
            libc::mallopt(libc::M_TRIM_THRESHOLD, 512 << 20) == 1
                && libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20) == 1
        };
        if !set {
            eprintln!("  (could not set the allocator's thresholds)");
        }
    }
}

/// `/proc` ticks per second on Linux.
const USER_HZ: f64 = 100.0;

/// CPU time (user + system, all threads) this process has used so far, from `/proc/self/stat`;
/// NaN where that file is unreadable.
pub fn cpu_time() -> f64 {
    stat_cpu(std::path::Path::new("/proc/self/stat")).map_or(f64::NAN, |(_, cpu)| cpu)
}

/// The command name and CPU seconds (user + system) of a `/proc/.../stat` file.
fn stat_cpu(path: &std::path::Path) -> Option<(String, f64)> {
    let stat = std::fs::read_to_string(path).ok()?;
    let name = stat.split_once('(').and_then(|(_, r)| r.rsplit_once(')')).map(|(n, _)| n)?;
    // The command name (field 2) may hold spaces; utime and stime are the 12th and 13th fields
    // after its closing parenthesis.
    let rest = stat.rsplit_once(')').map(|(_, r)| r)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    Some((name.to_string(), (ticks(11) + ticks(12)) as f64 / USER_HZ))
}

/// CPU seconds of each live thread of this process, by thread id, with the thread's name.
fn threads_cpu() -> std::collections::BTreeMap<u64, (String, f64)> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Default::default();
    };
    tasks
        .flatten()
        .filter_map(|t| {
            let tid = t.file_name().to_str()?.parse().ok()?;
            Some((tid, stat_cpu(&t.path().join("stat"))?))
        })
        .collect()
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
    threads: std::collections::BTreeMap<u64, (String, f64)>,
}

impl Stopwatch {
    /// Starts now.
    pub fn start() -> Self {
        let threads = threads_cpu();
        Self { wall: Instant::now(), cpu: cpu_time(), threads }
    }

    /// The time since the start.
    pub fn sample(&self) -> Sample {
        Sample { secs: self.wall.elapsed().as_secs_f64(), cpu_secs: cpu_time() - self.cpu }
    }

    /// The CPU seconds each thread used since the start (threads of one name summed, the busiest
    /// first), as `name seconds, ...`: which thread a phase's time went to. Threads that ended
    /// in between are not counted.
    pub fn threads(&self) -> String {
        let mut by_name = std::collections::BTreeMap::<String, f64>::new();
        for (tid, (name, cpu)) in threads_cpu() {
            let before = self.threads.get(&tid).map_or(0.0, |(_, c)| *c);
            *by_name.entry(name).or_default() += cpu - before;
        }
        let mut busy: Vec<(String, f64)> = by_name.into_iter().filter(|(_, c)| *c > 0.0).collect();
        busy.sort_by(|a, b| b.1.total_cmp(&a.1));
        busy.iter().map(|(n, c)| format!("{n} {c:.2}")).collect::<Vec<_>>().join(", ")
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

/// Medians of several samples of a phase that handled `records` records.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// Median wall-clock seconds.
    pub secs: f64,
    /// Median CPU seconds (whole process).
    pub cpu_secs: f64,
    /// Records per wall-clock second (at the median time).
    pub rate: f64,
    /// Records per CPU second (at the median CPU time).
    pub per_cpu: f64,
}

impl Summary {
    /// The medians of `samples`, each of which handled `records` records.
    pub fn of(samples: &[Sample], records: usize) -> Self {
        let secs = median(samples.iter().map(|s| s.secs).collect());
        let cpu_secs = median(samples.iter().map(|s| s.cpu_secs).collect());
        let n = records as f64;
        Self { secs, cpu_secs, rate: n / secs, per_cpu: n / cpu_secs }
    }
}

/// Ranks `0..n` drawn with probability proportional to `1 / (rank + 1)^exponent` (a Zipf
/// distribution: rank 0 is the most frequent), by inverting the cumulative distribution, which is
/// exact for a finite `n`. Feed [`rank`](Self::rank) uniform numbers in `[0, 1)`.
///
/// ```
/// use integration_tests::bench::Zipf;
///
/// let zipf = Zipf::new(3, 1.0).unwrap();
/// // Weights 1, 1/2, 1/3: rank 0 covers 6/11 of the unit interval, rank 1 3/11, rank 2 2/11.
/// assert_eq!(zipf.rank(0.0), 0);
/// assert_eq!(zipf.rank(0.54), 0);
/// assert_eq!(zipf.rank(0.55), 1);
/// assert_eq!(zipf.rank(0.99), 2);
/// assert!((zipf.probability(0) - 6.0 / 11.0).abs() < 1e-12);
/// ```
#[derive(Debug, Clone)]
pub struct Zipf {
    /// `cdf[i]`: the probability of a rank `<= i`; the last entry is exactly 1.
    cdf: Vec<f64>,
}

impl Zipf {
    /// The distribution over `n` ranks; `n` must be at least 1 and `exponent` finite and
    /// non-negative.
    pub fn new(n: usize, exponent: f64) -> Result<Self, String> {
        if n == 0 {
            return Err("a Zipf distribution needs at least one rank".into());
        }
        if !exponent.is_finite() || exponent < 0.0 {
            return Err(format!("Zipf exponent {exponent} must be finite and >= 0"));
        }
        let mut cdf = Vec::with_capacity(n);
        let mut sum = 0.0;
        for k in 1..=n {
            sum += (k as f64).powf(-exponent);
            cdf.push(sum);
        }
        for c in &mut cdf {
            *c /= sum;
        }
        if let Some(last) = cdf.last_mut() {
            *last = 1.0;
        }
        Ok(Self { cdf })
    }

    /// The rank for the uniform number `u` in `[0, 1)`: the first rank whose cumulative
    /// probability exceeds `u`.
    pub fn rank(&self, u: f64) -> usize {
        self.cdf.partition_point(|&c| c <= u).min(self.cdf.len() - 1)
    }

    /// The probability of `rank`.
    pub fn probability(&self, rank: usize) -> f64 {
        match rank {
            0 => self.cdf[0],
            r if r < self.cdf.len() => self.cdf[r] - self.cdf[r - 1],
            _ => 0.0,
        }
    }
}

/// The producer settings of the benchmarks' loaders and baselines: 256 KiB batches, 5 ms linger.
pub fn producer_config() -> ProducerConfig {
    ProducerConfig::default().batch_size(256 << 10).linger(Duration::from_millis(5))
}

/// The sum of a topic's partitions' high watermarks.
pub fn high_watermark(broker: &Broker, topic: &str) -> BenchResult<i64> {
    Ok(broker.admin().describe_topic(topic)?.partitions.iter().map(|p| p.high_watermark).sum())
}

/// The stateless pipeline: a `KafkaStreams` application with `threads` stream threads reads
/// `input` (byte keys and values), maps each value (drops its first byte), filters (keeps
/// non-empty values) and writes the records to `out`, which must exist. Timed from `start()` until
/// `out` holds `records` records; then the application is closed (not timed).
pub async fn stateless_pipeline(
    broker: &Broker,
    input: &str,
    records: usize,
    out: &str,
    app_id: &str,
    threads: usize,
    max_poll: usize,
) -> BenchResult<Sample> {
    let builder = StreamsBuilder::new();
    builder
        .stream_with::<Bytes, Bytes>(&[input], Consumed::with(Serdes::bytes(), Serdes::bytes()))
        .map_values(|v: Bytes| v.slice(1..))
        .filter(|_, v| !v.is_empty())
        .to_with(out, Produced::with(Serdes::bytes(), Serdes::bytes()));
    let dir = tempfile::tempdir()?;
    let mut config = StreamsConfig::new(app_id).num_stream_threads(threads).state_dir(dir.path());
    config.max_poll_records = max_poll;
    let app = KafkaStreams::new(builder.build()?, config, broker)?;
    let clock = Stopwatch::start();
    app.start()?;
    while (high_watermark(broker, out)? as usize) < records {
        if app.state() == State::Error {
            return Err(format!("the application failed: {:?}", app.failure()).into());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let sample = clock.sample();
    eprintln!("  CPU s by thread: {}", clock.threads());
    let closed = tokio::task::spawn_blocking(move || app.close(Duration::from_secs(60))).await?;
    if !closed {
        return Err("the application did not close in time".into());
    }
    Ok(sample)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With evenly spaced uniform numbers, each rank gets its probability's share of them, to
    /// within one.
    #[test]
    fn zipf_ranks_follow_their_probabilities() {
        let (n, draws) = (50, 200_000);
        for exponent in [0.0, 0.5, 1.0, 1.3] {
            let zipf = Zipf::new(n, exponent).unwrap();
            let harmonic: f64 = (1..=n).map(|k| (k as f64).powf(-exponent)).sum();
            let mut counts = vec![0usize; n];
            for i in 0..draws {
                counts[zipf.rank((i as f64 + 0.5) / draws as f64)] += 1;
            }
            for (rank, &count) in counts.iter().enumerate() {
                let p = ((rank + 1) as f64).powf(-exponent) / harmonic;
                assert!((zipf.probability(rank) - p).abs() < 1e-12);
                let expected = p * draws as f64;
                assert!(
                    (count as f64 - expected).abs() <= 1.0,
                    "exponent {exponent}, rank {rank}: {count} draws, expected {expected:.1}"
                );
            }
        }
    }

    #[test]
    fn zipf_rank_stays_in_range_and_rejects_bad_parameters() {
        let zipf = Zipf::new(10, 1.0).unwrap();
        assert_eq!(zipf.rank(0.0), 0);
        assert_eq!(zipf.rank(1.0 - f64::EPSILON), 9);
        assert_eq!(zipf.rank(1.0), 9);
        assert_eq!(zipf.probability(10), 0.0);
        assert!(Zipf::new(0, 1.0).is_err());
        assert!(Zipf::new(5, -1.0).is_err());
        assert!(Zipf::new(5, f64::NAN).is_err());
    }
}
