//! A batch call's answer (R31, issue 17): its results and per-item
//! errors, matched to the inputs by identity, never by position.

use super::id_string;
use crate::shell::ports::Refused;

/// HubSpot does not promise that `results` (or `errors`) follow the order
/// of `inputs` (its client maintainers say so: hubspot-api-nodejs issue
/// 190), so nothing here pairs a result with an input by position: a
/// result names its input by the `objectWriteTraceId` the input carried
/// (echoed in the result) or by a unique property; an error by its
/// `context` or, without one, its message.
#[derive(Debug, Default)]
pub(super) struct BatchAnswer {
    pub(super) results: Vec<serde_json::Value>,
    pub(super) errors: Vec<serde_json::Value>,
}

impl BatchAnswer {
    /// The ids or emails an error's `context` names.
    pub(super) fn error_subjects(error: &serde_json::Value) -> Vec<String> {
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

    pub(super) fn message(error: &serde_json::Value) -> &str {
        error
            .get("message")
            .and_then(|m| m.as_str())
            .unwrap_or("refused")
    }

    /// [`failed`](Self::failed) as the port says it.
    pub(super) fn refused<'i>(&self, identities: impl IntoIterator<Item = &'i str>) -> Refused {
        Refused(self.failed(identities))
    }

    /// The first error's reason (errors are sorted: the same whatever
    /// order the CRM answered in).
    pub(super) fn first_message(&self) -> String {
        self.errors
            .first()
            .map_or("no reason given", Self::message)
            .to_owned()
    }

    /// Which of `identities` (what the inputs are known by: emails, ids,
    /// trace ids) the errors name, each with the CRM's reason: by an
    /// error's `context`, or for an error without one by its message naming
    /// the identity as a whole word. Case-insensitive: emails are.
    pub(super) fn failed<'i>(
        &self,
        identities: impl IntoIterator<Item = &'i str>,
    ) -> std::collections::BTreeMap<String, String> {
        self.failed_where(identities, |_| true)
    }

    /// [`failed`](Self::failed), counting only the errors `counts` keeps.
    pub(super) fn failed_where<'i>(
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
    pub(super) fn answered<'i>(
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
