//! The CRM as the marketer sees it (the simulator's fake CRM): contacts
//! with the plugin's four properties (R12), marketing events with their
//! counts (R9), and a segment builder (R13) over the properties and the
//! attributes of the plugin's activity events, with the contacts it
//! selects. The records and the filter are those of `host-sim crm`
//! (`crm_view`, `segment`), so the page and the CLI agree.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use serde_json::Value;

use super::{Chrome, render};
use crate::crm_view::{self, ContactSummary, EventSummary};
use crate::exchange::Reply;
use crate::segment::{Condition, EventKind, Filter};
use crate::sim::Simulator;

/// Contacts shown on the CRM page; the segment builder finds the others.
const SHOWN: usize = 100;

/// The contact properties a segment can test: the plugin's four, and the
/// contact's own the marketer knows them by.
pub const PROPERTIES: [(&str, &str); 7] = [
    (
        "zoom_webinar_total_attended",
        "Total webinars attended (R12)",
    ),
    (
        "zoom_webinar_total_registrations",
        "Total webinar registrations (R12)",
    ),
    (
        "zoom_webinar_average_attendance_percentage",
        "Average attendance % (R12)",
    ),
    (
        "zoom_webinar_last_registered_url",
        "Last registered webinar URL (R12)",
    ),
    ("email", "Email"),
    ("firstname", "First name"),
    ("lastname", "Last name"),
];

/// The comparisons, as `segment::Condition` reads them, with their labels.
pub const OPERATORS: [(&str, &str); 7] = [
    ("=", "is"),
    ("!=", "is not"),
    (">=", "at least"),
    (">", "more than"),
    ("<=", "at most"),
    ("<", "less than"),
    ("~", "contains"),
];

/// How many property and attribute conditions the form offers.
const ROWS: usize = 3;

#[derive(Template)]
#[template(path = "console/crm.html")]
struct CrmPage {
    page: Chrome,
    events: Vec<EventSummary>,
    contacts: Vec<ContactSummary>,
    total: usize,
}

pub async fn page(sim: &Arc<Simulator>, page: Chrome) -> Reply {
    let crm = match crate::crm_view::crm_records(sim).await {
        Ok(crm) => crm,
        Err(e) => {
            return super::message(
                503,
                page,
                format!("The CRM's records could not be read: {e}"),
            );
        }
    };
    let mut audit = BTreeMap::new();
    for event in crm["marketing_events"].as_array().into_iter().flatten() {
        if let Some(webinar) = event["externalEventId"].as_str() {
            let entries = crate::scenario::audit_entries(sim, webinar).await;
            audit.insert(webinar.to_owned(), entries);
        }
    }
    let events = crm_view::marketing_events(&crm, sim.clock.now_ms(), &audit);
    let all: Vec<&Value> = crm["contacts"].as_array().into_iter().flatten().collect();
    let contacts = all
        .iter()
        .take(SHOWN)
        .map(|c| crm_view::contact(c))
        .collect();
    render(
        200,
        &CrmPage {
            page,
            events,
            contacts,
            total: all.len(),
        },
    )
}

/// One row of the builder, as submitted (kept, so the form shows it again).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConditionRow {
    pub index: usize,
    pub name: String,
    pub op: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "console/segment.html")]
struct SegmentPage {
    page: Chrome,
    properties: Vec<ConditionRow>,
    property_choices: &'static [(&'static str, &'static str)],
    operator_choices: &'static [(&'static str, &'static str)],
    event: String,
    tokens: Vec<ConditionRow>,
    /// The activity events' attributes the plugin marks filterable.
    token_names: Vec<(String, String)>,
    /// None before the first search.
    matches: Option<Vec<ContactSummary>>,
    /// The same filter as a `host-sim crm search` command.
    command: String,
    error: Option<String>,
}

fn rows(query: &[u8], prefix: char) -> Vec<ConditionRow> {
    (0..ROWS)
        .map(|i| {
            let field = |name: &str| {
                crate::query::param(query, &format!("{prefix}{name}{i}")).unwrap_or_default()
            };
            ConditionRow {
                index: i,
                name: field("name"),
                op: field("op"),
                value: field("value"),
            }
        })
        .collect()
}

/// The conditions of the rows that have a value (an empty row is unused).
fn conditions(rows: &[ConditionRow]) -> Result<Vec<Condition>, String> {
    rows.iter()
        .filter(|r| !r.name.is_empty() && !r.value.trim().is_empty())
        .map(|r| {
            let op = OPERATORS
                .iter()
                .find(|(s, _)| *s == r.op)
                .map_or("=", |(s, _)| s);
            format!("{}{op}{}", r.name, r.value.trim()).parse::<Condition>()
        })
        .collect()
}

/// The builder's filter, and the `host-sim crm search` command that applies it.
fn filter_of(
    properties: &[ConditionRow],
    event: &str,
    tokens: &[ConditionRow],
) -> Result<(Filter, String), String> {
    let kind = match event {
        "" => None,
        other => Some(other.parse::<EventKind>()?),
    };
    let filter = Filter {
        properties: conditions(properties)?,
        event: kind,
        tokens: if kind.is_some() {
            conditions(tokens)?
        } else {
            Vec::new()
        },
    };
    let quote = |c: &Condition, rows: &[ConditionRow]| {
        let op = rows
            .iter()
            .find(|r| r.name == c.name)
            .map_or("=", |r| r.op.as_str());
        format!(
            "'{}{}{}'",
            c.name,
            if op.is_empty() { "=" } else { op },
            c.value
        )
    };
    let mut command = "host-sim crm search".to_owned();
    for c in &filter.properties {
        command.push_str(&format!(" --where {}", quote(c, properties)));
    }
    if kind.is_some() {
        command.push_str(&format!(" --event {event}"));
        for c in &filter.tokens {
            command.push_str(&format!(" --token {}", quote(c, tokens)));
        }
    }
    Ok((filter, command))
}

/// The filterable attributes of the plugin's activity events (R10, R13),
/// from its `properties` export, each name once.
async fn token_names(sim: &Simulator) -> Vec<(String, String)> {
    let mut names: Vec<(String, String)> = Vec::new();
    if let Ok(types) = sim.runtime.timeline_event_types(&sim.installation).await {
        for t in types {
            for token in t.tokens.iter().filter(|t| t.filterable) {
                if !names.iter().any(|(n, _)| *n == token.name) {
                    names.push((token.name.clone(), format!("{} ({})", token.label, t.name)));
                }
            }
        }
    }
    names
}

pub async fn segment_page(sim: &Arc<Simulator>, page: Chrome, query: &str) -> Reply {
    let q = query.as_bytes();
    let properties = rows(q, 'p');
    let tokens = rows(q, 't');
    let event = crate::query::param(q, "event").unwrap_or_default();
    let searched = crate::query::param(q, "search").is_some();
    let token_names = token_names(sim).await;
    let mut view = SegmentPage {
        page,
        properties,
        property_choices: &PROPERTIES,
        operator_choices: &OPERATORS,
        event,
        tokens,
        token_names,
        matches: None,
        command: String::new(),
        error: None,
    };
    if searched {
        match filter_of(&view.properties, &view.event, &view.tokens) {
            Err(e) => view.error = Some(e),
            Ok((filter, command)) => match crate::crm_view::crm_records(sim).await {
                Err(e) => view.error = Some(format!("The CRM's records could not be read: {e}")),
                Ok(crm) => {
                    let selected = crate::segment::select(&crm, &filter);
                    view.matches = Some(selected.iter().map(|c| crm_view::contact(c)).collect());
                    view.command = command;
                }
            },
        }
    }
    let status = if view.error.is_some() { 422 } else { 200 };
    render(status, &view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r13_the_builder_reads_rows_as_the_cli_reads_where_and_token() {
        let query = b"pname0=zoom_webinar_total_attended&pop0=%3E%3D&pvalue0=2&pname1=email&pop1=~&pvalue1=&event=attendance&tname0=attendance_percentage&top0=%3E%3D&tvalue0=50";
        let (filter, command) =
            filter_of(&rows(query, 'p'), "attendance", &rows(query, 't')).unwrap();
        assert_eq!(
            filter.properties,
            vec!["zoom_webinar_total_attended>=2".parse().unwrap()]
        );
        assert_eq!(filter.event, Some(EventKind::Attendance));
        assert_eq!(
            filter.tokens,
            vec!["attendance_percentage>=50".parse().unwrap()]
        );
        assert_eq!(
            command,
            "host-sim crm search --where 'zoom_webinar_total_attended>=2' --event attendance --token 'attendance_percentage>=50'"
        );
        assert!(filter_of(&[], "webinars", &[]).is_err());
    }
}
