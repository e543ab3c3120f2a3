//! The shell: ports to the outside (HTTP, config) and the typed Zoom and
//! CRM clients that speak through them. No bindings here either: the
//! component's adapters implement the ports in `edge`, tests implement them
//! in memory.

pub mod crm;
pub mod error;
pub mod http;
pub mod install;
pub mod zoom;

pub use error::PluginError;

/// Read-only configuration: credentials and account ids.
pub trait Config {
    /// The value of `key`; none when it is not configured.
    fn get(&self, key: &str) -> Result<Option<String>, String>;
}

/// The host's durable key-value storage.
pub trait Store {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PluginError>;
    fn set(&self, key: &str, value: &[u8]) -> Result<(), PluginError>;
}

/// Configuration keys the plugin reads.
pub mod keys {
    pub const ZOOM_ACCOUNT_ID: &str = "zoom.account-id";
    pub const ZOOM_CLIENT_ID: &str = "zoom.client-id";
    pub const ZOOM_CLIENT_SECRET: &str = "zoom.client-secret";
    pub const ZOOM_WEBHOOK_SECRET_TOKEN: &str = "zoom.webhook-secret-token";
    pub const CRM_ACCESS_TOKEN: &str = "crm.access-token";
    pub const CRM_APP_ID: &str = "crm.app-id";
}

/// A configured value that must be present.
pub fn required(config: &dyn Config, key: &str) -> Result<String, PluginError> {
    match config.get(key) {
        Ok(Some(value)) if !value.trim().is_empty() => Ok(value),
        Ok(_) => Err(PluginError::Configuration(format!(
            "{key} is not configured: set it in the host's configuration for this installation"
        ))),
        Err(e) => Err(PluginError::Configuration(format!(
            "could not read {key}: {e}"
        ))),
    }
}
