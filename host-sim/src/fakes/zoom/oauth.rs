//! Zoom's Server-to-Server OAuth (`POST zoom.us/oauth/token` with the
//! app's Basic credentials, `grant_type=account_credentials` and the
//! account id) and the check of the tokens it issues.

use serde_json::json;

use super::{ALL_SCOPES, FakeZoom, basic_credentials, bearer, form_pairs};
use crate::outbound::{FakeRequest, FakeResponse};

impl FakeZoom {
    pub(super) fn oauth_token(&self, request: &FakeRequest) -> FakeResponse {
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
        let mut state = self.lock();
        state.issued += 1;
        let token = format!("fake-zoom-token-{}", state.issued);
        let expires = self.clock.now_ms() + self.token_lifetime.as_millis() as i64;
        state.tokens.insert(token.clone(), expires);
        FakeResponse::json(
            200,
            &json!({
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.token_lifetime.as_secs(),
                "scope": state.account.scopes.as_ref().map_or(ALL_SCOPES.to_owned(), |s| s.join(" ")),
                "api_url": "https://api.zoom.us",
            }),
        )
    }

    pub(super) fn token_valid(&self, request: &FakeRequest) -> bool {
        let token = bearer(request.header("authorization"))
            .map(str::to_owned)
            .or_else(|| request.query_param("access_token"));
        let now = self.clock.now_ms();
        let state = self.lock();
        token
            .and_then(|t| state.tokens.get(&t).copied())
            .is_some_and(|expires| expires > now)
    }
}
