//! Segmentation (R13): which contacts a marketer's filter selects, by the
//! four contact properties and by the attributes of the plugin's activity
//! events ("attended webinar X for at least 50 %"), whichever backend
//! wrote them (R10): a timeline event's tokens or a custom event's
//! properties, which carry the same names. In the real CRM these are list
//! filters; `host-sim crm search` applies the same conditions to the fake
//! CRM's records.

use serde_json::Value;

/// A comparison, as typed: `name OP value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub name: String,
    pub op: Op,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// Contains, case-insensitive.
    Contains,
}

/// Two-character operators first, so `>=` is not read as `>`.
const OPERATORS: [(&str, Op); 7] = [
    (">=", Op::Ge),
    ("<=", Op::Le),
    ("!=", Op::Ne),
    ("=", Op::Eq),
    (">", Op::Gt),
    ("<", Op::Lt),
    ("~", Op::Contains),
];

impl std::str::FromStr for Condition {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let found = OPERATORS
            .iter()
            .filter_map(|(symbol, op)| text.find(symbol).map(|at| (at, *symbol, *op)))
            .min_by_key(|(at, symbol, _)| (*at, std::cmp::Reverse(symbol.len())));
        let Some((at, symbol, op)) = found else {
            return Err(format!(
                "{text:?} is not a condition: write NAME OP VALUE with OP one of = != < <= > >= ~ (e.g. zoom_webinar_total_attended>=2)"
            ));
        };
        let name = text[..at].trim().to_owned();
        let value = text[at + symbol.len()..].trim().to_owned();
        if name.is_empty() {
            return Err(format!("{text:?} has no name before {symbol}"));
        }
        Ok(Condition { name, op, value })
    }
}

impl Condition {
    /// Numbers compare as numbers, everything else as text; a missing value
    /// matches only `!=`.
    pub fn matches(&self, actual: Option<&str>) -> bool {
        let Some(actual) = actual.filter(|a| !a.is_empty()) else {
            return self.op == Op::Ne && !self.value.is_empty();
        };
        let ordering = match (actual.parse::<f64>(), self.value.parse::<f64>()) {
            (Ok(a), Ok(b)) => a.partial_cmp(&b),
            _ => Some(actual.to_lowercase().cmp(&self.value.to_lowercase())),
        };
        use std::cmp::Ordering::{Equal, Greater, Less};
        match self.op {
            Op::Eq => ordering == Some(Equal),
            Op::Ne => ordering != Some(Equal),
            Op::Lt => ordering == Some(Less),
            Op::Le => matches!(ordering, Some(Less | Equal)),
            Op::Gt => ordering == Some(Greater),
            Op::Ge => matches!(ordering, Some(Greater | Equal)),
            Op::Contains => actual.to_lowercase().contains(&self.value.to_lowercase()),
        }
    }
}

/// A timeline event kind, by the prefix of the plugin's event ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Registration,
    Attendance,
    Recording,
}

impl std::str::FromStr for EventKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "registration" | "registered" => Ok(EventKind::Registration),
            "attendance" | "attended" => Ok(EventKind::Attendance),
            "recording" => Ok(EventKind::Recording),
            other => Err(format!(
                "{other:?} is not an event kind: use registration, attendance or recording"
            )),
        }
    }
}

impl EventKind {
    fn id_prefix(self) -> &'static str {
        match self {
            EventKind::Registration => "zoom-registration-",
            EventKind::Attendance => "zoom-attendance-",
            EventKind::Recording => "zoom-recording-",
        }
    }

    /// How a custom event of this kind is named after its portal prefix
    /// (`pe{portalId}_zoom_webinar_attendance`).
    fn custom_event_suffix(self) -> &'static str {
        match self {
            EventKind::Registration => "_zoom_webinar_registration",
            EventKind::Attendance => "_zoom_webinar_attendance",
            EventKind::Recording => "_zoom_webinar_recording_available",
        }
    }

    /// The kind of an activity event in the CRM dump, and its attributes:
    /// a timeline event by its id, a custom event by its name.
    pub fn of(event: &Value) -> Option<(EventKind, &Value)> {
        const KINDS: [EventKind; 3] = [
            EventKind::Registration,
            EventKind::Attendance,
            EventKind::Recording,
        ];
        if let Some(id) = event["id"].as_str() {
            let kind = KINDS.into_iter().find(|k| id.starts_with(k.id_prefix()))?;
            return Some((kind, &event["tokens"]));
        }
        let name = event["eventName"].as_str()?;
        let kind = KINDS
            .into_iter()
            .find(|k| name.starts_with("pe") && name.ends_with(k.custom_event_suffix()))?;
        Some((kind, &event["properties"]))
    }
}

/// Every activity event in a CRM dump: timeline events and custom events.
pub fn activity_events(crm: &Value) -> impl Iterator<Item = &Value> {
    ["timeline_events", "custom_events"]
        .into_iter()
        .flat_map(|key| crm[key].as_array().into_iter().flatten())
}

/// A marketer's filter: every property condition, and, when an event
/// kind is given, at least one event of that kind meeting every token
/// condition.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub properties: Vec<Condition>,
    pub event: Option<EventKind>,
    pub tokens: Vec<Condition>,
}

/// The contacts (live, as the CRM dump lists them) that `filter` selects.
pub fn select<'a>(crm: &'a Value, filter: &Filter) -> Vec<&'a Value> {
    let events: Vec<(EventKind, &str, &Value)> = activity_events(crm)
        .filter_map(|e| {
            let (kind, attributes) = EventKind::of(e)?;
            Some((kind, e["objectId"].as_str()?, attributes))
        })
        .collect();
    crm["contacts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["archived"] != true)
        .filter(|c| {
            filter
                .properties
                .iter()
                .all(|cond| cond.matches(c["properties"][&cond.name].as_str()))
        })
        .filter(|c| {
            let Some(kind) = filter.event else {
                return true;
            };
            let id = match &c["id"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            events.iter().any(|(k, contact, attributes)| {
                *k == kind
                    && *contact == id
                    && filter
                        .tokens
                        .iter()
                        .all(|cond| cond.matches(attributes[&cond.name].as_str()))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crm() -> Value {
        json!({
            "contacts": [
                {"id": 1, "archived": false, "properties": {"email": "ada@x.example", "zoom_webinar_total_attended": "2", "zoom_webinar_average_attendance_percentage": "75"}},
                {"id": 2, "archived": false, "properties": {"email": "alan@x.example", "zoom_webinar_total_attended": "1", "zoom_webinar_average_attendance_percentage": "30"}},
                {"id": 3, "archived": true, "properties": {"email": "gone@x.example", "zoom_webinar_total_attended": "5"}},
            ],
            "timeline_events": [
                {"id": "zoom-attendance-9-ada@x.example", "objectId": "1", "tokens": {"webinar_id": "9", "attendance_percentage": "50"}},
                {"id": "zoom-attendance-9-alan@x.example", "objectId": "2", "tokens": {"webinar_id": "9", "attendance_percentage": "30"}},
                {"id": "zoom-registration-8-r1", "objectId": "2", "tokens": {"webinar_id": "8"}},
            ],
        })
    }

    fn emails(selected: Vec<&Value>) -> Vec<&str> {
        selected
            .iter()
            .map(|c| c["properties"]["email"].as_str().unwrap())
            .collect()
    }

    #[test]
    fn conditions_parse_with_the_longest_operator_and_compare_numbers_as_numbers() {
        let c: Condition = "zoom_webinar_total_attended >= 10".parse().unwrap();
        assert_eq!(
            (c.name.as_str(), c.op, c.value.as_str()),
            ("zoom_webinar_total_attended", Op::Ge, "10")
        );
        assert!(c.matches(Some("10")) && c.matches(Some("11")) && !c.matches(Some("9")));
        assert!(!c.matches(None));
        let url: Condition = "zoom_webinar_last_registered_url~/w/82".parse().unwrap();
        assert!(url.matches(Some("https://us06web.zoom.us/w/8200")));
        assert!(
            "nothing here"
                .parse::<Condition>()
                .unwrap_err()
                .contains("NAME OP VALUE")
        );
    }

    #[test]
    fn r13_contacts_filter_by_properties_and_by_event_tokens() {
        let crm = crm();
        let by_property = Filter {
            properties: vec!["zoom_webinar_total_attended>=1".parse().unwrap()],
            ..Filter::default()
        };
        assert_eq!(
            emails(select(&crm, &by_property)),
            ["ada@x.example", "alan@x.example"],
            "archived contacts are not selected"
        );
        let attended_half = Filter {
            event: Some(EventKind::Attendance),
            tokens: vec![
                "webinar_id=9".parse().unwrap(),
                "attendance_percentage>=50".parse().unwrap(),
            ],
            ..Filter::default()
        };
        assert_eq!(emails(select(&crm, &attended_half)), ["ada@x.example"]);
        let registered = Filter {
            event: Some(EventKind::Registration),
            ..Filter::default()
        };
        assert_eq!(emails(select(&crm, &registered)), ["alan@x.example"]);
    }

    #[test]
    fn r13_custom_events_filter_by_their_properties_as_timeline_events_by_their_tokens() {
        // R10's custom events backend: the same attributes, as properties.
        let mut crm = crm();
        crm["timeline_events"] = json!([]);
        crm["custom_events"] = json!([
            {"eventName": "pe7_zoom_webinar_attendance", "uuid": "u1", "objectId": "1", "properties": {"webinar_id": "9", "attendance_percentage": "50"}},
            {"eventName": "pe7_zoom_webinar_attendance", "uuid": "u2", "objectId": "2", "properties": {"webinar_id": "9", "attendance_percentage": "30"}},
            {"eventName": "pe7_zoom_webinar_registration", "uuid": "u3", "objectId": "2", "properties": {"webinar_id": "8"}},
            {"eventName": "pe7_someone_elses_event", "uuid": "u4", "objectId": "1", "properties": {"webinar_id": "8"}},
        ]);
        let attended_half = Filter {
            event: Some(EventKind::Attendance),
            tokens: vec![
                "webinar_id=9".parse().unwrap(),
                "attendance_percentage>=50".parse().unwrap(),
            ],
            ..Filter::default()
        };
        assert_eq!(emails(select(&crm, &attended_half)), ["ada@x.example"]);
        let registered_8 = Filter {
            event: Some(EventKind::Registration),
            tokens: vec!["webinar_id=8".parse().unwrap()],
            ..Filter::default()
        };
        assert_eq!(emails(select(&crm, &registered_8)), ["alan@x.example"]);
    }
}
