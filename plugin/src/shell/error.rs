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
    /// Zoom answered that it will not give what was asked (a 4xx that is
    /// neither "not found" nor about the app's token or scopes): asking
    /// again gets the same answer, so it is explained, not retried (issue
    /// 18). The WIT has no case of its own for it: it crosses as
    /// `zoom-unavailable`, saying it is not retried.
    #[error("{0}")]
    ZoomRefused(String),
    #[error("the CRM is unavailable: {0}")]
    CrmUnavailable(String),
    #[error("storage: {0}")]
    Storage(String),
}
