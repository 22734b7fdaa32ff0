//! Application settings, named after Kafka Streams' configs.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::handlers::{ErrorHandler, LogAndFail};
use crate::serde::{Serde, SerdeRegistry};
use crate::time::{FailOnInvalidTimestamp, TimestampExtractor};

/// `processing.guarantee`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ProcessingGuarantee {
    /// Every input record is processed at least once; after a crash, records since the last commit
    /// are processed again.
    #[default]
    AtLeastOnce,
    /// Exactly-once v2 (transactions). Not available yet: starting an application with it fails
    /// with a configuration error rather than silently giving weaker guarantees.
    ExactlyOnceV2,
}

/// Settings of a streams application (Kafka's `StreamsConfig`).
#[derive(Clone)]
pub struct StreamsConfig {
    /// `application.id`: names the consumer group, internal topics and the state directory.
    pub application_id: String,
    /// `num.stream.threads`. Default 1.
    pub num_stream_threads: usize,
    /// `commit.interval.ms`. Default 30 s (100 ms under exactly-once, as in Kafka).
    pub commit_interval: Duration,
    /// `processing.guarantee`. Default at-least-once.
    pub processing_guarantee: ProcessingGuarantee,
    /// Default serdes by type (`default.key.serde` / `default.value.serde`).
    pub serdes: SerdeRegistry,
    /// `state.dir`. Default `<temp dir>/kafka-streams`.
    pub state_dir: PathBuf,
    /// `default.timestamp.extractor`. Default: the record's timestamp, failing on negative ones.
    pub default_timestamp_extractor: Arc<dyn TimestampExtractor>,
    /// `max.task.idle.ms`: how long a task with an empty input partition waits for it before
    /// processing its other partitions out of timestamp order. Default 0 (do not wait); negative:
    /// never wait. Unlike Kafka Streams since 3.0, 0 does not wait either for records the broker
    /// is known to hold for the empty partition but the thread has not fetched yet (Kafka's
    /// "fetched lag" check): set a small positive value to have a task wait for them.
    pub max_task_idle_ms: i64,
    /// `statestore.cache.max.bytes`: the record-cache bytes of the whole instance, split evenly over
    /// its stream threads; the caching stores of one thread share its part. Default 10 MiB; 0
    /// turns caching off (every update is forwarded and logged).
    pub statestore_cache_max_bytes: usize,
    /// `deserialization.exception.handler`. Default: fail.
    pub deserialization_error_handler: Arc<dyn ErrorHandler>,
    /// `processing.exception.handler`. Default: fail.
    pub processing_error_handler: Arc<dyn ErrorHandler>,
    /// `production.exception.handler`. Default: fail.
    pub production_error_handler: Arc<dyn ErrorHandler>,
    /// `poll.ms`: how long a thread waits for records when it has nothing to do. Default 100 ms.
    pub poll_interval: Duration,
    /// `max.poll.records`. Default 1000.
    pub max_poll_records: usize,
    /// `num.standby.replicas`: how many warm copies of each task's stores other instances keep
    /// from the changelog, so that a failover does not restore from scratch. Default 0.
    pub num_standby_replicas: usize,
    /// `application.server`: the `host:port` where this instance answers interactive queries,
    /// shared with the other instances through the group so that any of them can tell which
    /// instance hosts a key. Default: none.
    pub application_server: Option<String>,
    /// `session.timeout.ms` of the threads' group membership: an instance that stops polling for
    /// this long is presumed dead and its tasks move. Default 10 s (Kafka's consumer default is
    /// 45 s; an embedded application fails over sooner).
    pub session_timeout: Duration,
}

impl std::fmt::Debug for StreamsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamsConfig")
            .field("application_id", &self.application_id)
            .field("num_stream_threads", &self.num_stream_threads)
            .field("commit_interval", &self.commit_interval)
            .field("processing_guarantee", &self.processing_guarantee)
            .field("state_dir", &self.state_dir)
            .field("max_task_idle_ms", &self.max_task_idle_ms)
            .finish_non_exhaustive()
    }
}

impl StreamsConfig {
    /// Defaults for the application `application_id`.
    pub fn new(application_id: impl Into<String>) -> Self {
        Self {
            application_id: application_id.into(),
            num_stream_threads: 1,
            commit_interval: Duration::from_secs(30),
            processing_guarantee: ProcessingGuarantee::AtLeastOnce,
            serdes: SerdeRegistry::default(),
            state_dir: std::env::temp_dir().join("kafka-streams"),
            default_timestamp_extractor: Arc::new(FailOnInvalidTimestamp),
            max_task_idle_ms: 0,
            statestore_cache_max_bytes: 10 << 20,
            deserialization_error_handler: Arc::new(LogAndFail),
            processing_error_handler: Arc::new(LogAndFail),
            production_error_handler: Arc::new(LogAndFail),
            poll_interval: Duration::from_millis(100),
            max_poll_records: 1000,
            num_standby_replicas: 0,
            application_server: None,
            session_timeout: Duration::from_secs(10),
        }
    }

    /// Sets `num.stream.threads`.
    pub fn num_stream_threads(mut self, n: usize) -> Self {
        self.num_stream_threads = n;
        self
    }

    /// Sets `commit.interval.ms`.
    pub fn commit_interval(mut self, interval: Duration) -> Self {
        self.commit_interval = interval;
        self
    }

    /// Sets `processing.guarantee`.
    pub fn processing_guarantee(mut self, guarantee: ProcessingGuarantee) -> Self {
        if guarantee == ProcessingGuarantee::ExactlyOnceV2
            && self.commit_interval == Duration::from_secs(30)
        {
            self.commit_interval = Duration::from_millis(100);
        }
        self.processing_guarantee = guarantee;
        self
    }

    /// Makes `serde` the default serde for `T`.
    pub fn default_serde<T: 'static>(mut self, serde: impl Serde<T>) -> Self {
        self.serdes.register::<T, _>(serde);
        self
    }

    /// Sets `state.dir`.
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = dir.into();
        self
    }

    /// Sets `default.timestamp.extractor`.
    pub fn default_timestamp_extractor(mut self, e: impl TimestampExtractor) -> Self {
        self.default_timestamp_extractor = Arc::new(e);
        self
    }

    /// Sets `max.task.idle.ms`.
    pub fn max_task_idle_ms(mut self, ms: i64) -> Self {
        self.max_task_idle_ms = ms;
        self
    }

    /// Sets `statestore.cache.max.bytes`.
    pub fn statestore_cache_max_bytes(mut self, bytes: usize) -> Self {
        self.statestore_cache_max_bytes = bytes;
        self
    }

    /// Sets the deserialization error handler.
    pub fn deserialization_error_handler(mut self, h: impl ErrorHandler) -> Self {
        self.deserialization_error_handler = Arc::new(h);
        self
    }

    /// Sets the processing error handler.
    pub fn processing_error_handler(mut self, h: impl ErrorHandler) -> Self {
        self.processing_error_handler = Arc::new(h);
        self
    }

    /// Sets the production error handler.
    pub fn production_error_handler(mut self, h: impl ErrorHandler) -> Self {
        self.production_error_handler = Arc::new(h);
        self
    }

    /// Sets `num.standby.replicas`.
    pub fn num_standby_replicas(mut self, n: usize) -> Self {
        self.num_standby_replicas = n;
        self
    }

    /// Sets `application.server` (`host:port`).
    pub fn application_server(mut self, endpoint: impl Into<String>) -> Self {
        self.application_server = Some(endpoint.into());
        self
    }

    /// Sets the group session timeout (`session.timeout.ms`).
    pub fn session_timeout(mut self, timeout: Duration) -> Self {
        self.session_timeout = timeout;
        self
    }

    /// Checks the settings; the error says which one is wrong.
    pub fn validate(&self) -> Result<(), crate::StreamsError> {
        let bad = |m: String| Err(crate::StreamsError::Config(m));
        if self.application_id.is_empty()
            || !self.application_id.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return bad(format!(
                "application.id `{}` must be non-empty and use only [a-zA-Z0-9._-]: it names topics",
                self.application_id
            ));
        }
        if self.num_stream_threads == 0 {
            return bad("num.stream.threads must be at least 1".into());
        }
        if let Some(endpoint) = &self.application_server {
            if crate::app::HostInfo::parse(endpoint).is_none() {
                return bad(format!(
                    "application.server `{endpoint}` must be `host:port` with a port in 0..=65535"
                ));
            }
        }
        if self.session_timeout < Duration::from_millis(100) {
            return bad("session.timeout.ms must be at least 100 ms".into());
        }
        if self.processing_guarantee == ProcessingGuarantee::ExactlyOnceV2 {
            return bad(
                "processing.guarantee exactly_once_v2 is not available yet; use at_least_once"
                    .into(),
            );
        }
        Ok(())
    }
}
