//! An [`Outcome`] for people (`scenario run` without `--json`; the JSON is
//! the outcome's serde form).

use serde_json::Value;

use super::run::Outcome;
use crate::crm_view;

/// How many contacts the text shows (`--json` has them all).
const CONTACTS_SHOWN: usize = 20;
/// How many entries of each audit log the text shows.
const AUDIT_ENTRIES_SHOWN: usize = 10;

fn line(out: &mut String, text: &str) {
    out.push_str(text);
    out.push('\n');
}

impl Outcome {
    /// A readable summary for people.
    pub fn render(&self) -> String {
        let mut out = String::new();
        line(&mut out, &format!("Scenario: {}", self.name));
        self.render_steps(&mut out);
        self.render_crm(&mut out);
        self.render_audit(&mut out);
        line(&mut out, "\nAPI calls:");
        for (service, n) in &self.api_calls {
            line(&mut out, &format!("  {service}: {n}"));
        }
        // What a marketer looks for last: the events' counts and the contacts' properties.
        self.render_marketing_events(&mut out);
        self.render_contacts(&mut out);
        out
    }

    fn render_steps(&self, out: &mut String) {
        line(out, "\nSteps:");
        for (i, s) in self.steps.iter().enumerate() {
            line(
                out,
                &format!("  {:>2}. {}\n      -> {}", i + 1, s.step, s.result),
            );
        }
    }

    fn render_crm(&self, out: &mut String) {
        let count = |key: &str| self.crm[key].as_array().map_or(0, Vec::len);
        line(out, "\nCRM:");
        line(
            out,
            &format!(
                "  {} contact(s), {} participation(s), {} timeline event(s), {} call(s)",
                count("contacts"),
                count("participations"),
                count("timeline_events"),
                count("calls")
            ),
        );
    }

    fn render_audit(&self, out: &mut String) {
        line(out, "\nAudit logs:");
        for (webinar, entries) in &self.audit {
            match entries {
                Value::Array(list) => {
                    line(out, &format!("  {webinar}: {} entries", list.len()));
                    for e in list.iter().take(AUDIT_ENTRIES_SHOWN) {
                        line(
                            out,
                            &format!(
                                "    [{}] {}",
                                e["kind"].as_str().unwrap_or(""),
                                e["message"].as_str().unwrap_or("")
                            ),
                        );
                    }
                }
                other => line(
                    out,
                    &format!("  {webinar}: {}", other.as_str().unwrap_or("")),
                ),
            }
        }
    }

    fn render_marketing_events(&self, out: &mut String) {
        line(out, "\nMarketing events:");
        for e in &self.marketing_events {
            line(out, &format!("  {}", crm_view::event_line(e)));
        }
        if self.marketing_events.is_empty() {
            line(out, "  none");
        }
    }

    fn render_contacts(&self, out: &mut String) {
        let contacts: Vec<_> = self.crm["contacts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(crm_view::contact)
            .collect();
        line(
            out,
            &format!(
                "\nContacts ({}) and their Zoom properties (R12):",
                contacts.len()
            ),
        );
        for row in crm_view::contact_lines(&contacts[..contacts.len().min(CONTACTS_SHOWN)]) {
            line(out, &format!("  {row}"));
        }
        if contacts.len() > CONTACTS_SHOWN {
            line(
                out,
                &format!(
                    "  ... and {} more (--json has them all)",
                    contacts.len() - CONTACTS_SHOWN
                ),
            );
        }
    }
}
