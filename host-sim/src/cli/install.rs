//! `host-sim install` and `host-sim properties`: what the plugin sets up
//! in the CRM, and what it defines.

use serde_json::json;

use crate::sim::Simulator;

use super::output::{out, print_json};

pub async fn install(sim: &Simulator, json: bool) -> anyhow::Result<()> {
    let report = sim
        .runtime
        .install(&sim.installation)
        .await?
        .map_err(|e| anyhow::anyhow!("install failed: {}", e.describe()))?;
    if json {
        print_json(
            &json!({ "created": report.created, "already_present": report.already_present, "not_set_up": report.not_set_up }),
        );
        return Ok(());
    }
    for created in &report.created {
        out(&format!("created          {created}"));
    }
    for present in &report.already_present {
        out(&format!("already present  {present}"));
    }
    // R10: install succeeded, without these.
    for missing in &report.not_set_up {
        out(&format!("not set up       {missing}"));
    }
    Ok(())
}

pub async fn properties(sim: &Simulator, json: bool) -> anyhow::Result<()> {
    let group = sim
        .runtime
        .contact_property_group(&sim.installation)
        .await?;
    let properties = sim.runtime.contact_properties(&sim.installation).await?;
    let events = sim.runtime.timeline_event_types(&sim.installation).await?;
    let actions = sim.runtime.action_definitions(&sim.installation).await?;
    if json {
        print_json(&json!({
            "group": { "name": group.name, "label": group.label },
            "contact_properties": properties.iter().map(|p| json!({
                "name": p.name, "label": p.label, "field_type": p.field_type,
            })).collect::<Vec<_>>(),
            "timeline_event_types": events.iter().map(|t| json!({
                "id": t.id, "name": t.name,
                "tokens": t.tokens.iter().map(|k| &k.name).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "workflow_actions": actions.iter().map(|a| json!({
                "id": a.id, "label": a.label,
                "inputs": a.input_fields.iter().map(|f| &f.name).collect::<Vec<_>>(),
                "outputs": a.output_fields.iter().map(|f| &f.name).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    out(&format!(
        "Contact properties (group {:?}, {}):",
        group.name, group.label
    ));
    for p in &properties {
        out(&format!(
            "  {:<45} {:<12} {}",
            p.name, p.field_type, p.label
        ));
    }
    out("Timeline event types:");
    for t in &events {
        let tokens: Vec<_> = t.tokens.iter().map(|k| k.name.as_str()).collect();
        out(&format!(
            "  {:<30} {} [{}]",
            t.id,
            t.name,
            tokens.join(", ")
        ));
    }
    out("Workflow actions:");
    for a in &actions {
        let inputs: Vec<_> = a.input_fields.iter().map(|f| f.name.as_str()).collect();
        let outputs: Vec<_> = a.output_fields.iter().map(|f| f.name.as_str()).collect();
        out(&format!(
            "  {:<30} {} (in: {}; out: {})",
            a.id,
            a.label,
            inputs.join(", "),
            outputs.join(", ")
        ));
    }
    Ok(())
}
