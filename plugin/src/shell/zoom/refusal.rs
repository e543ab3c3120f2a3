//! What each of Zoom's error answers ends in (issue 18, item 7): every
//! one is either retried with a bound or explained, never retried for ever.
//!
//! Zoom's documented codes for the endpoints the plugin reads
//! (<https://developers.zoom.us/docs/api/errors/> and each endpoint's
//! "Error Code" list, e.g. Get webinar participant reports: 400 codes 200
//! "No permission", 1010 "User does not belong to this account", 12702
//! "Can not access webinar a year ago"; 404 code 3001 "Webinar not found or
//! has expired"; 300 "The next page token is invalid or has expired"):
//!
//! - a 5xx, a 429, an expired page token (code 300): Zoom will answer
//!   later, `ZoomUnavailable`, retried with back-off and a bound by the sync;
//! - a refused token (401 after a renewal, codes 124 and 104) or a missing
//!   scope (code 4711, the docs' 4700, "Invalid access token, does not
//!   contain scopes:[...]"): the Zoom app must change, for every webinar,
//!   `Configuration` naming what to change, retried with a bound so the
//!   sync resumes once it is fixed;
//! - 404 or code 3001: the object is not there (the caller decides);
//! - any other 4xx (12702, 200, 1010, 300 "cannot access webinar info",
//!   403, codes Zoom may add): Zoom will not give it, `ZoomRefused`, not
//!   retried, explained. Where the docs are silent (a code not listed) the
//!   harsher reading: it will not change by asking again.

use super::scopes::{CAPABILITIES, Capability};
use super::{PluginError, Response, zoom_code};

/// Zoom's code for an expired or refused access token.
pub const INVALID_TOKEN: u64 = 124;
/// The older code for the same ("Invalid access token").
pub const INVALID_TOKEN_OLD: u64 = 104;
/// "Invalid access token, does not contain scopes:[...]" as Zoom answers it
/// (400, code 4711: zoom-laravel issue 15, zoom-batch-downloader issue 34).
pub const MISSING_SCOPES: u64 = 4711;
/// The same, as Zoom's error-code page lists it.
pub const MISSING_SCOPES_DOCUMENTED: u64 = 4700;
/// "Webinar not found or has expired" (also: a report not made yet).
pub const NOT_FOUND: u64 = 3001;
/// "Can not access webinar a year ago" (reports).
pub const YEAR_AGO: u64 = 12702;
/// Validation, and "The next page token is invalid or has expired".
pub const INVALID_FIELD: u64 = 300;

/// Zoom says the object is not there: 404, or 400 with code 3001.
pub fn missing(response: &Response) -> bool {
    response.status == 404 || (response.status == 400 && zoom_code(response) == Some(NOT_FOUND))
}

/// The error an answer that is neither a success nor [`missing`] ends in,
/// for a request about `what` (a path, or words).
pub fn error(what: &str, response: &Response) -> PluginError {
    // The path without its query (page size and token say nothing to a marketer).
    let what = what.split('?').next().unwrap_or_default();
    let status = response.status;
    let code = zoom_code(response);
    let message = response.error_message();
    let said = match code {
        Some(code) => format!("{status} code {code}: {message}"),
        None => format!("{status}: {message}"),
    };
    match (status, code) {
        (429, _) => PluginError::ZoomUnavailable(format!(
            "Zoom's rate limit was reached reading {what}; the sync continues on the next tick"
        )),
        (_, Some(MISSING_SCOPES | MISSING_SCOPES_DOCUMENTED)) => {
            PluginError::Configuration(missing_scope(what, &message))
        }
        (401, _) | (_, Some(INVALID_TOKEN | INVALID_TOKEN_OLD)) => {
            PluginError::Configuration(format!(
                "Zoom refused the app's access token, even a new one ({said}): check in Zoom's App Marketplace that the Server-to-Server OAuth app is activated and belongs to this Zoom account"
            ))
        }
        (300..=499, Some(INVALID_FIELD)) if message.to_ascii_lowercase().contains("page token") => {
            PluginError::ZoomUnavailable(format!(
                "Zoom's page token for {what} expired ({said}); the list is read again from its first page"
            ))
        }
        (300..=499, _) => PluginError::ZoomRefused(format!("Zoom refused {what} ({said})")),
        _ => PluginError::ZoomUnavailable(format!("Zoom answered {status} for {what}: {message}")),
    }
}

/// A refused token or a missing scope: what the Zoom app must change.
pub fn is_access(response: &Response) -> bool {
    response.status == 401
        || matches!(
            zoom_code(response),
            Some(INVALID_TOKEN | INVALID_TOKEN_OLD | MISSING_SCOPES | MISSING_SCOPES_DOCUMENTED)
        )
}

/// The scopes Zoom's message lists: "...does not contain scopes:[a, b]."
fn listed_scopes(message: &str) -> Vec<&str> {
    let Some((_, rest)) = message.split_once('[') else {
        return Vec::new();
    };
    let inside = rest.split(']').next().unwrap_or_default();
    inside
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// The capability a request's path needs, for a message that lists no scope.
fn capability_of(what: &str) -> Option<&'static Capability> {
    let what_is = |prefix: &str| CAPABILITIES.iter().find(|c| c.classic.starts_with(prefix));
    let path = what.split('?').next().unwrap_or_default();
    if path.starts_with("/report/") {
        what_is("report:")
    } else if path.starts_with("/meetings/") || path == "a recording file" {
        what_is("recording:")
    } else if path.starts_with("/zoom_events") {
        what_is("zoom_events:")
    } else if path.starts_with("/metrics/") {
        what_is("dashboard_webinars:")
    } else if path.starts_with("/users") && !path.ends_with("/webinars") {
        what_is("user:")
    } else if path.starts_with("/webinars/") || path.ends_with("/webinars") {
        what_is("webinar:read")
    } else {
        None
    }
}

/// One line naming the scope to add, from Zoom's message (which lists the
/// scopes it wanted) or else from the path.
fn missing_scope(what: &str, message: &str) -> String {
    let listed = listed_scopes(message);
    let capability = CAPABILITIES
        .iter()
        .find(|c| {
            listed
                .iter()
                .any(|s| *s == c.classic || c.granular.contains(s))
        })
        .or_else(|| capability_of(what));
    match capability {
        Some(c) => {
            let wanted: Vec<&str> = c
                .granular
                .iter()
                .copied()
                .filter(|g| listed.contains(g))
                .collect();
            let add = if wanted.is_empty() {
                c.granular.join(" ")
            } else {
                wanted.join(" ")
            };
            format!(
                "The Zoom app no longer has the scope for {}: add {add} (or {}) in the Zoom app's Scopes page (Zoom said: {message})",
                c.what, c.classic
            )
        }
        None => format!(
            "The Zoom app lacks a scope the sync needs: add {} in the Zoom app's Scopes page (Zoom said: {message})",
            if listed.is_empty() {
                "the scopes the README lists".to_owned()
            } else {
                listed.join(" ")
            }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, code: u64, message: &str) -> Response {
        Response {
            status,
            body: serde_json::json!({ "code": code, "message": message })
                .to_string()
                .into_bytes(),
        }
    }

    #[test]
    fn a_missing_scope_names_the_scope_to_add_in_one_line() {
        let e = error(
            "/report/webinars/81234567890/participants?include_fields=registrant_id",
            &answer(
                400,
                4711,
                "Invalid access token, does not contain scopes:[report:read:list_webinar_participants:admin, report:read:admin].",
            ),
        );
        let PluginError::Configuration(line) = e else {
            panic!("the Zoom app's to fix: {e:?}");
        };
        assert!(!line.contains('\n'));
        assert!(
            line.starts_with(
                "The Zoom app no longer has the scope for the participants report (R8): add report:read:list_webinar_participants:admin (or report:read:admin) in the Zoom app's Scopes page"
            ),
            "{line}"
        );
    }

    #[test]
    fn a_scope_refusal_without_a_list_is_named_from_the_path() {
        let e = error(
            "/meetings/81234567890/recordings",
            &answer(401, 4700, "Invalid access token, does not contain scopes."),
        );
        assert!(
            e.to_string().contains(
                "add cloud_recording:read:list_recording_files:admin (or recording:read:admin)"
            ),
            "{e}"
        );
    }

    #[test]
    fn a_refused_token_is_the_zoom_apps_to_fix_not_an_outage() {
        for (status, code) in [(401, 124), (401, 104), (400, 124)] {
            let e = error(
                "/webinars/1",
                &answer(status, code, "Invalid access token."),
            );
            assert!(
                matches!(&e, PluginError::Configuration(m) if m.contains("Server-to-Server OAuth app is activated")),
                "{e:?}"
            );
        }
    }

    #[test]
    fn zooms_other_4xx_are_refusals_and_5xx_429_and_page_tokens_are_retried() {
        let refused = [
            (400, 12702, "Can not access webinar a year ago."),
            (400, 200, "No permission."),
            (400, 1010, "User does not belong to this account: abc."),
            (300, 300, "Cannot access the webinar information: 1"),
            (403, 9999, "A code Zoom does not document."),
        ];
        for (status, code, message) in refused {
            let e = error(
                "/report/webinars/1/participants",
                &answer(status, code, message),
            );
            assert!(
                matches!(e, PluginError::ZoomRefused(_)),
                "{status} {code}: {e:?}"
            );
        }
        let retried = [
            (503, 503, "Service Unavailable."),
            (
                429,
                429,
                "You have reached the maximum per-second rate limit for this API.",
            ),
            (400, 300, "The next page token is invalid or expired."),
        ];
        for (status, code, message) in retried {
            let e = error("/webinars/1/registrants", &answer(status, code, message));
            assert!(
                matches!(e, PluginError::ZoomUnavailable(_)),
                "{status} {code}: {e:?}"
            );
        }
        assert!(missing(&answer(404, 3001, "Webinar does not exist.")));
        assert!(missing(&answer(400, 3001, "Webinar has not ended yet.")));
        assert!(!missing(&answer(
            400,
            12702,
            "Can not access webinar a year ago."
        )));
    }
}
