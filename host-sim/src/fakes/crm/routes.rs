//! How the fake CRM answers a request: first the gate every call passes
//! (the credential, the token's scopes, the rate limits, injected faults
//! and lost answers), then the route to the module of the resource asked
//! for (contacts, properties, timeline, custom events, calls, marketing
//! events, workflow actions).

use std::time::Duration;

use serde_json::{Value, json};

use super::{
    FakeCrm, FakeRequest, FakeResponse, FakeService, Fault, State, action_definitions, bearer,
    calls, contacts, engagements, events, page, schema, scopes,
};

impl FakeCrm {
    /// The request's resource, by its path's first segments.
    fn route(&self, state: &mut State, request: &FakeRequest) -> FakeResponse {
        let path = request.path().trim_matches('/').to_owned();
        let segments: Vec<&str> = path.split('/').collect();
        let now = self.clock.now_ms();
        let method = request.method.as_str();
        match segments.as_slice() {
            ["crm", "v3", "objects", "contacts", ..] => {
                contacts::route(state, request, &segments[4..], now)
            }
            ["crm", "v3", "properties", ..] => properties(state, request, &segments[3..]),
            _ if timeline_path(&segments) => timeline(state, request, &segments, now),
            ["crm", "v3", "owners"] if method == "GET" => owners(state, request),
            ["events", "v3", ..] => events::route(state, request, &segments[2..], now),
            ["crm", "v3", "objects", "calls", ..] => {
                calls::route(state, request, &segments[4..], now)
            }
            [
                "crm",
                "v4",
                "associations",
                "contacts",
                "calls",
                "batch",
                "read",
            ] if method == "POST" => calls::associated_calls(state, request, now),
            ["marketing", "v3", "marketing-events", ..] => {
                engagements::marketing_events(state, request, &segments[3..], now)
            }
            ["automation", "v4", "actions", ..] => automation(state, request, &segments, now),
            _ => no_route(state, request),
        }
    }
}

/// The 404 for a path or method the fake CRM has no route for.
fn no_route(state: &mut State, request: &FakeRequest) -> FakeResponse {
    state.error(
        404,
        "OBJECT_NOT_FOUND",
        &format!("No route for {} {}", request.method, request.path()),
    )
}

/// `/crm/v3/properties/{contacts|calls}[/groups]`: the property groups and
/// properties of contacts and calls (`rest` after `properties`).
fn properties(state: &mut State, request: &FakeRequest, rest: &[&str]) -> FakeResponse {
    match (request.method.as_str(), rest) {
        ("POST", [object @ ("contacts" | "calls"), "groups"]) => {
            schema::create_group(state, object, request)
        }
        ("GET", [object @ ("contacts" | "calls"), "groups"]) => {
            let groups: Vec<Value> = state.schema(object).0.values().cloned().collect();
            FakeResponse::json(200, &json!({ "results": groups }))
        }
        ("POST", [object @ ("contacts" | "calls")]) => {
            schema::create_property(state, object, request)
        }
        ("GET", [object @ ("contacts" | "calls")]) => {
            let properties: Vec<Value> = state.schema(object).1.values().cloned().collect();
            FakeResponse::json(200, &json!({ "results": properties }))
        }
        _ => no_route(state, request),
    }
}

/// A timeline call (see [`timeline_path`]): its event templates and
/// events, or a 403 for an app without timeline access (R10).
fn timeline(state: &mut State, request: &FakeRequest, segments: &[&str], now: i64) -> FakeResponse {
    if state.timeline_refused {
        return state.error(
            403,
            "FORBIDDEN",
            "This app does not have access to timeline events: timeline event templates are open only to app partners whose public app already defines them.",
        );
    }
    match (request.method.as_str(), segments) {
        (
            "GET",
            ["crm", "v3", "timeline", app_id, "event-templates"]
            | ["integrators", "timeline", "v3", app_id, "event-templates"],
        ) => FakeResponse::json(
            200,
            &json!({ "results": state.event_templates.get(*app_id).cloned().unwrap_or_default() }),
        ),
        (
            "POST",
            ["crm", "v3", "timeline", app_id, "event-templates"]
            | ["integrators", "timeline", "v3", app_id, "event-templates"],
        ) => schema::create_event_template(state, app_id, request),
        (
            _,
            ["crm", "v3", "timeline", "events", ..]
            | ["integrators", "timeline", "v3", "events", ..],
        ) => engagements::timeline(state, request, &segments[4..], now),
        _ => no_route(state, request),
    }
}

/// `/automation/v4/actions/...`: the workflow engine's callbacks and the
/// custom action definitions (R21).
fn automation(
    state: &mut State,
    request: &FakeRequest,
    segments: &[&str],
    now: i64,
) -> FakeResponse {
    match (request.method.as_str(), segments) {
        (
            "POST",
            [
                "automation",
                "v4",
                "actions",
                "callbacks",
                callback_id,
                "complete",
            ],
        ) => state.complete_callback(callback_id, request, now),
        (_, ["automation", "v4", "actions", app_id, rest @ ..])
            if action_definitions::is_definition_path(segments) =>
        {
            state.action_definitions(request, app_id, rest, now)
        }
        _ => no_route(state, request),
    }
}

/// A timeline call, templates or events, at either of HubSpot's paths
/// (`/crm/v3/timeline/...` in the older reference, `/integrators/timeline/v3/...`
/// in HubSpot's current client).
fn timeline_path(segments: &[&str]) -> bool {
    matches!(
        segments,
        ["crm", "v3", "timeline", ..] | ["integrators", "timeline", "v3", ..]
    )
}

/// A timeline template call: managed with the developer account's API key.
fn template_path(segments: &[&str]) -> bool {
    timeline_path(segments) && segments.get(4) == Some(&"event-templates")
}

fn owners(state: &mut State, request: &FakeRequest) -> FakeResponse {
    FakeResponse::json(200, &page(request, &state.owners, 100, 500))
}

impl FakeService for FakeCrm {
    /// Every answer carries the app's ten-second usage as HubSpot sends it
    /// (`X-HubSpot-RateLimit-Max`, `-Remaining`, `-Interval-Milliseconds`:
    /// developers.hubspot.com/docs/api/usage-details, "Rate limit headers");
    /// the daily headers are left out: the fake keeps no
    /// daily count (a 429 `DAILY` says it instead).
    fn handle(&self, request: &FakeRequest) -> FakeResponse {
        let mut answer = self.answer(request);
        if let Some((max, remaining, interval)) =
            self.general.usage(&self.access_token, self.clock.now_ms())
        {
            answer.headers.extend([
                ("x-hubspot-ratelimit-max".to_owned(), max.to_string()),
                (
                    "x-hubspot-ratelimit-remaining".to_owned(),
                    remaining.to_string(),
                ),
                (
                    "x-hubspot-ratelimit-interval-milliseconds".to_owned(),
                    interval.to_string(),
                ),
            ]);
        }
        answer
    }

    fn inspect(&self, request: &FakeRequest) -> Option<FakeResponse> {
        self.inspection(request)
    }
}

impl FakeCrm {
    fn answer(&self, request: &FakeRequest) -> FakeResponse {
        let latency = Duration::from_millis(self.faults.plan().latency_ms);
        let now = self.clock.now_ms();
        let mut state = self.lock();
        let path = request.path().trim_matches('/').to_owned();
        let segments: Vec<&str> = path.split('/').collect();
        // Timeline templates are the developer account's, managed with its
        // API key in `hapikey` (HubSpot's client sends nothing else for
        // them); an app's access token is refused there (API-NOTES,
        // "Timeline events are closed to new apps"). The docs do not say
        // with what: a 401, as for a missing credential (the harsher
        // reading: a client that tries its token learns nothing more).
        // Workflow action definitions likewise (R21, `action_definitions.rs`).
        let templates = template_path(&segments);
        let developer_call = templates || action_definitions::is_definition_path(&segments);
        if developer_call {
            if request.query_param("hapikey").as_deref() != Some(self.developer_api_key.as_str()) {
                let what = if templates {
                    "Timeline event templates are"
                } else {
                    "Custom workflow action definitions are"
                };
                return state.error(
                    401,
                    "INVALID_AUTHENTICATION",
                    &format!("{what} managed with the developer account's API key (hapikey); an app's access token cannot manage them."),
                );
            }
        } else if bearer(request.header("authorization")) != Some(self.access_token.as_str()) {
            return state.error(
                401,
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
            );
        }
        if let (false, Some(granted), Some(scope)) = (
            developer_call,
            &state.granted_scopes,
            scopes::required(request.method.as_str(), &segments),
        ) && !granted.contains(scope)
        {
            state.correlation += 1;
            let correlation = format!("00000000-0000-4000-8000-{:012x}", state.correlation);
            return FakeResponse::json(403, &scopes::missing(scope, &correlation));
        }
        let fault = self.faults.draw();
        if !self.general.admit(&self.access_token, now) || fault == Fault::RateLimited {
            let mut body = state.error_body(
                "RATE_LIMITS",
                "You have reached your ten_secondly_rolling limit.",
            );
            body["errorType"] = json!("RATE_LIMIT");
            body["policyName"] = json!("TEN_SECONDLY_ROLLING");
            return FakeResponse::json(429, &body).delayed(latency);
        }
        if request.path().ends_with("/search") && !self.search.admit(&self.access_token, now) {
            let mut body = state.error_body("RATE_LIMITS", "You have reached your secondly limit.");
            body["errorType"] = json!("RATE_LIMIT");
            body["policyName"] = json!("SECONDLY");
            return FakeResponse::json(429, &body).delayed(latency);
        }
        if self.answer_lost(request.path()) {
            self.route(&mut state, request);
            return FakeResponse::timeout(Duration::ZERO);
        }
        let answer = match fault {
            Fault::ServerError => state.error(502, "INTERNAL_ERROR", "Bad Gateway"),
            Fault::Timeout => {
                // Done, but the answer never arrives.
                self.route(&mut state, request);
                return FakeResponse::timeout(self.faults.plan().timeout());
            }
            Fault::None | Fault::RateLimited => self.route(&mut state, request),
        };
        answer.delayed(latency)
    }
}
