//! Fake Zoom: Server-to-Server OAuth (`zoom.us`) and REST v2 (`api.zoom.us`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{basic_credentials, bearer, form_pairs};
use crate::outbound::{FakeRequest, FakeResponse, FakeService};

pub const OAUTH_HOST: &str = "zoom.us";
pub const API_HOST: &str = "api.zoom.us";

/// The Server-to-Server OAuth app the fake accepts.
#[derive(Debug, Clone)]
pub struct ZoomApp {
    pub account_id: String,
    pub client_id: String,
    pub client_secret: String,
}

pub struct FakeZoom {
    app: ZoomApp,
    token_lifetime: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    tokens: HashMap<String, Instant>,
    issued: u64,
}

/// Zoom's error body: `{"code": ..., "message": ...}`.
fn zoom_error(status: u16, code: u32, message: &str) -> FakeResponse {
    FakeResponse::json(status, &json!({ "code": code, "message": message }))
}

impl FakeZoom {
    pub fn new(app: ZoomApp) -> Self {
        Self {
            app,
            token_lifetime: Duration::from_secs(3600),
            state: Mutex::new(State::default()),
        }
    }

    /// Tokens expire after `lifetime` (Zoom: one hour).
    pub fn with_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    fn oauth_token(&self, request: &FakeRequest) -> FakeResponse {
        if request.method != http::Method::POST || request.path() != "/oauth/token" {
            return zoom_error(404, 404, "Not found");
        }
        let credentials = basic_credentials(request.header("authorization"));
        if credentials != Some((self.app.client_id.clone(), self.app.client_secret.clone())) {
            return FakeResponse::json(
                400,
                &json!({ "reason": "Invalid client_id or client_secret", "error": "invalid_client" }),
            );
        }
        // Zoom takes the grant in the query string; a form body works too.
        let mut params = request.query();
        params.extend(form_pairs(&request.body));
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        if param("grant_type") != Some("account_credentials") {
            return FakeResponse::json(
                400,
                &json!({ "reason": "Unsupported grant type", "error": "unsupported_grant_type" }),
            );
        }
        if param("account_id") != Some(self.app.account_id.as_str()) {
            return FakeResponse::json(
                400,
                &json!({ "reason": "Invalid account_id", "error": "invalid_request" }),
            );
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.issued += 1;
        let token = format!("fake-zoom-token-{}", state.issued);
        state
            .tokens
            .insert(token.clone(), Instant::now() + self.token_lifetime);
        FakeResponse::json(
            200,
            &json!({
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.token_lifetime.as_secs(),
                "scope": "webinar:read:admin webinar:write:admin report:read:admin recording:read:admin user:read:admin",
                "api_url": "https://api.zoom.us",
            }),
        )
    }

    fn api(&self, request: &FakeRequest) -> FakeResponse {
        let token = bearer(request.header("authorization"));
        let valid = {
            let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            token
                .and_then(|t| state.tokens.get(t))
                .is_some_and(|expires| *expires > Instant::now())
        };
        if !valid {
            return zoom_error(401, 124, "Invalid access token.");
        }
        zoom_error(
            404,
            300,
            &format!("The API {} is not served by the fake yet.", request.path()),
        )
    }
}

impl FakeService for FakeZoom {
    fn handle(&self, request: &FakeRequest) -> FakeResponse {
        match request.uri.host() {
            Some(OAUTH_HOST) => self.oauth_token(request),
            _ => self.api(request),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn zoom() -> FakeZoom {
        FakeZoom::new(ZoomApp {
            account_id: "acct".into(),
            client_id: "id".into(),
            client_secret: "secret".into(),
        })
    }

    fn request(method: http::Method, uri: &str, authorization: Option<String>) -> FakeRequest {
        let mut headers = http::HeaderMap::new();
        if let Some(a) = authorization {
            headers.insert("authorization", a.parse().unwrap());
        }
        FakeRequest {
            method,
            uri: uri.parse().unwrap(),
            headers,
            body: bytes::Bytes::new(),
        }
    }

    fn basic(user: &str, password: &str) -> Option<String> {
        Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        ))
    }

    const TOKEN_URL: &str =
        "https://zoom.us/oauth/token?grant_type=account_credentials&account_id=acct";

    #[test]
    fn oauth_issues_a_bearer_token_for_the_right_credentials() {
        let answer = zoom().handle(&request(
            http::Method::POST,
            TOKEN_URL,
            basic("id", "secret"),
        ));
        assert_eq!(answer.status, 200);
        let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(body["token_type"], "bearer");
        assert_eq!(body["expires_in"], 3600);
    }

    #[test]
    fn oauth_refuses_wrong_credentials_and_accounts_like_zoom() {
        let zoom = zoom();
        let wrong = zoom.handle(&request(http::Method::POST, TOKEN_URL, basic("id", "nope")));
        assert_eq!(wrong.status, 400);
        assert!(String::from_utf8_lossy(&wrong.body).contains("invalid_client"));
        let other_account = zoom.handle(&request(
            http::Method::POST,
            "https://zoom.us/oauth/token?grant_type=account_credentials&account_id=other",
            basic("id", "secret"),
        ));
        assert_eq!(other_account.status, 400);
    }

    #[test]
    fn the_api_refuses_missing_wrong_and_expired_tokens_with_code_124() {
        let zoom = zoom().with_token_lifetime(Duration::ZERO);
        let issued = zoom.handle(&request(
            http::Method::POST,
            TOKEN_URL,
            basic("id", "secret"),
        ));
        let token =
            serde_json::from_slice::<serde_json::Value>(&issued.body).unwrap()["access_token"]
                .as_str()
                .unwrap()
                .to_owned();
        for authorization in [
            None,
            Some("Bearer wrong".to_owned()),
            Some(format!("Bearer {token}")),
        ] {
            let answer = zoom.handle(&request(
                http::Method::GET,
                "https://api.zoom.us/v2/users",
                authorization,
            ));
            assert_eq!(answer.status, 401);
            assert_eq!(
                serde_json::from_slice::<serde_json::Value>(&answer.body).unwrap()["code"],
                124
            );
        }
    }
}
