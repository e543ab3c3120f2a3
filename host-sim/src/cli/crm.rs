//! `host-sim crm contacts|events|search|dump`: what the CRM holds, read from
//! the in-process fake (`connection.mode = "fake"`) or from a `host-sim
//! fakes` process (`"remote"`, through its inspection route, see
//! `fake_server.rs`), and rendered the same way from either: both give the
//! JSON of `FakeCrm::dump`, and everything below works on that.

use std::collections::BTreeMap;

use anyhow::anyhow;
use serde_json::{Value, json};

use super::output::pretty;
use crate::crm_view::{self, crm_records};
use crate::scenario;
use crate::segment::{self, Condition, EventKind, Filter};
use crate::sim::Simulator;

#[derive(clap::Subcommand)]
pub enum CrmCommand {
    /// Contacts with the plugin's four properties.
    Contacts {
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Marketing events with their registered / attended / cancelled counts.
    Events,
    /// Segment contacts (R13) by property and by the tokens of the plugin's timeline events.
    Search {
        /// PROPERTY OP VALUE, repeatable, e.g. 'zoom_webinar_total_attended>=2'.
        #[arg(long = "where")]
        conditions: Vec<String>,
        /// Contacts with a timeline event of this kind: registration, attendance or recording.
        #[arg(long)]
        event: Option<String>,
        /// TOKEN OP VALUE on that event, repeatable, e.g. 'webinar_id=82000000001', 'attendance_percentage>=50'.
        #[arg(long = "token", requires = "event")]
        tokens: Vec<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Everything the CRM holds as JSON: contacts, properties, marketing events and participations, timeline and custom events, calls with their associations, workflow action definitions and executions.
    Dump,
}

const PROPERTIES: [(&str, &str); 4] = [
    ("zoom_webinar_average_attendance_percentage", "avg att %"),
    ("zoom_webinar_total_registrations", "registered"),
    ("zoom_webinar_total_attended", "attended"),
    (
        "zoom_webinar_last_registered_url",
        "last registered webinar",
    ),
];

fn contacts_out(contacts: &[&Value], limit: usize, json: bool, out: &mut dyn FnMut(&str)) {
    let total = contacts.len();
    if json {
        out(&pretty(&json!({
            "total": total,
            "contacts": contacts.iter().take(limit).map(|c| json!({
                "id": c["id"], "archived": c["archived"], "properties": c["properties"],
            })).collect::<Vec<_>>(),
        })));
        return;
    }
    out(&format!(
        "{:<36} {:<22} {:>9} {:>10} {:>8}  {}",
        "email", "name", PROPERTIES[0].1, PROPERTIES[1].1, PROPERTIES[2].1, PROPERTIES[3].1
    ));
    for c in contacts.iter().take(limit) {
        let p = |name: &str| c["properties"][name].as_str().unwrap_or("").to_owned();
        let name = format!("{} {}", p("firstname"), p("lastname"));
        let deleted = if c["archived"] == true {
            " (deleted)"
        } else {
            ""
        };
        out(&format!(
            "{:<36} {:<22} {:>9} {:>10} {:>8}  {}{deleted}",
            p("email"),
            name.trim(),
            p(PROPERTIES[0].0),
            p(PROPERTIES[1].0),
            p(PROPERTIES[2].0),
            p(PROPERTIES[3].0)
        ));
    }
    if total > limit {
        out(&format!("... {total} contacts in all (--limit shows more)"));
    } else {
        out(&format!("{total} contact(s)"));
    }
}

/// Runs one `crm` command, each line of its output through `out`; `json`:
/// the contacts and events as JSON (`dump` is JSON either way).
pub async fn run(
    sim: &Simulator,
    command: CrmCommand,
    json: bool,
    out: &mut dyn FnMut(&str),
) -> anyhow::Result<()> {
    // The filter is read before the records are: a typo fails without
    // asking the fakes.
    let filter = match &command {
        CrmCommand::Search {
            conditions,
            event,
            tokens,
            ..
        } => Some(filter(conditions, event.as_deref(), tokens)?),
        _ => None,
    };
    let crm = crm_records(sim).await?;
    match command {
        CrmCommand::Contacts { limit } => {
            let contacts: Vec<&Value> = crm["contacts"].as_array().into_iter().flatten().collect();
            contacts_out(&contacts, limit, json, out);
        }
        CrmCommand::Events => {
            // The audit log (R19c: attendees without an email) is the
            // plugin's, in this process's state whichever fakes it wrote to.
            let mut audit = BTreeMap::new();
            for event in crm["marketing_events"].as_array().into_iter().flatten() {
                if let Some(webinar) = event["externalEventId"].as_str() {
                    let entries = scenario::audit_entries(sim, webinar).await;
                    audit.insert(webinar.to_owned(), entries);
                }
            }
            let events = crm_view::marketing_events(&crm, sim.clock.now_ms(), &audit);
            if json {
                out(&pretty(&serde_json::to_value(&events)?));
            } else {
                for e in &events {
                    out(&crm_view::event_line(e));
                }
                if events.is_empty() {
                    out("no marketing events yet (run `host-sim demo`, or sync a webinar)");
                }
            }
        }
        CrmCommand::Search { limit, .. } => {
            let filter = filter.unwrap_or_default();
            let selected = segment::select(&crm, &filter);
            contacts_out(&selected, limit, json, out);
        }
        CrmCommand::Dump => out(&pretty(&crm)),
    }
    Ok(())
}

fn filter(conditions: &[String], event: Option<&str>, tokens: &[String]) -> anyhow::Result<Filter> {
    let parse = |list: &[String]| -> anyhow::Result<Vec<Condition>> {
        list.iter()
            .map(|c| c.parse::<Condition>().map_err(|e| anyhow!(e)))
            .collect()
    };
    Ok(Filter {
        properties: parse(conditions)?,
        event: event
            .map(|e| e.parse::<EventKind>().map_err(|e| anyhow!(e)))
            .transpose()?,
        tokens: parse(tokens)?,
    })
}
