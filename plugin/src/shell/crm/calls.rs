//! Call records (R11): created in batches, and looked up by reading the
//! records themselves, never through search.
//!
//! HubSpot's search index sees a record only some seconds after it is
//! made (API-NOTES, "Search lags writes"; HubSpot's search guide: "it may
//! take a few moments for newly created or updated records to appear").
//! The question "which of these calls exist?" is asked right after a
//! batch whose answer was lost: a search would not see the calls just
//! made, and they would be made twice (R30). Associations and batch reads
//! answer from the records, so they see them at once.

use std::collections::BTreeSet;

use serde_json::json;

use super::{BATCH_SIZE, CrmClient, Resend, id_string};
use crate::core::definitions::{CALL_KEY, call_key_contact};
use crate::core::recording::Call;
use crate::shell::PluginError;
use crate::shell::ports::{Calls, Refused};

impl Calls for CrmClient<'_> {
    /// Creates a batch of calls, sent once. Creating a call is not
    /// idempotent in the CRM: a request whose answer did not come, or a
    /// 5xx (which may have made part of the batch), is not sent again
    /// blind; the caller asks [`CrmClient::existing_call_keys`] first. A
    /// 429 made nothing and is waited out.
    ///
    /// Which calls were made: by the trace id the CRM echoes (the
    /// contact's id) or the call's key property, never by position; all
    /// of them when nothing failed.
    fn create_calls(&self, calls: &[&Call]) -> Result<Refused, PluginError> {
        debug_assert!(calls.len() <= BATCH_SIZE);
        let inputs = calls.iter().map(|call| call_input(call)).collect();
        let answer = self.batch_call(
            "/crm/v3/objects/calls/batch/create",
            json!({}),
            inputs,
            "creating call records",
            true,
            Resend::OnlyWhatWasNotApplied,
        )?;
        if answer.errors.is_empty() {
            return Ok(Refused::default());
        }
        let made = answer.answered(
            calls.iter().map(|c| {
                let key = c.properties.get(CALL_KEY).map_or("", String::as_str);
                (c.contact_id.as_str(), key)
            }),
            CALL_KEY,
        );
        let reason = answer.first_message();
        Ok(Refused(
            calls
                .iter()
                .filter(|c| !made.contains(&c.contact_id))
                .map(|c| (c.contact_id.clone(), reason.clone()))
                .collect(),
        ))
    }

    /// Which of `keys` (at most 100, each `definitions::call_key`) name a
    /// call the CRM holds: the calls associated with each key's contact,
    /// then those calls' key property.
    fn existing_call_keys(&self, keys: &[String]) -> Result<BTreeSet<String>, PluginError> {
        debug_assert!(keys.len() <= BATCH_SIZE);
        let contacts: BTreeSet<&str> = keys.iter().filter_map(|k| call_key_contact(k)).collect();
        let calls = self.associated_calls(contacts.into_iter().collect())?;
        let asked: BTreeSet<&str> = keys.iter().map(String::as_str).collect();
        let mut found = BTreeSet::new();
        for chunk in calls.chunks(BATCH_SIZE) {
            let inputs = chunk.iter().map(|id| json!({ "id": id })).collect();
            let answer = self.batch_with_results(
                "/crm/v3/objects/calls/batch/read",
                // `propertiesWithHistory` is required by HubSpot's
                // `BatchReadInputSimplePublicObjectId` model, even when empty.
                json!({ "properties": [CALL_KEY], "propertiesWithHistory": [] }),
                inputs,
                "looking up the calls already made",
            )?;
            found.extend(
                answer
                    .results
                    .iter()
                    .filter_map(|call| call["properties"][CALL_KEY].as_str())
                    .filter(|key| asked.contains(key))
                    .map(str::to_owned),
            );
        }
        Ok(found)
    }
}

impl CrmClient<'_> {
    /// The ids of the calls associated with `contacts` (at most 100, the
    /// associations batch read's limit), following each contact's own
    /// `paging.next.after` until it has none. A contact with no call comes
    /// back as a per-item error, which means "none" here.
    fn associated_calls(&self, contacts: Vec<&str>) -> Result<Vec<String>, PluginError> {
        let mut calls = BTreeSet::new();
        let mut todo: Vec<(String, Option<String>)> =
            contacts.into_iter().map(|c| (c.to_owned(), None)).collect();
        while !todo.is_empty() {
            let inputs = todo
                .iter()
                .map(|(id, after)| match after {
                    Some(after) => json!({ "id": id, "after": after }),
                    None => json!({ "id": id }),
                })
                .collect();
            let answer = self.batch_with_results(
                "/crm/v4/associations/contacts/calls/batch/read",
                json!({}),
                inputs,
                "looking up the contacts' calls",
            )?;
            todo.clear();
            for result in &answer.results {
                let to = result["to"].as_array().into_iter().flatten();
                calls.extend(to.filter_map(|to| id_string(&to["toObjectId"])));
                let next = result
                    .pointer("/paging/next/after")
                    .and_then(|a| a.as_str());
                if let (Some(from), Some(after)) = (id_string(&result["from"]["id"]), next) {
                    todo.push((from, Some(after.to_owned())));
                }
            }
        }
        Ok(calls.into_iter().collect())
    }
}

/// HubSpot's association type of a call to its contact
/// (developers.hubspot.com/docs/api/crm/associations: call to contact, 194).
const CALL_TO_CONTACT: u32 = 194;

/// A call's input to the batch create, associated with its contact; the
/// contact id is its trace id, echoed in the result (R30).
fn call_input(call: &Call) -> serde_json::Value {
    json!({
        "properties": call.properties,
        "objectWriteTraceId": call.contact_id,
        "associations": [{
            "to": { "id": call.contact_id },
            "types": [{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": CALL_TO_CONTACT }],
        }],
    })
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::shell::Config;
    use crate::shell::http::{HttpClient, Request, Response, TransportError};
    use crate::shell::ports::Calls as _;

    /// A CRM holding calls `(id, contact, key)`, answering the two reads
    /// as HubSpot does, one association a page so that paging is used.
    struct Calls {
        calls: Vec<(&'static str, &'static str, &'static str)>,
        paths: RefCell<Vec<String>>,
    }

    impl HttpClient for Calls {
        fn send(&self, request: Request) -> Result<Response, TransportError> {
            let path = request.url.trim_start_matches(super::super::API_BASE);
            self.paths.borrow_mut().push(path.to_owned());
            let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
            let inputs = body["inputs"].as_array().unwrap();
            let mut results = Vec::new();
            let mut errors = Vec::new();
            for input in inputs {
                let id = input["id"].as_str().unwrap();
                if path.starts_with("/crm/v4/associations") {
                    let after: usize = input["after"].as_str().map_or(0, |a| a.parse().unwrap());
                    let mine: Vec<_> = self.calls.iter().filter(|c| c.1 == id).collect();
                    let Some(call) = mine.get(after) else {
                        errors.push(json!({ "message": "No calls", "context": { "ids": [id] } }));
                        continue;
                    };
                    let mut result = json!({
                        "from": { "id": id },
                        "to": [{ "toObjectId": call.0.parse::<u64>().unwrap(), "associationTypes": [] }],
                    });
                    if after + 1 < mine.len() {
                        result["paging"] = json!({ "next": { "after": (after + 1).to_string() } });
                    }
                    results.push(result);
                } else if let Some(call) = self.calls.iter().find(|c| c.0 == id) {
                    results.push(json!({ "id": id, "properties": { CALL_KEY: call.2 } }));
                }
            }
            // Not in input order: HubSpot promises none.
            results.reverse();
            let status = if errors.is_empty() { 200 } else { 207 };
            let body = json!({ "status": "COMPLETE", "results": results, "errors": errors });
            Ok(Response {
                status,
                body: body.to_string().into_bytes(),
            })
        }

        fn pause(&self, _ms: u64) {}
    }

    struct Token;
    impl Config for Token {
        fn get(&self, _key: &str) -> Result<Option<String>, String> {
            Ok(Some("token".into()))
        }
    }

    /// R11, R30: the lookup after a lost answer reads associations and
    /// records (which see a call at once), never search (which does not).
    #[test]
    fn r30_calls_already_made_are_found_through_associations_not_search() {
        let http = Calls {
            calls: vec![
                ("11", "501", "w1:501"),
                ("12", "501", "w2:501"),
                ("13", "502", "w1:502"),
                ("14", "503", "w9:503"),
            ],
            paths: RefCell::new(Vec::new()),
        };
        let crm = CrmClient::connect(&http, &Token).unwrap();
        let keys = ["w1:501", "w1:502", "w1:504", "w1:503"].map(str::to_owned);
        let found = crm.existing_call_keys(&keys).unwrap();
        assert_eq!(
            found,
            BTreeSet::from(["w1:501".to_owned(), "w1:502".to_owned()])
        );
        let paths = http.paths.borrow();
        assert!(paths.iter().all(|p| !p.contains("search")), "{paths:?}");
        assert_eq!(
            *paths,
            [
                "/crm/v4/associations/contacts/calls/batch/read",
                // Contact 501's second call is on its own next page.
                "/crm/v4/associations/contacts/calls/batch/read",
                "/crm/v3/objects/calls/batch/read",
            ]
        );
    }
}
