//! Running the plugin: one engine and one pre-instantiated component for
//! the process, a fresh instance for every call, and per-call limits.
//!
//! A call that traps, runs past its deadline or outgrows its memory fails
//! alone, with an error that says which; the next call gets a new instance
//! and works.
//!
//! What one call's instance can reach (WASI, the `storage` and `config`
//! imports, the memory limiter) is `runtime/host.rs`.

mod host;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi_http::WasiHttpCtx;

use crate::bindings::{
    Plugin, PluginError, PluginPre, SyncReport, lifecycle, properties, settings, webhooks,
    workflow_actions,
};
use crate::clock::Clock;
use crate::outbound::{Outbound, OutboundHooks};
use crate::storage::Namespace;
pub use host::HostState;
use host::MemoryLimiter;

/// How often the epoch advances; deadlines are rounded up to it.
const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Per-call limits: the configuration's (`crate::config`), which the
/// configuration file's `[limits]` table overrides.
pub use crate::config::Limits;

#[derive(Debug, Clone, Copy)]
pub struct RuntimeOptions {
    pub limits: Limits,
    /// Use the pooling allocator (fast instantiation); off, each instance maps its own memory.
    pub pooling: bool,
    /// Instances that may be alive at once (pooling only).
    pub max_instances: u32,
    /// Count the guest's instructions as wasmtime fuel (never runs out).
    pub fuel: bool,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            pooling: true,
            max_instances: 64,
            fuel: false,
        }
    }
}

/// Why a call to the plugin failed. The plugin's own errors are not here:
/// they come back as the export's result.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("the plugin ran past its deadline of {0:?} and was stopped")]
    Deadline(Duration),
    #[error("the plugin needed more than its memory limit of {} MiB and was stopped", .0 / (1024 * 1024))]
    MemoryLimit(usize),
    #[error("the plugin trapped: {0}")]
    Trap(String),
    #[error("could not instantiate the plugin: {0}")]
    Instantiate(String),
}

/// The component could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("the engine could not be configured: {0}")]
    Engine(String),
    #[error("the plugin component is not valid: {0}")]
    Component(String),
    #[error("the plugin component does not fit this host's world: {0}")]
    Link(String),
    #[error("{0}")]
    Contract(String),
}

/// Whether a component's exports are this host's contract: the versions
/// its `crm:zoom-webinars/...@version` names carry. Contract versions
/// follow semver, 0.x minors breaking: a host runs the components of its
/// own major (minor, before 1.0) whose version is not newer than its own,
/// and says which versions met when it refuses.
pub fn check_contract<'a>(exports: impl IntoIterator<Item = &'a str>) -> Result<(), String> {
    use crate::bindings::{CONTRACT_PACKAGE, CONTRACT_VERSION};
    let host = format!("{CONTRACT_PACKAGE}@{CONTRACT_VERSION}");
    let prefix = format!("{CONTRACT_PACKAGE}/");
    let versions: std::collections::BTreeSet<&str> = exports
        .into_iter()
        .filter_map(|name| name.strip_prefix(&prefix)?.split_once('@'))
        .map(|(_, version)| version)
        .collect();
    let semver = |v: &str| -> Option<(u64, u64, u64)> {
        let mut parts = v.split('.').map(|p| p.parse().ok());
        Some((parts.next()??, parts.next()??, parts.next()??))
    };
    let ours = semver(CONTRACT_VERSION).expect("the host's contract version is semver");
    let breaking =
        |(major, minor, _): (u64, u64, u64)| if major == 0 { (0, minor) } else { (major, 0) };
    match versions.iter().next() {
        None => Err(format!(
            "this component does not implement {CONTRACT_PACKAGE} (none of its exports is one of the contract's interfaces): it is not the Zoom webinar plugin, or it was built for another world; this host runs {host}"
        )),
        Some(_) if versions.len() > 1 => Err(format!(
            "this component mixes versions of {CONTRACT_PACKAGE} ({}): rebuild it from one checkout",
            versions.iter().copied().collect::<Vec<_>>().join(", ")
        )),
        Some(version) => match semver(version) {
            Some(theirs) if breaking(theirs) == breaking(ours) && theirs <= ours => Ok(()),
            _ => Err(format!(
                "this component implements {CONTRACT_PACKAGE}@{version}, and this host runs {host}: use a host built for {version}, or build the plugin from this host's checkout"
            )),
        },
    }
}

/// One installed plugin: its storage namespace, its configuration and its
/// outbound policy.
#[derive(Clone)]
pub struct Installation {
    pub id: String,
    pub storage: Namespace,
    /// What the `config` import answers: credentials and ids. Never logged.
    pub config: Arc<BTreeMap<String, String>>,
    pub outbound: Arc<Outbound>,
    /// The guest's wall clock.
    pub clock: Clock,
    /// Held by a running sync (sync now, backfill, tick): the platform runs
    /// one sync of an installation at a time, so a tick never works on a
    /// webinar that a sync now is writing.
    pub syncs: Arc<tokio::sync::Mutex<()>>,
}

/// Advances the engine's epoch every tick until dropped.
struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::park_timeout(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .ok();
        Self { stop, thread }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

/// The loaded plugin, ready to be called.
pub struct Runtime {
    engine: Engine,
    pre: PluginPre<HostState>,
    limits: Limits,
    peak_memory: Arc<AtomicUsize>,
    storage_nanos: Arc<AtomicU64>,
    /// Fuel counting on, and the fuel the calls have used.
    fuel: bool,
    fuel_used: Arc<AtomicU64>,
    _ticker: EpochTicker,
}

impl Runtime {
    /// Compiles and links the component. Done once per process.
    pub fn new(component: &[u8], options: RuntimeOptions) -> Result<Self, LoadError> {
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .consume_fuel(options.fuel);
        #[cfg(feature = "profiling")]
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        if options.pooling {
            let mut pool = PoolingAllocationConfig::default();
            let n = options.max_instances;
            pool.total_component_instances(n)
                .total_core_instances(n * 16)
                .total_memories(n * 2)
                .total_tables(n * 16)
                .total_stacks(n)
                .max_memory_size(options.limits.memory_bytes);
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        let engine = Engine::new(&config).map_err(|e| LoadError::Engine(format!("{e:#}")))?;
        let component = Component::new(&engine, component)
            .map_err(|e| LoadError::Component(format!("{e:#}")))?;
        // A component of another contract is refused in its own words,
        // before the linker's "missing import" would say it less plainly.
        let exports = component.component_type();
        let names: Vec<&str> = exports.exports(&engine).map(|(name, _)| name).collect();
        check_contract(names).map_err(LoadError::Contract)?;

        let mut linker = Linker::<HostState>::new(&engine);
        let link = |e: wasmtime::Error| LoadError::Link(format!("{e:#}"));
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(link)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(link)?;
        Plugin::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state)
            .map_err(link)?;
        let pre = linker.instantiate_pre(&component).map_err(link)?;
        let pre = PluginPre::new(pre).map_err(link)?;

        Ok(Self {
            _ticker: EpochTicker::start(engine.clone()),
            engine,
            pre,
            limits: options.limits,
            peak_memory: Arc::new(AtomicUsize::new(0)),
            storage_nanos: Arc::new(AtomicU64::new(0)),
            fuel: options.fuel,
            fuel_used: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The most linear memory one guest instance has held since the last
    /// [`reset_peak_memory`](Self::reset_peak_memory), in bytes.
    pub fn peak_memory_bytes(&self) -> usize {
        self.peak_memory.load(Ordering::Relaxed)
    }

    pub fn reset_peak_memory(&self) {
        self.peak_memory.store(0, Ordering::Relaxed);
    }

    /// The guest instructions (fuel) the calls have used since the runtime
    /// started; none unless it counts fuel.
    pub fn fuel_used(&self) -> Option<u64> {
        self.fuel.then(|| self.fuel_used.load(Ordering::Relaxed))
    }

    /// Time the plugin's calls have spent in the storage import since the
    /// runtime started (host work: SQLite).
    pub fn storage_time(&self) -> Duration {
        Duration::from_nanos(self.storage_nanos.load(Ordering::Relaxed))
    }

    /// A fresh instance for one call, its deadline already running.
    /// A fresh instance and the instant its call must end by: one deadline
    /// covers instantiation and the call.
    async fn instantiate(
        &self,
        installation: &Installation,
        budget: Duration,
    ) -> Result<(Store<HostState>, Plugin, tokio::time::Instant), CallError> {
        let deadline = tokio::time::Instant::now() + budget;
        let state = HostState {
            // No preopens, no network sockets, no environment: the guest's
            // only ways out are storage, config and the HTTP hooks.
            wasi: WasiCtxBuilder::new()
                .inherit_stderr()
                .wall_clock(installation.clock.clone())
                .monotonic_clock(installation.clock.monotonic())
                .build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: OutboundHooks::new(
                installation.outbound.clone(),
                self.limits.max_outbound_requests,
            ),
            storage: installation.storage.clone(),
            config: installation.config.clone(),
            limiter: MemoryLimiter {
                limit: self.limits.memory_bytes,
                refused: false,
                peak: self.peak_memory.clone(),
            },
            storage_nanos: self.storage_nanos.clone(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        if self.fuel {
            store
                .set_fuel(u64::MAX)
                .map_err(|e| CallError::Instantiate(format!("{e:#}")))?;
        }
        let ticks = budget.as_nanos().div_ceil(EPOCH_TICK.as_nanos()).max(1);
        store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
        store.epoch_deadline_trap();
        let instantiate = self.pre.instantiate_async(&mut store);
        match tokio::time::timeout_at(deadline, instantiate).await {
            Ok(Ok(plugin)) => Ok((store, plugin, deadline)),
            Ok(Err(e)) => Err(match self.classify(&store, e, budget) {
                CallError::Trap(e) => CallError::Instantiate(e),
                other => other,
            }),
            Err(_) => Err(CallError::Deadline(budget)),
        }
    }

    /// Names a failed call: deadline, memory, or another trap.
    fn classify(
        &self,
        store: &Store<HostState>,
        error: wasmtime::Error,
        budget: Duration,
    ) -> CallError {
        if store.data().limiter.refused {
            CallError::MemoryLimit(self.limits.memory_bytes)
        } else if error.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
            CallError::Deadline(budget)
        } else {
            CallError::Trap(format!("{error:?}"))
        }
    }

    fn finish<R>(
        &self,
        store: &Store<HostState>,
        outcome: Result<wasmtime::Result<R>, tokio::time::error::Elapsed>,
        budget: Duration,
    ) -> Result<R, CallError> {
        if let Some(left) = self.fuel.then(|| store.get_fuel().ok()).flatten() {
            self.fuel_used.fetch_add(u64::MAX - left, Ordering::Relaxed);
        }
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(self.classify(store, e, budget)),
            Err(_) => Err(CallError::Deadline(budget)),
        }
    }
}

/// One typed method per export function: instantiate, call under the
/// deadline, name the failure.
macro_rules! exports {
    ($( $(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $iface:ident.$call:ident within $budget:ident; )*) => {
        impl Runtime {
            $(
                $(#[$doc])*
                #[allow(clippy::ptr_arg, reason = "the bindings take &String")]
                pub async fn $name(&self, installation: &Installation $(, $arg: $ty)*) -> Result<$ret, CallError> {
                    let budget = self.limits.$budget;
                    let _one_sync_at_a_time = if stringify!($budget) == "sync_deadline" {
                        Some(installation.syncs.lock().await)
                    } else {
                        None
                    };
                    let (mut store, plugin, deadline) = self.instantiate(installation, budget).await?;
                    let call = plugin.$iface().$call(&mut store $(, $arg)*);
                    let outcome = tokio::time::timeout_at(deadline, call).await;
                    self.finish(&store, outcome, budget)
                }
            )*
        }
    };
}

exports! {
    /// Verifies and answers one webhook delivery.
    fn handle_webhook(delivery: &webhooks::Delivery) -> webhooks::Answer = crm_zoom_webinars_webhooks.call_handle within deadline;
    fn action_definitions() -> Vec<workflow_actions::ActionDefinition> = crm_zoom_webinars_workflow_actions.call_definitions within deadline;
    fn execute_action(execution: &workflow_actions::Execution)
        -> Result<Vec<workflow_actions::Output>, workflow_actions::ActionFailure>
        = crm_zoom_webinars_workflow_actions.call_execute within deadline;
    fn contact_property_group() -> properties::PropertyGroup = crm_zoom_webinars_properties.call_contact_property_group within deadline;
    fn contact_properties() -> Vec<properties::PropertyDefinition> = crm_zoom_webinars_properties.call_contact_properties within deadline;
    fn timeline_event_types() -> Vec<properties::TimelineEventType> = crm_zoom_webinars_properties.call_timeline_event_types within deadline;
    fn sync_now(webinar: &String) -> Result<SyncReport, PluginError> = crm_zoom_webinars_sync.call_sync_now within sync_deadline;
    fn backfill(since: Option<i64>) -> Result<SyncReport, PluginError> = crm_zoom_webinars_sync.call_backfill within sync_deadline;
    fn tick() -> Result<SyncReport, PluginError> = crm_zoom_webinars_sync.call_tick within sync_deadline;
    fn get_global_settings() -> Result<settings::GlobalSettings, PluginError> = crm_zoom_webinars_settings.call_get_global within deadline;
    fn set_global_settings(value: &settings::GlobalSettings) -> Result<(), PluginError> = crm_zoom_webinars_settings.call_set_global within deadline;
    fn get_user_settings(user: &String) -> Result<settings::UserSettings, PluginError> = crm_zoom_webinars_settings.call_get_user within deadline;
    fn set_user_settings(value: &settings::UserSettings) -> Result<(), PluginError> = crm_zoom_webinars_settings.call_set_user within deadline;
    fn get_webinar_settings(webinar: &String) -> Result<settings::WebinarSettings, PluginError> = crm_zoom_webinars_settings.call_get_webinar within deadline;
    fn set_webinar_settings(value: &settings::WebinarSettings) -> Result<(), PluginError> = crm_zoom_webinars_settings.call_set_webinar within deadline;
    fn audit_log(webinar: &String, start: u64, limit: u32) -> Result<settings::AuditPage, PluginError> = crm_zoom_webinars_settings.call_audit_log within deadline;
    /// Creates the CRM properties, group and event templates; safe to run twice.
    fn install() -> Result<lifecycle::InstallReport, PluginError> = crm_zoom_webinars_lifecycle.call_install within deadline;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::{CONTRACT_PACKAGE, CONTRACT_VERSION};

    #[test]
    fn the_hosts_contract_version_is_the_one_wit_plugin_wit_declares() {
        let wit = include_str!("../../wit/plugin.wit");
        let declared = format!("package {CONTRACT_PACKAGE}@{CONTRACT_VERSION};");
        assert!(wit.lines().any(|l| l.trim() == declared), "{declared}");
    }

    #[test]
    fn a_component_of_this_contract_or_an_older_compatible_one_is_run() {
        assert_eq!(
            check_contract(["crm:zoom-webinars/sync@0.1.0", "wasi:cli/run@0.2.0"]),
            Ok(())
        );
    }

    #[test]
    fn a_component_of_another_contract_is_refused_naming_both_versions() {
        // 0.1.9: a newer patch may use what this host lacks.
        for other in ["0.2.0", "1.0.0", "0.1.9"] {
            let why =
                check_contract([format!("crm:zoom-webinars/sync@{other}").as_str()]).unwrap_err();
            assert!(
                why.contains(&format!("implements crm:zoom-webinars@{other}"))
                    && why.contains("this host runs crm:zoom-webinars@0.1.0"),
                "{why}"
            );
        }
        let mixed = check_contract([
            "crm:zoom-webinars/sync@0.1.0",
            "crm:zoom-webinars/settings@0.2.0",
        ]);
        assert!(mixed.unwrap_err().contains("mixes versions"));
    }

    #[test]
    fn a_component_that_is_not_the_plugin_is_refused_before_linking() {
        // The smallest valid component: the header, nothing exported.
        let empty = b"\0asm\x0d\x00\x01\x00";
        let Err(LoadError::Contract(why)) = Runtime::new(empty, RuntimeOptions::default()) else {
            panic!("an empty component is not the plugin");
        };
        assert!(
            why.contains("does not implement crm:zoom-webinars"),
            "{why}"
        );
    }
}
