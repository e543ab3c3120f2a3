//! Contact search (`POST /crm/v3/objects/contacts/search`): `filterGroups`
//! with their operators, one sort, pages of at most 200 and never past the
//! 10,000th result; what the calls' search shares with it.

use serde_json::{Value, json};

use super::{contact_json, requested_properties};
use crate::fakes::crm::{Contact, State, body_json};
use crate::outbound::{FakeRequest, FakeResponse};

/// Search: at most 200 a page, and never past the 10,000th result.
pub const SEARCH_PAGE_MAX: usize = 200;
pub const SEARCH_RESULTS_MAX: usize = 10_000;

/// The value of `property` for matching, as the CRM sees it.
fn property_value(c: &Contact, property: &str) -> Option<String> {
    match property {
        "hs_object_id" => Some(c.id.to_string()),
        "createdate" => Some(c.created_ms.to_string()),
        "lastmodifieddate" => Some(c.updated_ms.to_string()),
        _ => c
            .properties
            .get(property)
            .cloned()
            .filter(|v| !v.is_empty()),
    }
}

fn compare(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
        _ => a.to_ascii_lowercase().cmp(&b.to_ascii_lowercase()),
    }
}

/// Whether a record matches a search's `filterGroups`: any group whose
/// filters all match (none: everything). `value_of` reads a property.
pub(crate) fn matches_groups(
    groups: &[Value],
    value_of: &dyn Fn(&str) -> Option<String>,
) -> Result<bool, String> {
    let mut any = groups.is_empty();
    for group in groups {
        let mut all = true;
        for filter in group
            .get("filters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            all &= matches_filter(value_of, filter)?;
        }
        any |= all;
    }
    Ok(any)
}

fn matches_filter(
    value_of: &dyn Fn(&str) -> Option<String>,
    filter: &Value,
) -> Result<bool, String> {
    let property = filter
        .get("propertyName")
        .and_then(Value::as_str)
        .ok_or("a filter needs a propertyName")?;
    let operator = filter
        .get("operator")
        .and_then(Value::as_str)
        .unwrap_or("EQ");
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    let value = filter.get("value").map(text).unwrap_or_default();
    let actual = value_of(property);
    let ordering = |want: std::cmp::Ordering| {
        actual
            .as_deref()
            .is_some_and(|a| compare(a, &value) == want)
    };
    Ok(match operator {
        "EQ" => actual
            .as_deref()
            .is_some_and(|a| compare(a, &value).is_eq()),
        "NEQ" => actual
            .as_deref()
            .is_none_or(|a| !compare(a, &value).is_eq()),
        "LT" => ordering(std::cmp::Ordering::Less),
        "GT" => ordering(std::cmp::Ordering::Greater),
        "LTE" => actual
            .as_deref()
            .is_some_and(|a| compare(a, &value).is_le()),
        "GTE" => actual
            .as_deref()
            .is_some_and(|a| compare(a, &value).is_ge()),
        "BETWEEN" => {
            let high = filter.get("highValue").map(text).unwrap_or_default();
            actual
                .as_deref()
                .is_some_and(|a| compare(a, &value).is_ge() && compare(a, &high).is_le())
        }
        "IN" | "NOT_IN" => {
            let values: Vec<String> = filter
                .get("values")
                .and_then(Value::as_array)
                .map(|vs| vs.iter().map(text).collect())
                .unwrap_or_default();
            let found = actual
                .as_deref()
                .is_some_and(|a| values.iter().any(|v| compare(a, v).is_eq()));
            found == (operator == "IN")
        }
        "HAS_PROPERTY" => actual.is_some(),
        "NOT_HAS_PROPERTY" => actual.is_none(),
        "CONTAINS_TOKEN" | "NOT_CONTAINS_TOKEN" => {
            let needle = value.trim_matches('*').to_ascii_lowercase();
            let found = actual.as_deref().is_some_and(|a| {
                a.to_ascii_lowercase()
                    .split([';', ' ', ','])
                    .any(|token| token == needle)
            });
            found == (operator == "CONTAINS_TOKEN")
        }
        other => return Err(format!("Unsupported operator {other}")),
    })
}

/// A search request's paging and filters, as every object's search reads them.
pub(crate) struct SearchQuery {
    pub limit: usize,
    pub after: usize,
    pub groups: Vec<Value>,
    pub requested: Vec<String>,
}

impl SearchQuery {
    /// The query, or the CRM's 400 for a page past its limits.
    pub(crate) fn read(state: &mut State, body: &Value) -> Result<Self, FakeResponse> {
        let limit = body.get("limit").and_then(Value::as_u64).unwrap_or(10) as usize;
        if limit > SEARCH_PAGE_MAX {
            return Err(state.error(
                400,
                "VALIDATION_ERROR",
                &format!("limit must be at most {SEARCH_PAGE_MAX}"),
            ));
        }
        let after = body
            .get("after")
            .map(|a| a.as_str().map_or_else(|| a.to_string(), str::to_owned))
            .and_then(|a| a.parse::<usize>().ok())
            .unwrap_or(0);
        if after + limit > SEARCH_RESULTS_MAX {
            return Err(state.error(
                400,
                "VALIDATION_ERROR",
                &format!(
                    "The search API cannot page past {SEARCH_RESULTS_MAX} results; narrow the filters."
                ),
            ));
        }
        Ok(Self {
            limit,
            after,
            groups: body
                .get("filterGroups")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            requested: requested_properties(body),
        })
    }

    /// The answer for `matched` records, `shown` as the caller shows them.
    pub(crate) fn page<T>(&self, matched: &[T], shown: impl Fn(&T) -> Value) -> FakeResponse {
        let total = matched.len();
        let results: Vec<Value> = matched
            .iter()
            .skip(self.after)
            .take(self.limit)
            .map(shown)
            .collect();
        let mut answer = json!({ "total": total, "results": results });
        let next = self.after + self.limit;
        if next < total.min(SEARCH_RESULTS_MAX) {
            answer["paging"] = json!({ "next": { "after": next.to_string() } });
        }
        FakeResponse::json(200, &answer)
    }
}

pub(super) fn search(state: &mut State, request: &FakeRequest, now: i64) -> FakeResponse {
    let Some(body) = body_json(request) else {
        return state.error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1");
    };
    let query = match SearchQuery::read(state, &body) {
        Ok(query) => query,
        Err(answer) => return answer,
    };
    let groups = &query.groups;
    let mut matched = Vec::new();
    let indexed = |c: &&Contact| !c.archived && state.searchable(c.created_ms, now);
    for contact in state.contacts.values().filter(indexed) {
        match matches_groups(groups, &|p| property_value(contact, p)) {
            Ok(true) => matched.push(contact.clone()),
            Ok(false) => {}
            Err(message) => return state.error(400, "VALIDATION_ERROR", &message),
        }
    }
    if let Some(sort) = body
        .get("sorts")
        .and_then(Value::as_array)
        .and_then(|s| s.first())
    {
        let property = sort
            .get("propertyName")
            .and_then(Value::as_str)
            .unwrap_or("hs_object_id")
            .to_owned();
        let descending = sort.get("direction").and_then(Value::as_str) == Some("DESCENDING");
        matched.sort_by(|a, b| {
            let order = compare(
                &property_value(a, &property).unwrap_or_default(),
                &property_value(b, &property).unwrap_or_default(),
            );
            if descending { order.reverse() } else { order }
        });
    }
    query.page(&matched, |c| contact_json(c, &query.requested))
}
