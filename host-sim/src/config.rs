//! The operator's configuration: a TOML file (`host-sim.toml`) with
//! environment overrides, over embedded defaults that run everything
//! against the fakes. Secrets are kept in [`Secret`], which never prints.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// A credential: readable by the code that needs it, `***` everywhere else.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ZoomConfig {
    pub account_id: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub webhook_secret_token: Secret,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct CrmConfig {
    pub access_token: Secret,
    pub app_id: String,
    pub client_secret: Secret,
    /// How the plugin writes activity events (R10): `timeline`,
    /// `custom-events` or `off` (the plugin's `crm.activity-events`).
    pub activity_events: String,
    /// The developer account's API key, for timeline templates.
    pub developer_api_key: Secret,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionMode {
    /// Zoom and the CRM are the in-process fakes.
    Fake,
    /// The real services, over the network, for the allowed hosts only.
    Real,
    /// The fakes served by another process (`host-sim fakes`) at
    /// `connection.fakes_url`: they outlive this one, as the real services
    /// outlive a crashed host (the crash tests kill the simulator).
    Remote,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ConnectionConfig {
    pub mode: ConnectionMode,
    /// Hosts the plugin may reach; everything else is denied.
    pub allowed_hosts: Vec<String>,
    /// Where `host-sim fakes` listens, for mode "remote".
    pub fakes_url: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    pub deadline_ms: u64,
    /// For sync now, backfill and tick.
    pub sync_deadline_ms: u64,
    pub memory_mib: usize,
    /// Outbound HTTP requests one call may send.
    pub max_outbound_requests: usize,
    pub pooling: bool,
    /// Count the guest's instructions (wasmtime fuel); a little slower.
    pub fuel: bool,
}

/// `host-sim serve`'s front door: who may call the operator routes, and
/// how long a connection may take (issue 19; docs/reliability.md).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ServeConfig {
    /// The operator's bearer token for settings, sync and audit routes.
    /// Unset: one is generated on the first start and kept in
    /// `state_dir/admin-token` (0600), outside the database.
    pub admin_token: Option<Secret>,
    /// A request's headers must arrive within this (slowloris).
    pub header_timeout_ms: u64,
    /// A request's body must arrive within this.
    pub body_timeout_ms: u64,
    /// At most this many connections are open; past it, the oldest idle
    /// one is closed to make room (a flood of idle connections cannot
    /// shut out Zoom's deliveries).
    pub max_connections: usize,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            admin_token: None,
            header_timeout_ms: 5_000,
            body_timeout_ms: 10_000,
            max_connections: 128,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct HostConfig {
    /// Where the state database lives.
    pub state_dir: PathBuf,
    /// The key that seals the secrets the plugin stores (its Zoom access
    /// token); default `state_dir/state.key`. Point it outside the state
    /// directory so a copy of that directory alone hands out no token.
    pub state_key_file: Option<PathBuf>,
    /// The URL the services call the host at; the CRM signs webhooks over it.
    pub public_url: String,
    /// A component file to run instead of the one built from this tree
    /// (e.g. the packaged build an operator installs).
    pub component: Option<PathBuf>,
    pub zoom: ZoomConfig,
    pub crm: CrmConfig,
    pub connection: ConnectionConfig,
    pub limits: LimitsConfig,
    pub serve: ServeConfig,
}

impl Default for ZoomConfig {
    fn default() -> Self {
        // The fakes' credentials: the demo runs on these.
        Self {
            account_id: "sim-account".into(),
            client_id: "sim-client-id".into(),
            client_secret: Secret::new("sim-client-secret"),
            webhook_secret_token: Secret::new("sim-webhook-secret-token"),
        }
    }
}

impl Default for CrmConfig {
    fn default() -> Self {
        Self {
            access_token: Secret::new("sim-crm-access-token"),
            app_id: "1000001".into(),
            client_secret: Secret::new("sim-crm-client-secret"),
            // The fake app is an app partner with timeline access, so the
            // demo shows its timeline events; a new private app uses
            // `custom-events` (the plugin's own default).
            activity_events: "timeline".into(),
            developer_api_key: Secret::new(crate::fakes::crm::DEVELOPER_API_KEY),
        }
    }
}

/// The hosts the plugin talks to.
/// Zoom's hosts: OAuth and downloads on `zoom.us`; the API, the regional
/// download hosts and the file storage downloads redirect to
/// (`ssrweb.zoom.us`) under it (R11).
pub const ZOOM_HOSTS: &[&str] = &["zoom.us", "*.zoom.us"];
pub const CRM_HOSTS: &[&str] = &["api.hubapi.com"];

impl Default for ConnectionConfig {
    fn default() -> Self {
        Self {
            mode: ConnectionMode::Fake,
            allowed_hosts: ZOOM_HOSTS
                .iter()
                .chain(CRM_HOSTS)
                .map(|h| h.to_string())
                .collect(),
            fakes_url: "http://127.0.0.1:8788".into(),
        }
    }
}

/// Per-call limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall time for one call, instantiation included.
    pub deadline: Duration,
    /// Wall time for the background sync calls (sync now, backfill, tick),
    /// which read and write whole webinars: a host runs them as jobs.
    pub sync_deadline: Duration,
    /// Linear memory for one instance.
    pub memory_bytes: usize,
    /// Outbound HTTP requests one call may send.
    pub max_outbound_requests: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(5),
            sync_deadline: Duration::from_secs(120),
            memory_bytes: 64 * 1024 * 1024,
            max_outbound_requests: 10_000,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let limits = Limits::default();
        Self {
            deadline_ms: limits.deadline.as_millis() as u64,
            sync_deadline_ms: limits.sync_deadline.as_millis() as u64,
            memory_mib: limits.memory_bytes / (1024 * 1024),
            max_outbound_requests: limits.max_outbound_requests,
            pooling: true,
            fuel: false,
        }
    }
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            state_dir: PathBuf::from(".host-sim"),
            state_key_file: None,
            public_url: "https://host-sim.local".into(),
            component: None,
            zoom: ZoomConfig::default(),
            crm: CrmConfig::default(),
            connection: ConnectionConfig::default(),
            limits: LimitsConfig::default(),
            serve: ServeConfig::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("environment variable {name}: {message}")]
    Env { name: String, message: String },
}

/// The prefix of environment overrides: `HOST_SIM_ZOOM_CLIENT_SECRET` sets `zoom.client_secret`.
pub const ENV_PREFIX: &str = "HOST_SIM_";

impl HostConfig {
    /// The defaults, overlaid with `path` (if given) and then the environment.
    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut table = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError::Parse {
                        path: path.display().to_string(),
                        message: e.to_string(),
                    })?
            }
            None => toml::Table::new(),
        };
        for (name, value) in env {
            let Some(key) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            // HOST_SIM_CONFIG names the file itself (the CLI's --config).
            if key == "CONFIG" {
                continue;
            }
            let key = key.to_ascii_lowercase();
            let (section, field) = match key.split_once('_') {
                Some((section @ ("zoom" | "crm" | "connection" | "limits" | "serve"), field)) => {
                    (Some(section), field)
                }
                _ => (None, key.as_str()),
            };
            let value = env_value(field, &value).map_err(|message| ConfigError::Env {
                name: name.clone(),
                message,
            })?;
            match section {
                Some(section) => {
                    let entry = table
                        .entry(section)
                        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                    if let toml::Value::Table(t) = entry {
                        t.insert(field.to_owned(), value);
                    }
                }
                None => {
                    table.insert(field.to_owned(), value);
                }
            }
        }
        let origin = path.map_or_else(|| "configuration".to_owned(), |p| p.display().to_string());
        toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Parse {
                path: origin,
                message: e.message().to_owned(),
            })
    }

    /// What the plugin's `config` import answers.
    pub fn plugin_config(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("zoom.account-id".into(), self.zoom.account_id.clone()),
            ("zoom.client-id".into(), self.zoom.client_id.clone()),
            (
                "zoom.client-secret".into(),
                self.zoom.client_secret.expose().into(),
            ),
            (
                "zoom.webhook-secret-token".into(),
                self.zoom.webhook_secret_token.expose().into(),
            ),
            (
                "crm.access-token".into(),
                self.crm.access_token.expose().into(),
            ),
            ("crm.app-id".into(), self.crm.app_id.clone()),
            ("host.public-url".into(), self.public_url.clone()),
            (
                "crm.client-secret".into(),
                self.crm.client_secret.expose().into(),
            ),
            (
                "crm.activity-events".into(),
                self.crm.activity_events.clone(),
            ),
            (
                "crm.developer-api-key".into(),
                self.crm.developer_api_key.expose().into(),
            ),
        ])
    }
}

/// An environment value as TOML: lists are comma-separated, numbers and
/// booleans are parsed for the fields that take them.
fn env_value(field: &str, value: &str) -> Result<toml::Value, String> {
    Ok(match field {
        "allowed_hosts" => toml::Value::Array(
            value
                .split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(|h| toml::Value::String(h.to_owned()))
                .collect(),
        ),
        "deadline_ms"
        | "sync_deadline_ms"
        | "memory_mib"
        | "max_outbound_requests"
        | "header_timeout_ms"
        | "body_timeout_ms"
        | "max_connections" => toml::Value::Integer(
            value
                .parse()
                .map_err(|_| format!("{value:?} is not a whole number"))?,
        ),
        "pooling" | "fuel" => toml::Value::Boolean(
            value
                .parse()
                .map_err(|_| format!("{value:?} is not true or false"))?,
        ),
        _ => toml::Value::String(value.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_run_against_the_fakes() {
        let config = HostConfig::load(None, []).unwrap();
        assert_eq!(config, HostConfig::default());
        assert_eq!(config.connection.mode, ConnectionMode::Fake);
    }

    #[test]
    fn a_file_then_the_environment_override_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("host-sim.toml");
        std::fs::write(&path, "state_dir = \"/tmp/x\"\n[zoom]\naccount_id = \"from-file\"\n[limits]\ndeadline_ms = 100\n").unwrap();
        let config = HostConfig::load(
            Some(&path),
            env(&[
                ("HOST_SIM_ZOOM_ACCOUNT_ID", "from-env"),
                ("HOST_SIM_LIMITS_MEMORY_MIB", "32"),
                ("HOST_SIM_CONNECTION_ALLOWED_HOSTS", "zoom.us, api.zoom.us"),
                ("UNRELATED", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(config.state_dir, PathBuf::from("/tmp/x"));
        assert_eq!(config.zoom.account_id, "from-env");
        assert_eq!(config.limits.deadline_ms, 100);
        assert_eq!(config.limits.memory_mib, 32);
        assert_eq!(config.connection.allowed_hosts, ["zoom.us", "api.zoom.us"]);
    }

    #[test]
    fn the_documented_example_parses_and_states_the_defaults() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../host-sim.example.toml");
        let config = HostConfig::load(Some(&example), env(&[])).unwrap();
        assert_eq!(config, HostConfig::default());
    }

    #[test]
    fn the_config_file_variable_is_not_an_override() {
        let config = HostConfig::load(None, env(&[("HOST_SIM_CONFIG", "host-sim.toml")])).unwrap();
        assert_eq!(config, HostConfig::default());
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("host-sim.toml");
        std::fs::write(&path, "[zoom]\nclient_sekret = \"x\"\n").unwrap();
        let err = HostConfig::load(Some(&path), []).unwrap_err().to_string();
        assert!(err.contains("client_sekret"), "{err}");
        let err = HostConfig::load(None, env(&[("HOST_SIM_LIMITS_DEADLINE_MS", "soon")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("HOST_SIM_LIMITS_DEADLINE_MS"), "{err}");
    }

    #[test]
    fn secrets_never_print() {
        let config = HostConfig::default();
        let printed = format!("{config:?}");
        for secret in [
            "sim-client-secret",
            "sim-webhook-secret-token",
            "sim-crm-access-token",
            "sim-crm-client-secret",
        ] {
            assert!(!printed.contains(secret), "{secret} leaked: {printed}");
        }
    }
}
