//! The Zoom REST client (Server-to-Server OAuth, REST v2).

use base64::Engine as _;

use super::http::{HttpClient, Method, Request};
use super::{Config, PluginError, keys, required};

pub const OAUTH_TOKEN_URL: &str = "https://zoom.us/oauth/token";
pub const API_BASE: &str = "https://api.zoom.us/v2";

/// A Server-to-Server OAuth access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub token: String,
    pub expires_in_s: u64,
}

/// Gets an access token with the account credentials grant. Zoom issues no
/// refresh token: a new one is requested when the old one expires.
pub fn fetch_token(http: &dyn HttpClient, config: &dyn Config) -> Result<AccessToken, PluginError> {
    let account_id = required(config, keys::ZOOM_ACCOUNT_ID)?;
    let client_id = required(config, keys::ZOOM_CLIENT_ID)?;
    let client_secret = required(config, keys::ZOOM_CLIENT_SECRET)?;
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{client_secret}"));
    // Zoom documents the grant in the query string.
    let url = format!("{OAUTH_TOKEN_URL}?grant_type=account_credentials&account_id={account_id}");
    let request = Request::new(Method::Post, url)
        .header("authorization", format!("Basic {basic}"))
        .header("content-type", "application/x-www-form-urlencoded");
    let response = http.send(request).map_err(|e| {
        PluginError::ZoomUnavailable(format!("could not reach Zoom's OAuth endpoint: {e}"))
    })?;
    if response.status == 400 || response.status == 401 {
        return Err(PluginError::Configuration(format!(
            "Zoom refused the Server-to-Server OAuth credentials ({}): check zoom.account-id, zoom.client-id and zoom.client-secret against the Zoom app",
            response.error_message()
        )));
    }
    if !response.is_success() {
        return Err(PluginError::ZoomUnavailable(format!(
            "Zoom's OAuth endpoint answered {}: {}",
            response.status,
            response.error_message()
        )));
    }
    let json = response.json().unwrap_or_default();
    match json.get("access_token").and_then(|t| t.as_str()) {
        Some(token) => Ok(AccessToken {
            token: token.to_owned(),
            expires_in_s: json
                .get("expires_in")
                .and_then(|e| e.as_u64())
                .unwrap_or(3600),
        }),
        None => Err(PluginError::ZoomUnavailable(
            "Zoom's OAuth answer has no access_token".into(),
        )),
    }
}
