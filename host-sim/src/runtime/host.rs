//! What the host gives one call's instance: WASI and WASI HTTP (through
//! the outbound policy's hooks), the `storage` and `config` imports, and
//! the memory limiter that names a call that outgrew its memory.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::bindings::crm::zoom_webinars as imports;
use crate::outbound::OutboundHooks;
use crate::storage::{Namespace, StorageError};

/// Everything one call's instance can reach.
pub struct HostState {
    pub(super) wasi: WasiCtx,
    pub(super) http: WasiHttpCtx,
    pub(super) table: ResourceTable,
    pub(super) hooks: OutboundHooks,
    pub(super) storage: Namespace,
    pub(super) config: Arc<BTreeMap<String, String>>,
    pub(super) limiter: MemoryLimiter,
    /// Time spent in the storage import, across calls (nanoseconds).
    pub(super) storage_nanos: Arc<AtomicU64>,
}

impl HostState {
    /// Runs one storage operation, counting its time.
    fn timed<T>(
        &self,
        op: impl FnOnce(&Namespace) -> Result<T, StorageError>,
    ) -> Result<T, imports::storage::StorageError> {
        let started = std::time::Instant::now();
        let result = op(&self.storage).map_err(storage_error);
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.storage_nanos.fetch_add(nanos, Ordering::Relaxed);
        result
    }
}

/// Grants memory up to the limit and remembers a refusal, so that the trap
/// that follows (the guest aborts when allocation fails) can be named.
pub(super) struct MemoryLimiter {
    pub(super) limit: usize,
    pub(super) refused: bool,
    /// The runtime's high-water mark of guest memory, across calls.
    pub(super) peak: Arc<AtomicUsize>,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = desired <= self.limit;
        self.refused |= !allowed;
        if allowed {
            self.peak.fetch_max(desired, Ordering::Relaxed);
        }
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        // Growth past the pool's maximum fails here rather than in memory_growing.
        self.refused = true;
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

impl imports::types::Host for HostState {}

fn storage_error(e: StorageError) -> imports::storage::StorageError {
    match e {
        StorageError::TooLarge { .. } => imports::storage::StorageError::TooLarge(e.to_string()),
        other => imports::storage::StorageError::Backend(other.to_string()),
    }
}

impl imports::storage::Host for HostState {
    fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, imports::storage::StorageError> {
        self.timed(|s| s.get(&key))
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), imports::storage::StorageError> {
        self.timed(|s| s.set(&key, &value))
    }

    fn delete(&mut self, key: String) -> Result<(), imports::storage::StorageError> {
        self.timed(|s| s.delete(&key))
    }

    fn list_keys(
        &mut self,
        prefix: String,
        cursor: Option<String>,
        limit: u32,
    ) -> Result<imports::storage::KeyPage, imports::storage::StorageError> {
        let page = self.timed(|s| s.list_keys(&prefix, cursor.as_deref(), limit))?;
        Ok(imports::storage::KeyPage {
            keys: page.keys,
            cursor: page.cursor,
        })
    }

    fn compare_and_swap(
        &mut self,
        key: String,
        expected: Option<Vec<u8>>,
        new: Option<Vec<u8>>,
    ) -> Result<bool, imports::storage::StorageError> {
        self.timed(|s| s.compare_and_swap(&key, expected.as_deref(), new.as_deref()))
    }

    fn write_batch(
        &mut self,
        writes: Vec<imports::storage::Write>,
    ) -> Result<(), imports::storage::StorageError> {
        let writes: Vec<_> = writes.into_iter().map(|w| (w.key, w.value)).collect();
        self.timed(|s| s.write_batch(&writes))
    }
}

impl imports::config::Host for HostState {
    fn get(&mut self, key: String) -> Result<Option<String>, imports::config::ConfigError> {
        Ok(self.config.get(&key).cloned())
    }
}
