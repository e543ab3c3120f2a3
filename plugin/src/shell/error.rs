/// Why an export could not do what was asked; mirrors the WIT `plugin-error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    #[error("not implemented yet: {0}")]
    NotImplemented(String),
    #[error("the plugin is not installed: {0}")]
    NotInstalled(String),
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("configuration: {0}")]
    Configuration(String),
    #[error("Zoom is unavailable: {0}")]
    ZoomUnavailable(String),
    #[error("the CRM is unavailable: {0}")]
    CrmUnavailable(String),
    #[error("storage: {0}")]
    Storage(String),
}
