//! The CRM client. It speaks HubSpot's CRM v3 shapes; another CRM would be
//! another client behind the same calls. Activity events (R10) and their
//! backends are in `activity`.

pub mod activity;
mod calls;
mod contacts;
mod marketing;
pub mod workflow_action;

use serde_json::json;

use super::http::{Headers, HttpClient, Method, Patience, Request, Response};
use super::ports::{Crm, Refused};
use super::{Config, PluginError, keys, required};
use crate::core::definitions::{PropertyDefinition, PropertyGroup, PropertyType};

pub const API_BASE: &str = "https://api.hubapi.com";

/// Whether a create call made the object or found it there already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// Made now; for timeline templates, the CRM's template id.
    New(String),
    AlreadyExists(String),
}

pub struct CrmClient<'a> {
    http: &'a dyn HttpClient,
    access_token: String,
    patience: Patience,
    /// R32: the last answer said the ten-second window has no request
    /// left (`X-HubSpot-RateLimit-Remaining: 0`): the next request first
    /// waits this long (`-Interval-Milliseconds`), instead of being refused.
    hold_ms: std::cell::Cell<Option<u64>>,
}

impl<'a> CrmClient<'a> {
    pub fn connect(http: &'a dyn HttpClient, config: &dyn Config) -> Result<Self, PluginError> {
        Ok(Self {
            http,
            access_token: required(config, keys::CRM_ACCESS_TOKEN)?,
            patience: Patience::default(),
            hold_ms: std::cell::Cell::new(None),
        })
    }

    fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<Response, PluginError> {
        let mut request = Request::new(method, format!("{API_BASE}{path}"))
            .header("authorization", format!("Bearer {}", self.access_token));
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(ms) = self.hold_ms.take() {
            // Past the patience the request goes anyway: a 429 then ends
            // the run the usual way.
            self.patience.hold(self.http, ms);
        }
        let (response, headers) = self
            .http
            .send_with_headers(request)
            .map_err(|e| PluginError::CrmUnavailable(format!("could not reach the CRM: {e}")))?;
        self.hold_ms.set(window_spent(&headers));
        if response.status == 403
            && let Some(scopes) = response.json().as_ref().and_then(missing_scopes)
        {
            return Err(PluginError::Configuration(format!(
                "the CRM app lacks the scope(s) {scopes}: add them to the app and install again (the README lists the scopes of each capability)"
            )));
        }
        if response.status == 401 || response.status == 403 {
            return Err(PluginError::Configuration(format!(
                "the CRM refused the access token ({}): check crm.access-token and the app's scopes",
                response.error_message()
            )));
        }
        Ok(response)
    }

    /// Creates, or 409 means it is there already.
    fn create(
        &self,
        path: &str,
        body: serde_json::Value,
        what: &str,
    ) -> Result<Created, PluginError> {
        let response = self.send(Method::Post, path, Some(body))?;
        match response.status {
            200..=299 => Ok(Created::New(
                response
                    .json()
                    .and_then(|j| j.get("id").and_then(id_string))
                    .unwrap_or_default(),
            )),
            409 => Ok(Created::AlreadyExists(String::new())),
            status => Err(PluginError::CrmUnavailable(format!(
                "creating {what} failed with {status}: {}",
                response.error_message()
            ))),
        }
    }

    /// `object`: the CRM object type, `contacts` or `calls`.
    pub fn create_property_group(
        &self,
        object: &str,
        group: &PropertyGroup,
    ) -> Result<Created, PluginError> {
        self.create(
            &format!("/crm/v3/properties/{object}/groups"),
            json!({ "name": group.name, "label": group.label, "displayOrder": -1 }),
            &format!("property group {}", group.name),
        )
    }

    pub fn create_property(
        &self,
        object: &str,
        property: &PropertyDefinition,
        group: &str,
    ) -> Result<Created, PluginError> {
        self.create(
            &format!("/crm/v3/properties/{object}"),
            json!({
                "name": property.name,
                "label": property.label,
                "description": property.description,
                "groupName": group,
                "type": property_type(property.property_type),
                "fieldType": property.property_type.field_type(),
            }),
            &format!(
                "{} property {}",
                object.trim_end_matches('s'),
                property.name
            ),
        )
    }
}

/// CRM ids come as strings or numbers depending on the endpoint.
fn id_string(id: &serde_json::Value) -> Option<String> {
    match id {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn property_type(t: PropertyType) -> &'static str {
    match t {
        PropertyType::Number => "number",
        PropertyType::Text => "string",
        PropertyType::Datetime => "datetime",
        PropertyType::Enumeration => "enumeration",
    }
}

/// The CRM app id, for calls scoped to the app (timeline templates).
pub fn app_id(config: &dyn Config) -> Result<String, PluginError> {
    required(config, keys::CRM_APP_ID)
}

/// The CRM's batch limit (R31).
pub const BATCH_SIZE: usize = 100;

/// A batch call's answer: what went through, and the per-item errors of a 207.
///
/// HubSpot does not promise that `results` (or `errors`) follow the order
/// of `inputs` (its client maintainers say so: hubspot-api-nodejs issue
/// 190), so nothing here pairs a result with an input by position: a
/// result names its input by the `objectWriteTraceId` the input carried
/// (echoed in the result) or by a unique property; an error by its
/// `context` or, without one, its message.
#[derive(Debug, Default)]
struct BatchAnswer {
    results: Vec<serde_json::Value>,
    errors: Vec<serde_json::Value>,
}

impl BatchAnswer {
    /// The ids or emails an error's `context` names.
    fn error_subjects(error: &serde_json::Value) -> Vec<String> {
        let Some(context) = error.get("context").and_then(|c| c.as_object()) else {
            return Vec::new();
        };
        context
            .values()
            .filter_map(|v| v.as_array())
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned).or_else(|| id_string(v)))
            .collect()
    }

    fn message(error: &serde_json::Value) -> &str {
        error
            .get("message")
            .and_then(|m| m.as_str())
            .unwrap_or("refused")
    }

    /// [`failed`](Self::failed) as the port says it.
    fn refused<'i>(&self, identities: impl IntoIterator<Item = &'i str>) -> Refused {
        Refused(self.failed(identities))
    }

    /// The first error's reason (errors are sorted: the same whatever
    /// order the CRM answered in).
    fn first_message(&self) -> String {
        self.errors
            .first()
            .map_or("no reason given", Self::message)
            .to_owned()
    }

    /// Which of `identities` (what the inputs are known by: emails, ids,
    /// trace ids) the errors name, each with the CRM's reason: by an
    /// error's `context`, or for an error without one by its message naming
    /// the identity as a whole word. Case-insensitive: emails are.
    fn failed<'i>(
        &self,
        identities: impl IntoIterator<Item = &'i str>,
    ) -> std::collections::BTreeMap<String, String> {
        self.failed_where(identities, |_| true)
    }

    /// [`failed`](Self::failed), counting only the errors `counts` keeps.
    fn failed_where<'i>(
        &self,
        identities: impl IntoIterator<Item = &'i str>,
        counts: impl Fn(&serde_json::Value) -> bool,
    ) -> std::collections::BTreeMap<String, String> {
        let mut named = std::collections::HashMap::new();
        let mut unnamed = Vec::new();
        for error in self.errors.iter().filter(|e| counts(e)) {
            let subjects = Self::error_subjects(error);
            if subjects.is_empty() {
                unnamed.push((Self::message(error).to_ascii_lowercase(), error));
            }
            for subject in subjects {
                named
                    .entry(subject.to_ascii_lowercase())
                    .or_insert_with(|| Self::message(error).to_owned());
            }
        }
        let mut failed = std::collections::BTreeMap::new();
        for identity in identities {
            let key = identity.to_ascii_lowercase();
            let reason = named.get(&key).cloned().or_else(|| {
                unnamed
                    .iter()
                    .find(|(message, _)| names_word(message, &key))
                    .map(|(_, error)| Self::message(error).to_owned())
            });
            if let Some(reason) = reason {
                failed.insert(identity.to_owned(), reason);
            }
        }
        failed
    }

    /// The trace ids of `inputs` (trace id, value of `property`) that a
    /// result answers: by its echoed `objectWriteTraceId`, or by its
    /// `property` (a unique one, e.g. the calls' key), case-insensitively.
    fn answered<'i>(
        &self,
        inputs: impl IntoIterator<Item = (&'i str, &'i str)>,
        property: &str,
    ) -> std::collections::BTreeSet<String> {
        let inputs: Vec<(&str, &str)> = inputs.into_iter().collect();
        let mut answered = std::collections::BTreeSet::new();
        for result in &self.results {
            let by_trace = result
                .get("objectWriteTraceId")
                .and_then(|t| t.as_str())
                .and_then(|t| {
                    inputs
                        .iter()
                        .find(|(trace, _)| trace.eq_ignore_ascii_case(t))
                });
            let by_property = || {
                let value = result.get("properties")?.get(property)?.as_str()?;
                inputs.iter().find(|(_, v)| v.eq_ignore_ascii_case(value))
            };
            if let Some((trace, _)) = by_trace.or_else(by_property) {
                answered.insert((*trace).to_owned());
            }
        }
        answered
    }
}

/// Whether `needle` stands in `text` as a word of its own: not inside a
/// longer email or id (`da@x.example` is not in `ada@x.example`).
fn names_word(text: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    let part = |c: char| c.is_ascii_alphanumeric() || "._%+-@".contains(c);
    text.match_indices(needle).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + needle.len()..].chars().next();
        // A sentence's full stop after an email is not part of it.
        let after_ok = match after {
            None => true,
            Some('.') => text[at + needle.len() + 1..]
                .chars()
                .next()
                .is_none_or(|c| !part(c)),
            Some(c) => !part(c),
        };
        before.is_none_or(|c| !part(c)) && after_ok
    })
}

/// The CRM's daily cap: not worth waiting for inside a call.
fn daily_limit(response: &Response) -> bool {
    response
        .json()
        .is_some_and(|body| body.get("policyName").and_then(|p| p.as_str()) == Some("DAILY"))
}

/// Whether a request that may have been applied is sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resend {
    /// Idempotent writes and reads: a lost answer or a 5xx is sent again.
    Always,
    /// Creates: only a 429, which applied nothing, is sent again.
    OnlyWhatWasNotApplied,
}

impl CrmClient<'_> {
    /// A call that retries 5xx twice and waits out the per-second and
    /// per-10-second rate limits (R32); the daily limit, a 5xx that
    /// persists or a rate limit past the client's patience is
    /// `CrmUnavailable`, and the caller leaves the rest for a later tick.
    fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<Response, PluginError> {
        self.call_with(method, path, body, Resend::Always)
    }

    fn call_with(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        resend: Resend,
    ) -> Result<Response, PluginError> {
        let mut attempts = 0;
        let again = |attempts: u32| resend == Resend::Always && attempts < 3;
        loop {
            attempts += 1;
            let response = match self.send(method, path, body.clone()) {
                Err(PluginError::CrmUnavailable(_)) if again(attempts) => {
                    self.patience.retried();
                    continue;
                }
                other => other?,
            };
            match response.status {
                500..=599 if again(attempts) => {
                    self.patience.retried();
                    continue;
                }
                429 if !daily_limit(&response) && self.patience.wait(self.http) => continue,
                429 => {
                    return Err(PluginError::CrmUnavailable(format!(
                        "the CRM's rate limit was reached ({}); the sync continues on the next tick",
                        response.error_message()
                    )));
                }
                500..=599 => {
                    return Err(PluginError::CrmUnavailable(format!(
                        "the CRM answered {} to {path}: {}",
                        response.status,
                        response.error_message()
                    )));
                }
                _ => return Ok(response),
            }
        }
    }

    /// One batch call of at most 100 inputs; its per-item errors.
    fn batch(
        &self,
        path: &str,
        body: serde_json::Value,
        inputs: Vec<serde_json::Value>,
        what: &str,
    ) -> Result<BatchAnswer, PluginError> {
        self.batch_call(path, body, inputs, what, false, Resend::Always)
    }

    /// One batch call whose results the caller reads too.
    fn batch_with_results(
        &self,
        path: &str,
        body: serde_json::Value,
        inputs: Vec<serde_json::Value>,
        what: &str,
    ) -> Result<BatchAnswer, PluginError> {
        self.batch_call(path, body, inputs, what, true, Resend::Always)
    }

    /// Reads every page of a CRM list or search: `request` makes a page's
    /// request from the cursor of the one before, `each` takes its results.
    fn each_page(
        &self,
        what: &str,
        request: impl Fn(Option<&str>) -> (Method, String, Option<serde_json::Value>),
        mut each: impl FnMut(&serde_json::Value),
    ) -> Result<(), PluginError> {
        let mut after: Option<String> = None;
        loop {
            let (method, path, body) = request(after.as_deref());
            let response = self.call(method, &path, body)?;
            if !response.is_success() {
                return Err(PluginError::CrmUnavailable(format!(
                    "{what} failed with {}: {}",
                    response.status,
                    response.error_message()
                )));
            }
            let page = response.json().unwrap_or_default();
            for result in page["results"].as_array().into_iter().flatten() {
                each(result);
            }
            match page
                .pointer("/paging/next/after")
                .and_then(|a| a.as_str().map(str::to_owned).or_else(|| id_string(a)))
            {
                Some(next) if !next.is_empty() => after = Some(next),
                _ => return Ok(()),
            }
        }
    }

    fn batch_call(
        &self,
        path: &str,
        mut body: serde_json::Value,
        inputs: Vec<serde_json::Value>,
        what: &str,
        with_results: bool,
        resend: Resend,
    ) -> Result<BatchAnswer, PluginError> {
        debug_assert!(inputs.len() <= BATCH_SIZE);
        body["inputs"] = serde_json::Value::Array(inputs);
        let response = self.call_with(Method::Post, path, Some(body), resend)?;
        if !response.is_success() {
            return Err(PluginError::CrmUnavailable(format!(
                "{what} failed with {}: {}",
                response.status,
                response.error_message()
            )));
        }
        // The results echo every record written (a contact's properties, an
        // event's tokens): parsed only when asked for. Skipping them was a
        // large share of a 10,000-person sync's guest instructions.
        #[derive(serde::Deserialize, Default)]
        struct Errors {
            #[serde(default)]
            errors: Vec<serde_json::Value>,
        }
        #[derive(serde::Deserialize, Default)]
        struct Full {
            #[serde(default)]
            results: Vec<serde_json::Value>,
            #[serde(default)]
            errors: Vec<serde_json::Value>,
        }
        let mut answer = if with_results {
            let full: Full = serde_json::from_slice(&response.body).unwrap_or_default();
            BatchAnswer {
                results: full.results,
                errors: full.errors,
            }
        } else {
            let answer: Errors = serde_json::from_slice(&response.body).unwrap_or_default();
            BatchAnswer {
                results: Vec::new(),
                errors: answer.errors,
            }
        };
        // In the CRM's order the errors would make the audit log quote a
        // different first reason from one run to the next.
        answer
            .errors
            .sort_by_cached_key(|e| (BatchAnswer::message(e).to_owned(), e["context"].to_string()));
        Ok(answer)
    }
}

impl Crm for CrmClient<'_> {
    /// The emails of the CRM's users (owners), lowercase (R17).
    fn owner_emails(&self) -> Result<Vec<String>, PluginError> {
        let mut emails = Vec::new();
        self.each_page(
            "listing the CRM's users",
            |after| {
                let path = match after {
                    None => "/crm/v3/owners?limit=500".to_owned(),
                    Some(after) => format!("/crm/v3/owners?limit=500&after={after}"),
                };
                (Method::Get, path, None)
            },
            |owner| {
                if let Some(email) = owner.get("email").and_then(|e| e.as_str()) {
                    emails.push(email.to_ascii_lowercase());
                }
            },
        )?;
        Ok(emails)
    }

    fn retries(&self) -> u32 {
        self.patience.retries()
    }
}

impl CrmClient<'_> {
    /// Finishes a blocked workflow-action execution (R21) with its
    /// `outputFields` (`hs_execution_state` SUCCESS or FAIL_CONTINUE);
    /// HubSpot answers 204 (developers.hubspot.com/docs/api-reference/automation-actions-v4-v4/callbacks/post-automation-v4-actions-callbacks-callbackId-complete).
    /// Completing twice is harmless, so a lost answer is sent again.
    pub fn complete_callback(
        &self,
        callback_id: &str,
        output_fields: serde_json::Value,
    ) -> Result<(), PluginError> {
        let response = self.call(
            Method::Post,
            &format!("/automation/v4/actions/callbacks/{callback_id}/complete"),
            Some(json!({ "outputFields": output_fields })),
        )?;
        if response.is_success() {
            return Ok(());
        }
        Err(PluginError::InvalidInput(format!(
            "completing workflow callback {callback_id} failed with {}: {}",
            response.status,
            response.error_message()
        )))
    }
}

/// How long to wait before the next request when HubSpot's headers say the
/// window is spent (developers.hubspot.com/docs/api/usage-details): its
/// length, since HubSpot's window rolls and names no reset time; at most 10 s.
fn window_spent(headers: &Headers) -> Option<u64> {
    let number = |name: &str| headers.get(name).and_then(|v| v.trim().parse::<u64>().ok());
    (number("x-hubspot-ratelimit-remaining")? == 0).then(|| {
        number("x-hubspot-ratelimit-interval-milliseconds")
            .unwrap_or(10_000)
            .min(10_000)
    })
}

/// The scopes a 403 `MISSING_SCOPES` answer names (HubSpot puts them in
/// `errors[].context.requiredScopes`, newer answers in
/// `requiredGranularScopes`), joined for a person; none for another 403.
fn missing_scopes(body: &serde_json::Value) -> Option<String> {
    if body.get("category").and_then(serde_json::Value::as_str) != Some("MISSING_SCOPES") {
        return None;
    }
    let mut scopes: Vec<&str> = body
        .get("errors")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|e| {
            ["requiredScopes", "requiredGranularScopes"]
                .into_iter()
                .filter_map(|k| e.get("context")?.get(k)?.as_array())
                .flatten()
                .filter_map(serde_json::Value::as_str)
        })
        .collect();
    scopes.sort_unstable();
    scopes.dedup();
    Some(if scopes.is_empty() {
        "the call needs (HubSpot did not name them)".to_owned()
    } else {
        scopes.join(", ")
    })
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};

    use super::*;
    use crate::shell::http::{RATE_LIMIT_PATIENCE_MS, TransportError};

    /// A CRM that answers 429 (with `policy`) a number of times, then 200,
    /// and counts the pauses it was asked for.
    struct RateLimited {
        policy: &'static str,
        refusals: Cell<u32>,
        paused_ms: Cell<u64>,
        requests: RefCell<u32>,
    }

    impl RateLimited {
        fn new(policy: &'static str, refusals: u32) -> Self {
            Self {
                policy,
                refusals: Cell::new(refusals),
                paused_ms: Cell::new(0),
                requests: RefCell::new(0),
            }
        }
    }

    impl HttpClient for RateLimited {
        fn send(&self, _request: Request) -> Result<Response, TransportError> {
            *self.requests.borrow_mut() += 1;
            if self.refusals.get() == 0 {
                return Ok(Response {
                    status: 200,
                    body: br#"{"status":"COMPLETE","results":[]}"#.to_vec(),
                });
            }
            self.refusals.set(self.refusals.get() - 1);
            let body = json!({
                "status": "error",
                "message": "You have reached your ten_secondly_rolling limit.",
                "errorType": "RATE_LIMIT",
                "policyName": self.policy,
            });
            Ok(Response {
                status: 429,
                body: body.to_string().into_bytes(),
            })
        }

        fn pause(&self, ms: u64) {
            self.paused_ms.set(self.paused_ms.get() + ms);
        }
    }

    struct Token;
    impl Config for Token {
        fn get(&self, _key: &str) -> Result<Option<String>, String> {
            Ok(Some("token".into()))
        }
    }

    fn batch(http: &RateLimited) -> Result<BatchAnswer, PluginError> {
        CrmClient::connect(http, &Token).unwrap().batch(
            "/crm/v3/objects/contacts/batch/update",
            json!({}),
            vec![],
            "updating",
        )
    }

    /// Answers 200 with `remaining` requests left in a 10 s window.
    struct Counting {
        remaining: Cell<u32>,
        paused_ms: Cell<u64>,
    }

    impl HttpClient for Counting {
        fn send(&self, request: Request) -> Result<Response, TransportError> {
            self.send_with_headers(request).map(|(r, _)| r)
        }

        fn send_with_headers(
            &self,
            _request: Request,
        ) -> Result<(Response, Headers), TransportError> {
            let left = self.remaining.get();
            self.remaining.set(left.saturating_sub(1));
            let headers = Headers(vec![
                ("X-HubSpot-RateLimit-Max".into(), "100".into()),
                (
                    "X-HubSpot-RateLimit-Remaining".into(),
                    left.saturating_sub(1).to_string(),
                ),
                (
                    "X-HubSpot-RateLimit-Interval-Milliseconds".into(),
                    "10000".into(),
                ),
            ]);
            Ok((
                Response {
                    status: 200,
                    body: br#"{"results":[]}"#.to_vec(),
                },
                headers,
            ))
        }

        fn pause(&self, ms: u64) {
            self.paused_ms.set(self.paused_ms.get() + ms);
            self.remaining.set(100);
        }
    }

    #[test]
    fn r32_a_spent_window_is_waited_for_before_the_next_request_not_after_a_429() {
        let http = Counting {
            remaining: Cell::new(2),
            paused_ms: Cell::new(0),
        };
        let client = CrmClient::connect(&http, &Token).unwrap();
        client.batch("/x", json!({}), vec![], "a").unwrap();
        assert_eq!(http.paused_ms.get(), 0, "one request was left");
        client.batch("/x", json!({}), vec![], "b").unwrap();
        assert_eq!(
            http.paused_ms.get(),
            0,
            "the pause waits for a next request"
        );
        client.batch("/x", json!({}), vec![], "c").unwrap();
        assert_eq!(http.paused_ms.get(), 10_000);
        assert_eq!(
            client.retries(),
            0,
            "a pause before a request is not a retry"
        );
    }

    #[test]
    fn r32_the_ten_second_limit_is_waited_out_in_the_call() {
        let crm = RateLimited::new("TEN_SECONDLY_ROLLING", 7);
        assert!(batch(&crm).is_ok());
        assert_eq!(*crm.requests.borrow(), 8);
        assert_eq!(crm.paused_ms.get(), 7 * 1_000);
    }

    #[test]
    fn r32_past_its_patience_the_call_leaves_the_rest_for_a_tick() {
        let crm = RateLimited::new("TEN_SECONDLY_ROLLING", u32::MAX);
        let error = batch(&crm).unwrap_err();
        assert!(matches!(error, PluginError::CrmUnavailable(_)), "{error:?}");
        assert_eq!(crm.paused_ms.get(), RATE_LIMIT_PATIENCE_MS);
    }

    #[test]
    fn r32_the_daily_limit_is_not_waited_for() {
        let crm = RateLimited::new("DAILY", 1);
        let error = batch(&crm).unwrap_err();
        assert!(error.to_string().contains("rate limit"), "{error}");
        assert_eq!(crm.paused_ms.get(), 0);
        assert_eq!(*crm.requests.borrow(), 1);
    }
}
