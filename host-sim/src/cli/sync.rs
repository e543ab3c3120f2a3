//! `host-sim sync-now WEBINAR` (R20), `backfill [--since]` and `tick`:
//! the plugin's sync export, each printing its report.

use crate::api;
use crate::bindings::SyncReport;
use crate::sim::Simulator;

use super::output::{out, print_json};

#[derive(clap::Args)]
pub struct SyncNowArgs {
    webinar: String,
}

#[derive(clap::Args)]
pub struct BackfillArgs {
    /// RFC 3339, e.g. 2026-11-01T00:00:00Z.
    #[arg(long)]
    since: Option<String>,
}

pub async fn sync_now(sim: &Simulator, args: SyncNowArgs, json: bool) -> anyhow::Result<()> {
    report(api::sync_now(sim, &args.webinar).await?, json);
    Ok(())
}

pub async fn backfill(sim: &Simulator, args: BackfillArgs, json: bool) -> anyhow::Result<()> {
    report(api::backfill(sim, args.since.as_deref()).await?, json);
    Ok(())
}

pub async fn tick(sim: &Simulator, json: bool) -> anyhow::Result<()> {
    report(api::tick(sim).await?, json);
    Ok(())
}

fn report(report: SyncReport, json: bool) {
    if json {
        print_json(&api::report_json(&report));
    } else {
        out(&api::report_text(&report));
    }
}
