//! Contacts (R7, R12, R17, R18): found or made by email without changing
//! them, their deleted twins, one read by id, and property updates.

use std::collections::BTreeMap;

use serde_json::json;

use super::{BATCH_SIZE, CrmClient, Method, id_string};
use crate::shell::PluginError;
use crate::shell::ports::{Contacts, Refused, RefusedEmail, UpsertedContact};

/// An upsert answer whose contact has no name at all: named like one the
/// plugin created. A contact created by a call whose answer was lost comes
/// back from the retry as not new, and would otherwise never get the
/// registrant's name (issue 9's lost answers). Only when the answer says
/// so: absent properties are unknown, and a named contact is never renamed.
fn unnamed(result: &serde_json::Value) -> bool {
    let empty = |name: &str| {
        result
            .get("properties")
            .and_then(|p| p.get(name))
            .is_some_and(|v| v.is_null() || v.as_str() == Some(""))
    };
    empty("firstname") && empty("lastname")
}

impl Contacts for CrmClient<'_> {
    /// A contact's properties by id, each a text (a property without a
    /// value is absent); none when the CRM has no such live contact
    /// (deleted or merged away).
    fn contact(
        &self,
        id: &str,
        properties: &[&str],
    ) -> Result<Option<BTreeMap<String, String>>, PluginError> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(None);
        }
        let path = format!(
            "/crm/v3/objects/contacts/{id}?properties={}",
            properties.join(",")
        );
        let response = self.call(Method::Get, &path, None)?;
        #[derive(serde::Deserialize, Default)]
        struct Wire {
            #[serde(default)]
            properties: BTreeMap<String, Option<String>>,
        }
        match response.status {
            200..=299 => {
                let wire: Wire = serde_json::from_slice(&response.body).unwrap_or_default();
                Ok(Some(
                    wire.properties
                        .into_iter()
                        .filter_map(|(name, value)| Some((name, value?)))
                        .collect(),
                ))
            }
            404 => Ok(None),
            status => Err(PluginError::CrmUnavailable(format!(
                "reading contact {id} failed with {status}: {}",
                response.error_message()
            ))),
        }
    }

    /// Which of `emails` (at most 100) belong to deleted (archived)
    /// contacts, with their ids (R18). Each result is matched to an email
    /// sent by its `email` property (batch read takes no trace id), in
    /// whatever order the CRM answers.
    fn archived_contacts(&self, emails: &[String]) -> Result<Vec<(String, String)>, PluginError> {
        let inputs = emails.iter().map(|e| json!({ "id": e })).collect();
        let answer = self.batch_with_results(
            "/crm/v3/objects/contacts/batch/read?archived=true",
            // `propertiesWithHistory` is required by HubSpot's
            // `BatchReadInputSimplePublicObjectId` model, even when empty.
            json!({ "idProperty": "email", "properties": ["email"], "propertiesWithHistory": [] }),
            inputs,
            "looking up deleted contacts",
        )?;
        let asked: std::collections::BTreeSet<String> =
            emails.iter().map(|e| e.to_ascii_lowercase()).collect();
        Ok(answer
            .results
            .iter()
            .filter_map(|c| {
                let email = c
                    .pointer("/properties/email")?
                    .as_str()?
                    .to_ascii_lowercase();
                Some((email, id_string(c.get("id")?)?))
            })
            .filter(|(email, _)| asked.contains(email))
            .collect())
    }

    /// Finds or creates the contacts of `emails` (at most 100) without
    /// changing any property: an email that turns out to be a secondary
    /// email of a contact comes back with that contact's primary email, and
    /// nothing was written to it (R7, R17). Emails the CRM refuses are
    /// returned with the CRM's reason.
    ///
    /// Each input carries its email as `objectWriteTraceId`; a result is
    /// matched to its email by that trace id, or, when the CRM does not echo
    /// it, by the result's `email` property, or as the one result and the
    /// one email left. An answer that leaves results it cannot match is an
    /// error: guessing would write one person's registration to another's
    /// contact, and an email taken for a secondary one would be left out
    /// (a reordered answer once dropped 304 of 305 contacts that way).
    fn upsert_emails(
        &self,
        emails: &[String],
    ) -> Result<(Vec<UpsertedContact>, Vec<RefusedEmail>), PluginError> {
        let inputs = emails
            .iter()
            .map(|e| json!({ "id": e, "idProperty": "email", "objectWriteTraceId": e, "properties": {} }))
            .collect();
        let answer = self.batch_with_results(
            "/crm/v3/objects/contacts/batch/upsert",
            json!({}),
            inputs,
            "finding or creating contacts",
        )?;
        let failed = answer.failed(emails.iter().map(String::as_str));
        let refused: Vec<(String, String)> = failed
            .iter()
            .map(|(email, reason)| (email.to_ascii_lowercase(), reason.clone()))
            .collect();
        // The emails still to match, lowercase, to the email as sent.
        let mut open: std::collections::BTreeMap<String, &String> = emails
            .iter()
            .filter(|e| !failed.contains_key(e.as_str()))
            .map(|e| (e.to_ascii_lowercase(), e))
            .collect();
        let lower =
            |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_ascii_lowercase);
        let mut matched = Vec::new();
        let mut left = Vec::new();
        // Trace ids first: a result's email may be another input's (a
        // secondary email of a contact that is also sent by its primary one).
        for result in &answer.results {
            match lower(result.get("objectWriteTraceId")).and_then(|t| open.remove_entry(&t)) {
                Some((_, email)) => matched.push((email, result)),
                None => left.push(result),
            }
        }
        let mut unmatched = Vec::new();
        for result in left {
            match lower(result.pointer("/properties/email")).and_then(|e| open.remove_entry(&e)) {
                Some((_, email)) => matched.push((email, result)),
                None => unmatched.push(result),
            }
        }
        if unmatched.len() == 1
            && open.len() == 1
            && let (Some(result), Some((_, email))) = (unmatched.pop(), open.pop_first())
        {
            matched.push((email, result));
        }
        if !unmatched.is_empty() {
            return Err(PluginError::CrmUnavailable(format!(
                "the CRM's answer to finding or creating contacts did not say which of {} email(s) its {} contact(s) belong to (no objectWriteTraceId, no email sent); nothing was written for them, and the sync tries again on the next tick",
                open.len().max(unmatched.len()),
                unmatched.len()
            )));
        }
        let contacts = matched
            .into_iter()
            .filter_map(|(email, result)| {
                Some(UpsertedContact {
                    email: email.clone(),
                    id: id_string(result.get("id")?)?,
                    primary_email: result
                        .pointer("/properties/email")
                        .and_then(|e| e.as_str())
                        .unwrap_or(email)
                        .to_ascii_lowercase(),
                    created: result.get("new").and_then(|n| n.as_bool()) == Some(true)
                        || unnamed(result),
                })
            })
            .collect();
        Ok((contacts, refused))
    }

    /// Sets the properties of contacts by id (R12), at most 100: what
    /// each batch update failed for, by contact id.
    fn update_contact_properties(
        &self,
        updates: &[(&str, &BTreeMap<String, String>)],
    ) -> Result<Refused, PluginError> {
        debug_assert!(updates.len() <= BATCH_SIZE);
        let inputs = updates
            .iter()
            .map(|(id, properties)| json!({ "id": id, "properties": properties }))
            .collect();
        let answer = self.batch(
            "/crm/v3/objects/contacts/batch/update",
            json!({}),
            inputs,
            "updating contact properties",
        )?;
        Ok(answer.refused(updates.iter().map(|(id, _)| *id)))
    }
}

#[cfg(test)]
mod tests {
    //! HubSpot does not promise that a batch's `results` follow its
    //! `inputs` (hubspot-api-nodejs issue 190): the client matches each
    //! result to its input by identity, never by position.

    use std::cell::RefCell;

    use super::*;
    use crate::shell::Config;
    use crate::shell::crm::BatchAnswer;
    use crate::shell::http::{HttpClient, Request, Response, TransportError};

    /// A CRM that answers one canned body and keeps the request it got.
    struct Canned {
        status: u16,
        body: serde_json::Value,
        sent: RefCell<Option<serde_json::Value>>,
    }

    impl Canned {
        fn new(status: u16, body: serde_json::Value) -> Self {
            Self {
                status,
                body,
                sent: RefCell::new(None),
            }
        }
    }

    impl HttpClient for Canned {
        fn send(&self, request: Request) -> Result<Response, TransportError> {
            *self.sent.borrow_mut() = serde_json::from_slice(&request.body).ok();
            Ok(Response {
                status: self.status,
                body: self.body.to_string().into_bytes(),
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

    fn contact(id: &str, email: &str, trace: Option<&str>, new: bool) -> serde_json::Value {
        let mut result = json!({
            "id": id, "new": new, "archived": false,
            "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z",
            "properties": { "email": email, "firstname": "Ada", "lastname": "L" },
        });
        if let Some(trace) = trace {
            result["objectWriteTraceId"] = json!(trace);
        }
        result
    }

    fn emails(list: &[&str]) -> Vec<String> {
        list.iter().map(|e| (*e).to_owned()).collect()
    }

    #[test]
    fn r7_upsert_results_in_another_order_are_matched_by_their_trace_id() {
        // The second input is a secondary email of contact 3 (R17): its
        // result carries the primary email, so only the trace id says whose it is.
        let answer = json!({
            "status": "COMPLETE",
            "startedAt": "2026-01-01T00:00:00Z", "completedAt": "2026-01-01T00:00:00Z",
            "results": [
                contact("3", "primary@c.example", Some("second@c.example"), false),
                contact("4", "third@c.example", Some("third@c.example"), true),
                contact("2", "first@c.example", Some("first@c.example"), true),
            ],
        });
        let http = Canned::new(200, answer);
        let crm = CrmClient::connect(&http, &Token).unwrap();
        let (mut contacts, refused) = crm
            .upsert_emails(&emails(&[
                "first@c.example",
                "second@c.example",
                "third@c.example",
            ]))
            .unwrap();
        assert!(refused.is_empty(), "{refused:?}");
        contacts.sort_by(|a, b| a.email.cmp(&b.email));
        let seen: Vec<(&str, &str, &str)> = contacts
            .iter()
            .map(|c| (c.email.as_str(), c.id.as_str(), c.primary_email.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                ("first@c.example", "2", "first@c.example"),
                ("second@c.example", "3", "primary@c.example"),
                ("third@c.example", "4", "third@c.example"),
            ]
        );
        // Each input carried its trace id.
        let sent = http.sent.borrow().clone().unwrap();
        let traces: Vec<&str> = sent["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["objectWriteTraceId"].as_str().unwrap())
            .collect();
        assert_eq!(
            traces,
            ["first@c.example", "second@c.example", "third@c.example"]
        );
    }

    #[test]
    fn r7_upsert_results_without_trace_ids_are_matched_by_email_and_a_207_by_its_context() {
        // No trace ids echoed; the refused input is not the last one, and
        // the results come back reversed.
        let mut error = json!({
            "status": "error", "category": "VALIDATION_ERROR",
            "message": "Email address not-an-email is invalid",
            "context": { "ids": ["not-an-email"] }, "links": {}, "errors": [],
        });
        error["id"] = json!("x");
        let answer = json!({
            "status": "COMPLETE", "numErrors": 1, "errors": [error],
            "startedAt": "2026-01-01T00:00:00Z", "completedAt": "2026-01-01T00:00:00Z",
            "results": [
                contact("5", "B@c.example", None, false),
                contact("4", "a@c.example", None, true),
            ],
        });
        let http = Canned::new(207, answer);
        let crm = CrmClient::connect(&http, &Token).unwrap();
        let (mut contacts, refused) = crm
            .upsert_emails(&emails(&["a@c.example", "not-an-email", "b@c.example"]))
            .unwrap();
        contacts.sort_by(|a, b| a.email.cmp(&b.email));
        let seen: Vec<(&str, &str)> = contacts
            .iter()
            .map(|c| (c.email.as_str(), c.id.as_str()))
            .collect();
        assert_eq!(seen, [("a@c.example", "4"), ("b@c.example", "5")]);
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].0, "not-an-email");
    }

    #[test]
    fn r7_an_upsert_answer_that_names_no_input_stops_the_run_instead_of_guessing() {
        // Two results with neither a trace id nor an email sent: which is
        // whose cannot be told, and a guess writes to the wrong contact.
        let answer = json!({
            "status": "COMPLETE",
            "startedAt": "2026-01-01T00:00:00Z", "completedAt": "2026-01-01T00:00:00Z",
            "results": [
                contact("7", "p1@c.example", None, false),
                contact("8", "p2@c.example", None, false),
            ],
        });
        let http = Canned::new(200, answer);
        let crm = CrmClient::connect(&http, &Token).unwrap();
        let error = crm
            .upsert_emails(&emails(&["s1@c.example", "s2@c.example"]))
            .unwrap_err();
        assert!(matches!(error, PluginError::CrmUnavailable(_)), "{error:?}");
        assert!(error.to_string().contains("2 email(s)"), "{error}");
    }

    #[test]
    fn r18_deleted_contacts_are_read_by_email_whatever_the_order() {
        let answer = json!({
            "status": "COMPLETE",
            "startedAt": "2026-01-01T00:00:00Z", "completedAt": "2026-01-01T00:00:00Z",
            "results": [
                contact("9", "Z@c.example", None, false),
                contact("6", "y@c.example", None, false),
                contact("1", "not-asked@c.example", None, false),
            ],
        });
        let http = Canned::new(200, answer);
        let crm = CrmClient::connect(&http, &Token).unwrap();
        let mut found = crm
            .archived_contacts(&emails(&["y@c.example", "x@c.example", "z@c.example"]))
            .unwrap();
        found.sort();
        assert_eq!(
            found,
            [
                ("y@c.example".to_owned(), "6".to_owned()),
                ("z@c.example".to_owned(), "9".to_owned())
            ]
        );
    }

    #[test]
    fn r32_batch_errors_are_matched_by_context_or_else_by_message() {
        let answer = BatchAnswer {
            results: Vec::new(),
            errors: vec![
                json!({ "message": "Contact 102 was merged", "context": { "ids": ["102"] } }),
                json!({ "message": "Email address ADA@x.example is invalid" }),
                json!({ "message": "Token t is not defined", "context": { "id": ["ev-3"] } }),
            ],
        };
        let failed = answer.failed([
            "101",
            "102",
            "ada@x.example",
            "ev-3",
            "ev-30",
            "da@x.example",
        ]);
        let names: Vec<&str> = failed.keys().map(String::as_str).collect();
        assert_eq!(names, ["102", "ada@x.example", "ev-3"]);
        assert_eq!(failed["102"], "Contact 102 was merged");
    }

    #[test]
    fn r11_calls_made_are_matched_by_trace_id_or_call_key_whatever_the_order() {
        use crate::core::definitions::CALL_KEY;
        let answer = BatchAnswer {
            results: vec![
                json!({ "id": "12", "properties": { CALL_KEY: "w/3" } }),
                json!({ "id": "11", "objectWriteTraceId": "1", "properties": {} }),
            ],
            errors: vec![
                json!({ "message": "Contact 2 to associate does not exist", "context": { "objectWriteTraceId": ["2"] } }),
            ],
        };
        let made = answer.answered([("1", "w/1"), ("2", "w/2"), ("3", "w/3")], CALL_KEY);
        assert_eq!(made.into_iter().collect::<Vec<_>>(), ["1", "3"]);
    }
}
