//! The scopes a HubSpot app's token must have for each call the plugin
//! makes. Without one, HubSpot answers 403 with `category: MISSING_SCOPES`
//! and the scope in `errors[].context.requiredScopes` (the body as HubSpot
//! sends it: hubspot-api-nodejs issue 268). The scope of each endpoint
//! follows developers.hubspot.com/docs/api/scopes and each API's "Scope
//! requirements"; calls (an engagement object) are taken to need the
//! contacts write scope, and their properties the contacts schema scopes:
//! the docs are unclear there, and this is the reading that refuses more.

use serde_json::{Value, json};

/// What `method` on `segments` (the path split at `/`) needs.
pub fn required(method: &str, segments: &[&str]) -> Option<&'static str> {
    let read = method == "GET";
    Some(match segments {
        ["crm", "v3", "objects", "contacts", rest @ ..] => {
            // Reading in bulk is a POST too.
            let reads = read || matches!(rest, ["batch", "read"] | ["search"]);
            if reads {
                "crm.objects.contacts.read"
            } else {
                "crm.objects.contacts.write"
            }
        }
        ["crm", "v3", "properties", ..] if read => "crm.schemas.contacts.read",
        ["crm", "v3", "properties", ..] => "crm.schemas.contacts.write",
        ["crm", "v3", "owners", ..] => "crm.objects.owners.read",
        ["crm", "v3", "timeline", ..] | ["integrators", "timeline", "v3", ..] => "timeline",
        // Custom events (R10 without timeline access): defining events and
        // sending occurrences are two scopes, as the custom events
        // reference's "Required Scopes" list them
        // (developers.hubspot.com/docs/api-reference/legacy/events/send-event-data/guide).
        ["events", "v3", "event-definitions", ..] => {
            "behavioral_events.event_definitions.read_write"
        }
        ["events", "v3", "send", ..] => "analytics.behavioral_events.send",
        ["crm", "v3", "objects", "calls", ..] => "crm.objects.contacts.write",
        // Reading a contact's associations needs read access to it.
        ["crm", "v4", "associations", "contacts", ..] => "crm.objects.contacts.read",
        ["marketing", "v3", "marketing-events", ..] if read => "crm.objects.marketing_events.read",
        ["marketing", "v3", "marketing-events", ..] => "crm.objects.marketing_events.write",
        // The callbacks API's page names no scope; the fake asks for the
        // one HubSpot gives custom workflow actions.
        ["automation", ..] => "automation",
        _ => return None,
    })
}

/// Every scope the plugin needs, as an operator grants them.
pub const ALL: &[&str] = &[
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.schemas.contacts.read",
    "crm.schemas.contacts.write",
    "crm.objects.owners.read",
    "crm.objects.marketing_events.read",
    "crm.objects.marketing_events.write",
    "timeline",
    "automation",
    "behavioral_events.event_definitions.read_write",
    "analytics.behavioral_events.send",
];

/// HubSpot's 403 for a token without `scope`.
pub fn missing(scope: &str, correlation_id: &str) -> Value {
    json!({
        "status": "error",
        "message": "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
        "correlationId": correlation_id,
        "errors": [{
            "message": "One or more of the following scopes are required.",
            "context": { "requiredScopes": [scope] },
        }],
        "links": { "scopes": "https://developers.hubspot.com/scopes" },
        "category": "MISSING_SCOPES",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_the_plugin_calls_has_a_scope_among_all() {
        for (method, path) in [
            ("POST", "crm/v3/objects/contacts/batch/upsert"),
            ("POST", "crm/v3/objects/contacts/batch/read"),
            ("POST", "crm/v3/objects/contacts/search"),
            ("POST", "crm/v3/properties/contacts"),
            ("GET", "crm/v3/properties/contacts/groups"),
            ("GET", "crm/v3/owners"),
            ("POST", "crm/v3/timeline/events/batch/create"),
            ("GET", "integrators/timeline/v3/1/event-templates"),
            ("GET", "events/v3/event-definitions"),
            ("POST", "events/v3/event-definitions"),
            ("POST", "events/v3/send/batch"),
            ("POST", "crm/v3/objects/calls/batch/create"),
            ("POST", "crm/v3/objects/calls/batch/read"),
            ("POST", "crm/v4/associations/contacts/calls/batch/read"),
            ("POST", "marketing/v3/marketing-events/events/upsert"),
        ] {
            let segments: Vec<&str> = path.split('/').collect();
            let scope = required(method, &segments).unwrap_or_else(|| panic!("{path}"));
            assert!(ALL.contains(&scope), "{scope}");
        }
        assert_eq!(
            required(
                "POST",
                &["crm", "v3", "objects", "contacts", "batch", "read"]
            ),
            Some("crm.objects.contacts.read")
        );
    }
}
