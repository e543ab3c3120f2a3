//! The fake CRM's calls: their recordings, their custom properties, and
//! how they are found again (associations, batch read, search).

use super::*;

#[test]
fn calls_need_https_recordings_and_existing_contacts() {
    let (crm, _) = crm();
    let ada = crm.contacts()[0].id.to_string();
    let call = |url: &str, contact: &str| {
        json!({
            "properties": { "hs_timestamp": "2026-11-20T15:00:00Z", "hs_call_title": "Webinar recording", "hs_call_recording_url": url, "hs_call_body": "Hannah Host: Welcome!" },
            "associations": [{ "to": { "id": contact }, "types": [{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 194 }] }],
        })
    };
    let created = post(
        &crm,
        "/crm/v3/objects/calls",
        call("https://zoom.us/rec/share/1", &ada),
    );
    assert_eq!(created.status, 201);
    assert_eq!(body(&created)["associations"]["contacts"][0], ada);
    assert_eq!(
        post(&crm, "/crm/v3/objects/calls", call("http://insecure", &ada)).status,
        400
    );
    assert_eq!(
        post(
            &crm,
            "/crm/v3/objects/calls",
            call("https://zoom.us/rec/share/1", "999999")
        )
        .status,
        400
    );
}

/// A call associated with the contact `ada`, holding `key` in the
/// custom property `zoom_webinar_call_key`.
fn keyed_call(ada: &str, key: &str) -> Value {
    json!({
        "properties": { "hs_timestamp": "2026-11-20T15:00:00Z", "zoom_webinar_call_key": key },
        "associations": [{ "to": { "id": ada }, "types": [{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 194 }] }],
    })
}

/// Defines the calls' `zoom_webinar_call_key` in its own group (a second
/// group of the same name is a 409); contacts do not get it.
fn define_call_key(crm: &FakeCrm) {
    let group = json!({ "name": "zoom_webinars", "label": "Zoom webinars" });
    assert_eq!(
        post(crm, "/crm/v3/properties/calls/groups", group.clone()).status,
        201
    );
    assert_eq!(
        post(crm, "/crm/v3/properties/calls/groups", group).status,
        409
    );
    let property = json!({ "name": "zoom_webinar_call_key", "label": "Key", "type": "string", "fieldType": "text", "groupName": "zoom_webinars" });
    assert_eq!(post(crm, "/crm/v3/properties/calls", property).status, 201);
    // The calls' properties are their own: contacts do not have it.
    assert!(
        body(&get(crm, "/crm/v3/properties/contacts"))["results"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

/// Read from the records, the calls `ids` are there at once: through the
/// contact `ada`'s associations, then a batch read of their properties.
fn assert_calls_are_read_from_the_records(crm: &FakeCrm, ada: &str, ids: &[String]) {
    let associated = body(&post(
        crm,
        "/crm/v4/associations/contacts/calls/batch/read",
        json!({ "inputs": [{ "id": ada }, { "id": "999" }] }),
    ));
    assert_eq!(associated["results"][0]["from"]["id"], ada);
    let to: Vec<String> = associated["results"][0]["to"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["toObjectId"].to_string())
        .collect();
    assert_eq!(to, ids);
    assert_eq!(associated["errors"][0]["context"]["fromObjectId"][0], "999");
    let inputs: Vec<Value> = ids.iter().map(|id| json!({ "id": id })).collect();
    let read = body(&post(
        crm,
        "/crm/v3/objects/calls/batch/read",
        json!({ "inputs": inputs, "properties": ["zoom_webinar_call_key"], "propertiesWithHistory": [] }),
    ));
    let mut keys: Vec<&str> = read["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["properties"]["zoom_webinar_call_key"].as_str().unwrap())
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["w:1", "w:2", "w:3"]);
}

/// Search finds the calls keyed `w:1` and `w:3` by their key, a page at a
/// time, only once the index caught up (API-NOTES, "Search lags writes"):
/// never the way to confirm a write just made.
fn assert_calls_are_searched_by_their_key(crm: &FakeCrm, clock: &Clock) {
    let keys_in = |keys: &[&str]| {
        json!({
            "filterGroups": [{ "filters": [{ "propertyName": "zoom_webinar_call_key", "operator": "IN", "values": keys }] }],
        })
    };
    let early = body(&post(
        crm,
        "/crm/v3/objects/calls/search",
        keys_in(&["w:1"]),
    ));
    assert_eq!(early["total"], 0);
    clock.advance(Duration::from_secs(10));
    let search = |keys: &[&str], limit: u64, after: Option<&str>| {
        let mut query = json!({
            "filterGroups": [{ "filters": [{ "propertyName": "zoom_webinar_call_key", "operator": "IN", "values": keys }] }],
            "properties": ["zoom_webinar_call_key"],
            "limit": limit,
        });
        if let Some(after) = after {
            query["after"] = json!(after);
        }
        body(&post(crm, "/crm/v3/objects/calls/search", query))
    };
    let page = search(&["w:1", "w:3", "w:9"], 1, None);
    assert_eq!(page["total"], 2);
    assert_eq!(
        page["results"][0]["properties"]["zoom_webinar_call_key"],
        "w:1"
    );
    let next = page["paging"]["next"]["after"].as_str().unwrap().to_owned();
    let page = search(&["w:1", "w:3", "w:9"], 1, Some(&next));
    assert_eq!(
        page["results"][0]["properties"]["zoom_webinar_call_key"],
        "w:3"
    );
    assert!(page.get("paging").is_none());
    assert_eq!(search(&["w:1"], 201, None)["category"], "VALIDATION_ERROR");
}

#[test]
fn calls_hold_only_defined_custom_properties_and_are_found_by_them() {
    let (crm, clock) = crm();
    let ada = crm.contacts()[0].id.to_string();
    // As in the CRM: a property the account does not define is refused.
    let refused = post(&crm, "/crm/v3/objects/calls", keyed_call(&ada, "w:1"));
    assert_eq!(refused.status, 400);
    assert!(
        body(&refused)["message"]
            .as_str()
            .unwrap()
            .contains("Property \"zoom_webinar_call_key\" does not exist"),
        "{}",
        body(&refused)
    );
    define_call_key(&crm);
    let mut ids = Vec::new();
    for key in ["w:1", "w:2", "w:3"] {
        let made = post(&crm, "/crm/v3/objects/calls", keyed_call(&ada, key));
        assert_eq!(made.status, 201);
        ids.push(body(&made)["id"].as_str().unwrap().to_owned());
    }
    assert_calls_are_read_from_the_records(&crm, &ada, &ids);
    assert_calls_are_searched_by_their_key(&crm, &clock);
}
