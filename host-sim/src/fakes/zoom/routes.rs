//! How the fake Zoom answers a request: the faults it injects, the OAuth
//! and storage hosts, then for the REST API the token, the refusals
//! (plans, scopes, throttles), the rate limit of the call's category and
//! the route to the module of the resource asked for.

use std::time::Duration;

use serde_json::{Value, json};

use super::registrants::questions_json;
use super::{
    FakeZoom, Fault, MAX_USERS_PAGE_SIZE, OAUTH_HOST, STORAGE_HOST, per_second_limited,
    rate_limited, user_json, webinar_json, zoom_error,
};
use crate::outbound::{FakeRequest, FakeResponse, FakeService};

impl FakeZoom {
    fn api(&self, request: &FakeRequest) -> FakeResponse {
        if !self.token_valid(request) {
            return zoom_error(401, 124, "Invalid access token.");
        }
        let segments: Vec<&str> = request.path().trim_matches('/').split('/').collect();
        let method = request.method.as_str();
        let (limiter, category, per_second) = match (method, segments.as_slice()) {
            ("GET", ["v2", "report", ..])
            | ("GET", ["v2", "past_webinars", ..])
            | ("GET", ["v2", "meetings", _, "recordings"])
            // Zoom labels the Dashboard "resource-intensive", counted with Heavy.
            | ("GET", ["v2", "metrics", ..]) => {
                (&self.heavy, "Heavy", self.limits.heavy)
            }
            ("GET", ["v2", "webinars", _, "registrants"])
            | ("GET", ["v2", "users", _, "webinars"]) => {
                (&self.medium, "Medium", self.limits.medium)
            }
            _ => (&self.light, "Light", self.limits.light),
        };
        if let Some(refused) = self.refused(request, method, &segments) {
            return refused;
        }
        if let Some(refused) = self.refusal(request, category) {
            return refused;
        }
        if !limiter.admit(category, self.clock.now_ms()) {
            return per_second_limited(
                category,
                &[
                    ("X-RateLimit-Limit", &per_second.to_string()),
                    ("X-RateLimit-Remaining", "0"),
                ],
            );
        }
        let answer = self.route_api(request, method, &segments);
        rate_limited(answer, &[("X-RateLimit-Category", category)])
    }

    fn route_api(&self, request: &FakeRequest, method: &str, segments: &[&str]) -> FakeResponse {
        match (method, segments) {
            ("GET", ["v2", "users"]) => {
                let users = self.lock().account.users.iter().map(user_json).collect();
                self.page(request, "users", users, MAX_USERS_PAGE_SIZE, "users")
            }
            ("GET", ["v2", "users", user, "webinars"]) => self.list_webinars(request, user),
            ("GET", ["v2", "webinars", id]) => {
                self.with_webinar(id, |w, a| FakeResponse::json(200, &webinar_json(w, a)))
            }
            ("GET", ["v2", "webinars", id, "registrants"]) => self.list_registrants(request, id),
            ("POST", ["v2", "webinars", id, "registrants"]) => self.add_registrant(request, id),
            ("GET", ["v2", "webinars", id, "registrants", "questions"]) => {
                self.with_webinar(id, |w, _| FakeResponse::json(200, &questions_json(w)))
            }
            ("PUT", ["v2", "webinars", id, "registrants", "status"]) => {
                self.update_registrant_status(request, id)
            }
            ("GET", ["v2", "past_webinars", id, "instances"]) => self.with_webinar(id, |w, _| {
                let instances: Vec<Value> = w
                    .ran
                    .iter()
                    .map(|ran| json!({ "uuid": w.uuid, "start_time": ran.start_time }))
                    .collect();
                FakeResponse::json(200, &json!({ "webinars": instances }))
            }),
            ("GET", ["v2", "report", "webinars", id]) => self.details_report(id),
            ("GET", ["v2", "report", "webinars", id, "participants"]) => {
                self.participants_report(request, id)
            }
            ("GET", ["v2", "meetings", id, "recordings"]) => self.recordings(id),
            ("GET", ["v2", "metrics", "webinars"]) => self.metrics_webinars(request),
            ("GET", ["v2", "zoom_events", "events"]) => self.zoom_events(request),
            ("GET", ["v2", "zoom_events", "events", event, "sessions"]) => {
                self.zoom_event_sessions(event)
            }
            _ => zoom_error(
                404,
                300,
                &format!("Invalid api {} {}", request.method, request.path()),
            ),
        }
    }
}

impl FakeService for FakeZoom {
    fn also_serves(&self) -> &'static [&'static str] {
        &[STORAGE_HOST]
    }

    fn handle(&self, request: &FakeRequest) -> FakeResponse {
        let latency = Duration::from_millis(self.faults.plan().latency_ms);
        let answer = match self.faults.draw() {
            Fault::ServerError => {
                zoom_error(503, 503, "Service Unavailable. Please try again later.")
            }
            Fault::Timeout => return FakeResponse::timeout(self.faults.plan().timeout()),
            Fault::RateLimited => zoom_error(
                429,
                429,
                "You have reached the maximum per-second rate limit for this API. Try again later.",
            ),
            Fault::None => match (request.uri.host(), request.path()) {
                (Some(OAUTH_HOST), "/oauth/token") if request.method == http::Method::POST => {
                    self.oauth_token(request)
                }
                (Some(OAUTH_HOST), path) if path.starts_with("/rec/download/") => {
                    self.download(request)
                }
                (Some(OAUTH_HOST), _) => zoom_error(404, 404, "Not found"),
                (Some(STORAGE_HOST), _) if request.method == http::Method::GET => {
                    self.storage(request)
                }
                (Some(STORAGE_HOST), _) => zoom_error(405, 405, "Method not allowed"),
                _ => self.api(request),
            },
        };
        answer.delayed(latency)
    }
}
