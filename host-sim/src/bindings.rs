//! Host-side bindings of the plugin world (`wit/plugin.wit`).

wasmtime::component::bindgen!({
    path: "../wit",
    world: "plugin",
    exports: { default: async },
});

pub use crm::zoom_webinars::types::{PluginError, SyncReport};
pub use exports::crm::zoom_webinars::{
    lifecycle, properties, settings, sync, webhooks, workflow_actions,
};
