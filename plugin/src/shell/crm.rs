//! The CRM client. It speaks HubSpot's CRM v3 shapes; another CRM would be
//! another client behind the same calls. Activity events (R10) and their
//! backends are in `activity`.

pub mod activity;
mod batch;
mod calls;
mod contacts;
mod marketing;
pub mod workflow_action;

use serde_json::json;

use super::http::{Headers, HttpClient, Method, Patience, Request, Response};
use super::ports::Crm;
use super::{Config, PluginError, keys, required};
use crate::core::definitions::{PropertyDefinition, PropertyGroup, PropertyType};
use batch::BatchAnswer;

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
mod tests;
