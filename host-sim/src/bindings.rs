//! Host-side bindings of the plugin world (`wit/plugin.wit`).

wasmtime::component::bindgen!({
    path: "../wit",
    world: "plugin",
    exports: { default: async },
    additional_derives: [PartialEq],
});

pub use crm::zoom_webinars::types::{PluginError, SyncReport};
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
