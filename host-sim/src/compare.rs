//! Comparing what two runs left in the fake CRM: the chaos, fault and
//! crash tests (issue 9) each check a run against a clean one.

/// The CRM's records with the CRM's own ids replaced by the contacts'
/// emails and sorted: two runs that created contacts in a different order
/// (deliveries reordered, a sync in between) compare equal when they wrote
/// the same things.
pub fn normalized_crm(crm: &serde_json::Value) -> serde_json::Value {
    use serde_json::{Value, json};
    let email_of: std::collections::HashMap<String, String> = crm["contacts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["id"].to_string().trim_matches('"').to_owned(),
                c["properties"]["email"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let by_email = |id: &Value| {
        let id = id.to_string().trim_matches('"').to_owned();
        json!(email_of.get(&id).cloned().unwrap_or(id))
    };
    let sorted = |mut list: Vec<Value>| {
        list.sort_by_key(|v| v.to_string());
        Value::Array(list)
    };
    let list = |name: &str| crm[name].as_array().cloned().unwrap_or_default();
    let contacts = list("contacts")
        .into_iter()
        .map(|mut c| {
            c["id"] = by_email(&c["id"]);
            c
        })
        .collect();
    let participations = list("participations")
        .into_iter()
        .map(|mut p| {
            p["contactId"] = by_email(&p["contactId"]);
            p
        })
        .collect();
    // Timeline events and custom events (R10) name their contact by id.
    let by_contact = |key: &str| -> Vec<Value> {
        list(key)
            .into_iter()
            .map(|mut t| {
                if let Some(object) = t.get("objectId").cloned() {
                    t["objectId"] = by_email(&object);
                }
                t
            })
            .collect()
    };
    let timeline = by_contact("timeline_events");
    let custom_events = by_contact("custom_events");
    json!({
        "contacts": sorted(contacts),
        "participations": sorted(participations),
        "timeline_events": sorted(timeline),
        "custom_events": sorted(custom_events),
        // The event's own CRM id depends on when it was made.
        "marketing_events": sorted(
            list("marketing_events")
                .into_iter()
                .map(|mut e| {
                    if let Some(e) = e.as_object_mut() {
                        e.remove("objectId");
                    }
                    e
                })
                .collect()
        ),
        "calls": list("calls").len(),
    })
}

/// What differs between two [`normalized_crm`] states, record by record:
/// `-` only in `got` (or more often), `+` only in `expected`.
pub fn differences(got: &serde_json::Value, expected: &serde_json::Value) -> Vec<String> {
    use std::collections::BTreeMap;
    let mut out = Vec::new();
    for (kind, want) in expected.as_object().into_iter().flatten() {
        let have = &got[kind];
        match (have.as_array(), want.as_array()) {
            (Some(have), Some(want)) => {
                // Counted, not just looked up: a record written twice is a difference.
                let mut count: BTreeMap<String, i64> = BTreeMap::new();
                for h in have {
                    *count.entry(h.to_string()).or_default() += 1;
                }
                for w in want {
                    *count.entry(w.to_string()).or_default() -= 1;
                }
                for (record, n) in count {
                    let sign = if n > 0 { '-' } else { '+' };
                    for _ in 0..n.abs() {
                        out.push(format!("{sign} {kind}: {record}"));
                    }
                }
            }
            _ if have != want => out.push(format!("{kind}: {have} != {want}")),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::differences;

    #[test]
    fn a_record_written_twice_or_missing_is_a_difference() {
        let clean = json!({ "contacts": [{ "id": "a" }, { "id": "b" }], "calls": 2 });
        assert!(differences(&clean, &clean).is_empty());
        let doubled =
            json!({ "contacts": [{ "id": "a" }, { "id": "a" }, { "id": "b" }], "calls": 3 });
        assert_eq!(
            differences(&doubled, &clean),
            ["calls: 3 != 2", r#"- contacts: {"id":"a"}"#]
        );
        let missing = json!({ "contacts": [{ "id": "b" }], "calls": 2 });
        assert_eq!(differences(&missing, &clean), [r#"+ contacts: {"id":"a"}"#]);
    }
}
