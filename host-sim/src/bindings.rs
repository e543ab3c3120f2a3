//! Host-side bindings of the plugin world (`wit/plugin.wit`).

wasmtime::component::bindgen!({
    path: "../wit",
    world: "plugin",
    exports: { default: async },
    additional_derives: [PartialEq],
});

pub use crm::zoom_webinars::types::{PluginError, SyncReport};

/// The contract this host runs (`wit/plugin.wit`'s package): a component
/// carries its own in the names of its exports, e.g.
/// `crm:zoom-webinars/sync@0.1.0`, and one built for another is refused
/// at load with both versions named (`contract::check`).
pub const CONTRACT_PACKAGE: &str = "crm:zoom-webinars";
pub const CONTRACT_VERSION: &str = "0.1.0";
pub use exports::crm::zoom_webinars::{
    lifecycle, properties, settings, sync, webhooks, workflow_actions,
};

impl PluginError {
    /// The plugin's reason, for people (the generated `Display` prints the variant's Rust name).
    pub fn describe(&self) -> String {
        match self {
            PluginError::NotImplemented(s) => s.clone(),
            PluginError::NotInstalled(s) => format!("not installed: {s}"),
            PluginError::InvalidInput(s) => format!("invalid input: {s}"),
            PluginError::Configuration(s) => format!("configuration: {s}"),
            PluginError::ZoomUnavailable(s) => format!("Zoom unavailable: {s}"),
            PluginError::CrmUnavailable(s) => format!("CRM unavailable: {s}"),
            PluginError::Storage(s) => format!("storage: {s}"),
        }
    }
}
