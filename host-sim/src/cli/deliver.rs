//! `host-sim deliver FILE`: a Zoom webhook body signed with the configured
//! secret token and delivered to the plugin, as Zoom would (R29).

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::sim::Simulator;

use super::output::{out, print_json};

#[derive(clap::Args)]
pub struct DeliverArgs {
    file: PathBuf,
}

pub async fn run(sim: &Simulator, args: DeliverArgs, json: bool) -> anyhow::Result<()> {
    let file = &args.file;
    let body = std::fs::read(file).map_err(|e| {
        anyhow::anyhow!(
            "cannot read {}: {e} (give the path of a JSON webhook body)",
            file.display()
        )
    })?;
    let answer = sim.deliver(&sim.zoom_delivery(&body)).await?;
    let text = String::from_utf8_lossy(&answer.body).into_owned();
    let parsed = serde_json::from_str::<Value>(&text).ok();
    if json {
        print_json(&json!({
            "status": answer.status,
            "body": parsed.clone().unwrap_or(Value::String(text.clone())),
        }));
    } else {
        out(&format!("{} {text}", answer.status));
    }
    // A script must tell a refusal (400 malformed, 401 forged, 413
    // too large) from a delivery the plugin took.
    if answer.status >= 400 {
        let reason = parsed
            .as_ref()
            .and_then(|v| v["reason"].as_str().or(v["error"].as_str()))
            .unwrap_or(&text);
        anyhow::bail!(
            "the plugin refused the delivery ({}): {reason}",
            answer.status
        );
    }
    Ok(())
}
