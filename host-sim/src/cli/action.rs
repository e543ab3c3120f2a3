//! `host-sim action add-contact-to-webinar`: the workflow action (R21-R24)
//! for a CRM contact, run as HubSpot's workflow engine runs it.

use crate::api::{self, WebinarInput};
use crate::sim::Simulator;

use super::output::{out, print_json};

#[derive(clap::Subcommand)]
pub enum ActionCommand {
    /// "Add contact to Zoom webinar" for a CRM contact.
    AddContactToWebinar {
        /// The contact's email in the CRM.
        #[arg(long)]
        contact: String,
        /// The webinar id, as typed into the action.
        #[arg(long, required_unless_present = "property")]
        webinar: Option<String>,
        /// Or the contact property holding the webinar id.
        #[arg(long, conflicts_with = "webinar")]
        property: Option<String>,
    },
}

pub async fn run(sim: &Simulator, command: ActionCommand, json: bool) -> anyhow::Result<()> {
    let ActionCommand::AddContactToWebinar {
        contact,
        webinar,
        property,
    } = command;
    let contact_id = api::contact_id(sim, &contact).ok_or_else(|| {
        anyhow::anyhow!("the CRM has no contact {contact} (list them with `host-sim crm contacts`)")
    })?;
    let input = match (webinar, property) {
        (Some(w), _) => WebinarInput::Fixed(w),
        (None, Some(p)) => WebinarInput::Property(p),
        (None, None) => WebinarInput::Missing,
    };
    let callback = format!("cli-{}", crate::sim::now_ms());
    let outcome = api::add_contact_to_webinar(sim, &contact_id, input, &callback).await?;
    if json {
        print_json(&outcome.crm_json());
    } else {
        out(&outcome.text());
    }
    Ok(())
}
