//! The fake CRM's inspection route (`fake_server::INSPECT_PREFIX`): what it
//! holds, for `host-sim crm ...` against a `host-sim fakes` process. Not a
//! HubSpot API: HubSpot has no call that returns a portal's records at
//! once. It takes the same credential as the CRM's record APIs, the
//! access token as `Bearer` (see `fake_server.rs` for why).

use super::{FakeCrm, bearer};
use crate::outbound::{FakeRequest, FakeResponse};

impl FakeCrm {
    /// `GET dump`: [`FakeCrm::dump`] as JSON; 401 without the access token.
    pub(crate) fn inspection(&self, request: &FakeRequest) -> Option<FakeResponse> {
        if request.method != http::Method::GET || request.path().trim_matches('/') != "dump" {
            return None;
        }
        if bearer(request.header("authorization")) != Some(self.access_token.as_str()) {
            let mut state = self.lock();
            return Some(state.error(
                401,
                "INVALID_AUTHENTICATION",
                "The fake CRM's records are shown to its access token only: send it as `authorization: Bearer TOKEN` (crm.access_token).",
            ));
        }
        Some(FakeResponse::json(200, &self.dump()))
    }
}
