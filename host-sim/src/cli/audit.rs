//! `host-sim audit WEBINAR`: a webinar's audit log (R19), every entry with
//! the records it concerns.

use serde_json::json;

use crate::api;
use crate::sim::Simulator;

use super::output::{out, print_json};

#[derive(clap::Args)]
pub struct AuditArgs {
    /// The Zoom webinar id.
    webinar: String,
}

pub async fn run(sim: &Simulator, args: AuditArgs, json: bool) -> anyhow::Result<()> {
    let webinar = &args.webinar;
    let entries = api::audit_log(sim, webinar).await?;
    if json {
        print_json(&json!(
            entries.iter().map(api::audit_json).collect::<Vec<_>>()
        ));
        return Ok(());
    }
    if entries.is_empty() {
        out(&format!(
            "webinar {webinar}: no audit entries (nothing synced or left out yet)"
        ));
    }
    for e in &entries {
        out(&format!(
            "{}  {:<24} {}",
            crate::clock::rfc3339(e.at),
            api::audit_kind_name(e.kind),
            e.message
        ));
        if !e.records.is_empty() {
            out(&format!("{:>46} {}", "records:", e.records.join(", ")));
        }
    }
    Ok(())
}
