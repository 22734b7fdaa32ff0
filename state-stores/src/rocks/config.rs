//! RocksDB options for every store of one application, and the block cache they share.

use std::fmt;

use rocksdb::{
    BlockBasedOptions, Cache, DBCompactionStyle, DBCompressionType, LogLevel, Options,
    WriteBufferManager,
};

/// Block cache size when none is given: 64 MiB for the whole application.
pub(crate) const DEFAULT_BLOCK_CACHE_BYTES: usize = 64 * 1024 * 1024;

/// RocksDB settings and the block cache shared by every RocksDB store of an application.
///
/// Create one per application (Kafka Streams' `BoundedMemoryRocksDBConfig` pattern) and pass it to
/// every [`RocksDbKeyValueStore`](crate::RocksDbKeyValueStore); clones share the same cache, so
/// the memory RocksDB uses for data blocks, indexes and bloom filters is bounded once, not per
/// store. Optionally the stores' memtables are bounded too and charged to the same cache
/// ([`with_memtable_budget`](Self::with_memtable_budget)).
///
/// The options follow Kafka Streams' `RocksDBStore` defaults:
///
/// | option | value | why |
/// | --- | --- | --- |
/// | table format | block-based, 4 KiB blocks | point lookups and short scans |
/// | bloom filter | 10 bits per key (~1% false positives) | `get` of absent keys skips table files |
/// | index and filter blocks | in the shared cache, level-0 ones pinned | memory stays within the cache |
/// | compression | none | a store is a local cache of its changelog: CPU matters more than disk |
/// | compaction | universal | lower write amplification for update-heavy aggregates |
/// | memtables | 16 MiB each, at most 3 | |
/// | write-ahead log | off | the changelog is the source of truth; `flush()` writes memtables to disk |
/// | info log | errors only, one small file | |
///
/// ```
/// use state_stores::RocksDbConfig;
///
/// let config = RocksDbConfig::new(32 * 1024 * 1024).with_memtable_budget(16 * 1024 * 1024);
/// let same_cache = config.clone();
/// assert_eq!(same_cache.block_cache_capacity(), 32 * 1024 * 1024);
/// ```
#[derive(Clone)]
pub struct RocksDbConfig {
    cache: Cache,
    cache_capacity: usize,
    write_buffers: Option<WriteBufferManager>,
    memtable_budget: Option<usize>,
    write_buffer_size: usize,
    max_write_buffers: i32,
    block_size: usize,
    bloom_bits_per_key: f64,
    background_threads: i32,
}

impl RocksDbConfig {
    /// Settings with a new LRU block cache of `block_cache_bytes`, to be shared by every store
    /// given this config (or a clone of it).
    pub fn new(block_cache_bytes: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            cache: Cache::new_lru_cache(block_cache_bytes),
            cache_capacity: block_cache_bytes,
            write_buffers: None,
            memtable_budget: None,
            write_buffer_size: 16 * 1024 * 1024,
            max_write_buffers: 3,
            block_size: 4 * 1024,
            bloom_bits_per_key: 10.0,
            background_threads: i32::try_from(cores.max(2)).unwrap_or(i32::MAX),
        }
    }

    /// Bounds the memtables of all stores sharing this config to `bytes` in total, charged to the
    /// shared block cache (RocksDB's `WriteBufferManager`), so cache plus memtables stay within the
    /// cache's capacity. Writers stall while memtables are over budget until a flush frees memory.
    #[must_use]
    pub fn with_memtable_budget(mut self, bytes: usize) -> Self {
        self.write_buffers = Some(WriteBufferManager::new_write_buffer_manager_with_cache(
            bytes,
            true,
            self.cache.clone(),
        ));
        self.memtable_budget = Some(bytes);
        self
    }

    /// Size of one memtable (default 16 MiB).
    #[must_use]
    pub fn with_write_buffer_size(mut self, bytes: usize) -> Self {
        self.write_buffer_size = bytes;
        self
    }

    /// Memtables a store may hold, the active one included (default 3).
    #[must_use]
    pub fn with_max_write_buffers(mut self, count: i32) -> Self {
        self.max_write_buffers = count.max(1);
        self
    }

    /// Threads for flushes and compactions, shared by all stores of the process (default: the
    /// number of cores, at least 2).
    #[must_use]
    pub fn with_background_threads(mut self, threads: i32) -> Self {
        self.background_threads = threads.max(1);
        self
    }

    /// The shared block cache's capacity in bytes.
    pub fn block_cache_capacity(&self) -> usize {
        self.cache_capacity
    }

    /// Bytes the shared block cache holds now (data, index and filter blocks of every store, plus
    /// memtable reservations with a memtable budget).
    pub fn block_cache_usage(&self) -> usize {
        self.cache.get_usage()
    }

    /// The RocksDB options for one store.
    pub(crate) fn options(&self) -> Options {
        let mut table = BlockBasedOptions::default();
        table.set_block_cache(&self.cache);
        table.set_block_size(self.block_size);
        table.set_bloom_filter(self.bloom_bits_per_key, false);
        table.set_cache_index_and_filter_blocks(true);
        table.set_pin_l0_filter_and_index_blocks_in_cache(true);

        let mut options = Options::default();
        options.create_if_missing(true);
        options.set_block_based_table_factory(&table);
        options.set_compression_type(DBCompressionType::None);
        options.set_compaction_style(DBCompactionStyle::Universal);
        options.set_write_buffer_size(self.write_buffer_size);
        options.set_max_write_buffer_number(self.max_write_buffers);
        options.increase_parallelism(self.background_threads);
        options.set_log_level(LogLevel::Error);
        options.set_keep_log_file_num(1);
        options.set_max_log_file_size(1024 * 1024);
        if let Some(write_buffers) = &self.write_buffers {
            options.set_write_buffer_manager(write_buffers);
        }
        options
    }
}

impl Default for RocksDbConfig {
    /// A 64 MiB shared block cache and Kafka Streams' default options.
    fn default() -> Self {
        Self::new(DEFAULT_BLOCK_CACHE_BYTES)
    }
}

impl fmt::Debug for RocksDbConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RocksDbConfig")
            .field("block_cache_capacity", &self.cache_capacity)
            .field("memtable_budget", &self.memtable_budget)
            .field("write_buffer_size", &self.write_buffer_size)
            .field("max_write_buffers", &self.max_write_buffers)
            .field("block_size", &self.block_size)
            .field("bloom_bits_per_key", &self.bloom_bits_per_key)
            .field("background_threads", &self.background_threads)
            .finish()
    }
}
