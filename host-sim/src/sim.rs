//! The simulator wired together: the runtime, one installation with its
//! storage and outbound policy, the fakes it talks to, and the clock they share.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::bindings::webhooks;
use crate::clock::Clock;
use crate::config::{ConnectionMode, HostConfig};
use crate::fakes::FaultPlan;
use crate::fakes::crm::{self, CrmRateLimits, FakeCrm};
use crate::fakes::zoom::webhooks::signature_headers;
use crate::fakes::zoom::{self, FakeZoom, ZoomApp, ZoomRateLimits};
use crate::outbound::{Outbound, RequestRecord};
use crate::runtime::{CallError, Installation, Limits, LoadError, Runtime, RuntimeOptions};
use crate::storage::{Database, StorageError};

/// Where the plugin's state lives.
#[derive(Debug, Clone)]
pub enum StateStore {
    /// `state.db` in this directory, created if missing: survives restarts.
    Directory(PathBuf),
    /// Gone when the simulator is dropped; for tests.
    Memory,
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("cannot create the state directory {path}: {source}")]
    StateDir {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the state file {path} is unreadable ({reason}): delete it, or run `host-sim demo` for a fresh state"
    )]
    CorruptState { path: String, reason: String },
    #[error(
        "cannot read the component {path}: {reason} (build one with `cargo build -p zoom-webinars-plugin --target wasm32-wasip2 --release`, or remove `component` from the configuration to run the one built from this tree)"
    )]
    Component { path: String, reason: String },
    #[error("{0} (in [connection] of the configuration)")]
    Connection(String),
    #[error("cannot save the fakes' state to {path}: {source}")]
    SaveState {
        path: String,
        source: std::io::Error,
    },
}

/// The fakes' state next to the plugin's `state.db`.
pub const FAKES_FILE: &str = "fakes.json";

/// How the fakes behave and what time it is.
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub clock: Clock,
    pub zoom_rate_limits: ZoomRateLimits,
    pub crm_rate_limits: CrmRateLimits,
    pub zoom_faults: FaultPlan,
    pub crm_faults: FaultPlan,
}

impl Default for SimOptions {
    /// Real time, the real services' rate limits, no faults.
    fn default() -> Self {
        Self {
            clock: Clock::real(),
            zoom_rate_limits: ZoomRateLimits::PRO,
            crm_rate_limits: CrmRateLimits::STARTER,
            zoom_faults: FaultPlan::default(),
            crm_faults: FaultPlan::default(),
        }
    }
}

/// The id of the one installation the simulator runs.
pub const INSTALLATION_ID: &str = "default";

pub struct Simulator {
    pub config: HostConfig,
    /// Where the plugin's and the fakes' state is kept; none in memory.
    pub state_dir: Option<PathBuf>,
    pub runtime: Runtime,
    pub installation: Installation,
    pub zoom: Arc<FakeZoom>,
    pub crm: Arc<FakeCrm>,
    pub clock: Clock,
}

impl Simulator {
    /// The configured component (by default the one built from this
    /// tree), on real time.
    pub fn start(config: HostConfig, store: StateStore) -> Result<Self, SimError> {
        let component = component(&config)?;
        Self::start_with(config, store, SimOptions::default(), &component)
    }

    pub fn start_with(
        config: HostConfig,
        store: StateStore,
        options: SimOptions,
        component: &[u8],
    ) -> Result<Self, SimError> {
        let clock = options.clock;
        let database = open_database(&config, &store)?;
        let app = ZoomApp {
            account_id: config.zoom.account_id.clone(),
            client_id: config.zoom.client_id.clone(),
            client_secret: config.zoom.client_secret.expose().to_owned(),
        };
        let zoom = Arc::new(
            FakeZoom::new(app, clock.clone())
                .with_rate_limits(options.zoom_rate_limits)
                .with_faults(options.zoom_faults),
        );
        let crm = Arc::new(
            FakeCrm::new(config.crm.access_token.expose(), clock.clone())
                .with_developer_api_key(config.crm.developer_api_key.expose())
                .with_rate_limits(options.crm_rate_limits)
                .with_faults(options.crm_faults),
        );

        let outbound = outbound(&config, &zoom, &crm)?;

        let runtime = Runtime::new(component, runtime_options(&config))?;
        let installation = Installation {
            id: INSTALLATION_ID.into(),
            storage: database.namespace(INSTALLATION_ID),
            config: Arc::new(config.plugin_config()),
            outbound: Arc::new(outbound),
            clock: clock.clone(),
            syncs: Default::default(),
        };
        let state_dir = match &store {
            StateStore::Directory(dir) => Some(dir.clone()),
            StateStore::Memory => None,
        };
        // In-process fakes keep their records beside the plugin's state;
        // remote ones keep their own.
        if let Some(dir) = state_dir
            .as_ref()
            .filter(|_| config.connection.mode == ConnectionMode::Fake)
        {
            restore_fakes(dir, &zoom, &crm)?;
        }
        Ok(Self {
            config,
            state_dir,
            runtime,
            installation,
            zoom,
            crm,
            clock,
        })
    }

    /// Keeps the fakes' state for the next command (state directory only).
    pub fn save_fakes(&self) -> Result<(), SimError> {
        let Some(dir) = &self.state_dir else {
            return Ok(());
        };
        if self.config.connection.mode != ConnectionMode::Fake {
            return Ok(());
        }
        let path = dir.join(FAKES_FILE);
        let saved = serde_json::json!({ "zoom": self.zoom.save(), "crm": self.crm.save() });
        let error = |source| SimError::SaveState {
            path: path.display().to_string(),
            source,
        };
        // Written aside, then renamed: a crash leaves the old file whole.
        let partial = dir.join(format!("{FAKES_FILE}.partial"));
        crate::operator::write_private(&partial, saved.to_string().as_bytes()).map_err(error)?;
        std::fs::rename(&partial, &path).map_err(error)
    }

    /// Forgets everything in `dir`: the plugin's database and the fakes.
    pub fn reset(dir: &std::path::Path) -> Result<(), SimError> {
        for name in ["state.db", "state.db-wal", "state.db-shm", FAKES_FILE] {
            match std::fs::remove_file(dir.join(name)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(SimError::StateDir {
                        path: dir.join(name).display().to_string(),
                        source: e,
                    });
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The outbound requests the plugin made so far.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.installation.outbound.log().records()
    }

    /// A Zoom delivery of `body`, signed now with the configured secret token, as Zoom sends it.
    pub fn zoom_delivery(&self, body: &[u8]) -> webhooks::Delivery {
        let now_ms = self.clock.now_ms();
        let secret = self.config.zoom.webhook_secret_token.expose();
        let mut headers = vec![header("content-type", "application/json")];
        for (name, value) in signature_headers(secret, now_ms / 1000, body) {
            headers.push(header(&name, &value));
        }
        webhooks::Delivery {
            source: webhooks::WebhookSource::Zoom,
            method: "POST".into(),
            path: "/webhooks/zoom".into(),
            headers,
            body: body.to_vec(),
            received_at: now_ms,
        }
    }

    pub async fn deliver(
        &self,
        delivery: &webhooks::Delivery,
    ) -> Result<webhooks::Answer, CallError> {
        self.runtime
            .handle_webhook(&self.installation, delivery)
            .await
    }
}

/// The plugin's database: in memory, or `state.db` in the state
/// directory, sealed with the state key.
fn open_database(config: &HostConfig, store: &StateStore) -> Result<Database, SimError> {
    Ok(match store {
        StateStore::Directory(dir) => {
            // Issue 19: the state is this user's alone (0700, files 0600).
            let database = dir.join("state.db");
            crate::operator::private_dir(dir)
                .and_then(|()| crate::operator::private_file(&database))
                .map_err(|source| SimError::StateDir {
                    path: dir.display().to_string(),
                    source,
                })?;
            let key = config
                .state_key_file
                .clone()
                .unwrap_or_else(|| dir.join(crate::sealing::KEY_FILE));
            let sealer =
                crate::sealing::Sealer::from_file(&key).map_err(|source| SimError::StateDir {
                    path: key.display().to_string(),
                    source,
                })?;
            Database::open(&database)?.sealed_with(sealer)
        }
        StateStore::Memory => Database::in_memory()?,
    })
}

/// Where the plugin's requests go: the configured hosts allowed, then the
/// in-process fakes, the real network or remote fakes.
fn outbound(
    config: &HostConfig,
    zoom: &Arc<FakeZoom>,
    crm: &Arc<FakeCrm>,
) -> Result<Outbound, SimError> {
    let mut outbound = Outbound::deny_all();
    for host in &config.connection.allowed_hosts {
        outbound = outbound.allow(host);
    }
    outbound = match config.connection.mode {
        ConnectionMode::Fake => outbound
            .fake(zoom::OAUTH_HOST, zoom.clone())
            .fake(zoom::API_HOST, zoom.clone())
            .fake(crm::API_HOST, crm.clone()),
        ConnectionMode::Real => outbound.real_network(true),
        ConnectionMode::Remote => outbound
            .remote_fakes(&config.connection.fakes_url)
            .map_err(SimError::Connection)?,
    };
    Ok(outbound)
}

/// The runtime's limits, pooling and fuel from the configuration.
fn runtime_options(config: &HostConfig) -> RuntimeOptions {
    RuntimeOptions {
        limits: Limits {
            deadline: Duration::from_millis(config.limits.deadline_ms),
            sync_deadline: Duration::from_millis(config.limits.sync_deadline_ms),
            memory_bytes: config.limits.memory_mib * 1024 * 1024,
            max_outbound_requests: config.limits.max_outbound_requests,
        },
        pooling: config.limits.pooling,
        fuel: config.limits.fuel,
        ..RuntimeOptions::default()
    }
}

pub fn header(name: &str, value: &str) -> crate::bindings::crm::zoom_webinars::types::Header {
    crate::bindings::crm::zoom_webinars::types::Header {
        name: name.into(),
        value: value.into(),
    }
}

/// Milliseconds since the Unix epoch, system time.
pub fn now_ms() -> i64 {
    Clock::real().now_ms()
}

/// Loads the fakes' state a previous command saved in `dir`, if any.
fn restore_fakes(dir: &std::path::Path, zoom: &FakeZoom, crm: &FakeCrm) -> Result<(), SimError> {
    let path = dir.join(FAKES_FILE);
    let corrupt = |reason: String| SimError::CorruptState {
        path: path.display().to_string(),
        reason,
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(corrupt(e.to_string())),
    };
    let mut saved: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| corrupt(e.to_string()))?;
    zoom.restore(saved["zoom"].take())
        .map_err(|e| corrupt(format!("zoom: {e}")))?;
    crm.restore(saved["crm"].take())
        .map_err(|e| corrupt(format!("crm: {e}")))
}

/// The component's bytes: the configured file, else the one built from this tree.
pub fn component(config: &HostConfig) -> Result<std::borrow::Cow<'static, [u8]>, SimError> {
    match &config.component {
        None => Ok(std::borrow::Cow::Borrowed(crate::PLUGIN_COMPONENT)),
        Some(path) => std::fs::read(path)
            .map(std::borrow::Cow::Owned)
            .map_err(|e| SimError::Component {
                path: path.display().to_string(),
                reason: e.to_string(),
            }),
    }
}
