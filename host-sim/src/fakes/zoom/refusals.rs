//! Zoom's refusals that are not about the account's data (issue 18): a
//! scope the app no longer has, and codes a test asks for.
//!
//! **Scopes.** Each API the plugin calls needs its classic scope or its
//! granular one (<https://developers.zoom.us/docs/integrations/oauth-scopes-overview/>;
//! the endpoint pages' "Scopes" and "Granular Scopes"). Without it Zoom
//! answers 400 with code 4711, "Invalid access token, does not contain
//! scopes:[...]" naming the scopes it wanted (as reported in
//! JubaerHossain/zoom-laravel issue 15 and lanec/zoom-batch-downloader
//! issue 34; Zoom's error page lists the same text as code 4700). The
//! fake checks only when the account's scopes are set (a scenario's
//! `zoom.scopes`, [`FakeZoom::remove_scope`]). Zoom does not say whether a
//! token issued before a scope was removed keeps it: the harsher reading,
//! it does not (the removal holds at once, for every token).
//!
//! **Test refusals.** [`FakeZoom::refuse`] answers the requests under a
//! path with a given Zoom error: codes such as 1010 ("User does not belong
//! to this account") or 200 ("No permission") that the account model does
//! not produce by itself.

use super::*;

/// The classic and the granular scope that grant a request (either does);
/// none for a request that needs no scope here.
pub fn needed(method: &str, segments: &[&str]) -> Option<(&'static str, &'static str)> {
    let scopes = match (method, segments) {
        ("GET", ["v2", "users"]) => ("user:read:admin", "user:read:list_users:admin"),
        ("GET", ["v2", "users", _, "webinars"]) => {
            ("webinar:read:admin", "webinar:read:list_webinars:admin")
        }
        ("GET", ["v2", "webinars", _]) => ("webinar:read:admin", "webinar:read:webinar:admin"),
        // The questions' own granular scope is not documented where the
        // plugin's README looks: the registrants' is taken.
        ("GET", ["v2", "webinars", _, "registrants"])
        | ("GET", ["v2", "webinars", _, "registrants", "questions"]) => {
            ("webinar:read:admin", "webinar:read:list_registrants:admin")
        }
        ("POST", ["v2", "webinars", _, "registrants"]) => {
            ("webinar:write:admin", "webinar:write:registrant:admin")
        }
        ("GET", ["v2", "report", "webinars", _]) => {
            ("report:read:admin", "report:read:webinar:admin")
        }
        ("GET", ["v2", "report", "webinars", _, "participants"]) => (
            "report:read:admin",
            "report:read:list_webinar_participants:admin",
        ),
        ("GET", ["v2", "meetings", _, "recordings"]) => (
            "recording:read:admin",
            "cloud_recording:read:list_recording_files:admin",
        ),
        ("GET", ["v2", "metrics", "webinars"]) => (
            "dashboard_webinars:read:admin",
            "dashboard:read:list_webinars:admin",
        ),
        ("GET", ["v2", "zoom_events", "events"]) => (
            "zoom_events:read:admin",
            "zoom_events:read:list_events:admin",
        ),
        ("GET", ["v2", "zoom_events", "events", _, "sessions"]) => (
            "zoom_events:read:admin",
            "zoom_events:read:list_sessions:admin",
        ),
        _ => return None,
    };
    Some(scopes)
}

impl FakeZoom {
    /// The Zoom app loses `scope` (an admin removed it in the app's Scopes
    /// page after install); the account's scopes become every scope the
    /// plugin uses but this one when none were set.
    pub fn remove_scope(&self, scope: &str) {
        let mut state = self.lock();
        let scopes = state
            .account
            .scopes
            .get_or_insert_with(|| ALL_SCOPES.split(' ').map(str::to_owned).collect());
        scopes.retain(|s| s != scope);
    }

    /// Requests whose path (under `api.zoom.us`) starts with `prefix` are
    /// answered `status` with Zoom's error body `{code, message}`.
    pub fn refuse(&self, prefix: &str, status: u16, code: u32, message: &str) {
        self.lock()
            .refusals
            .push((prefix.to_owned(), status, code, message.to_owned()));
    }

    /// Zoom's refusal of an API request with a valid token, if any: a test
    /// refusal, or a scope the app lacks.
    pub(super) fn refused(
        &self,
        request: &FakeRequest,
        method: &str,
        segments: &[&str],
    ) -> Option<FakeResponse> {
        let state = self.lock();
        if let Some((_, status, code, message)) = state
            .refusals
            .iter()
            .find(|(prefix, ..)| request.path().starts_with(prefix.as_str()))
        {
            return Some(zoom_error(*status, *code, message));
        }
        let granted = state.account.scopes.as_ref()?;
        let (classic, granular) = needed(method, segments)?;
        if granted.iter().any(|s| s == classic || s == granular) {
            return None;
        }
        Some(zoom_error(
            400,
            4711,
            &format!("Invalid access token, does not contain scopes:[{granular}, {classic}]."),
        ))
    }
}
