//! `host-sim settings get|set`: the plugin's settings (R1-R6), global, a
//! Zoom user's or one webinar's, through the same `api` calls as `serve`.

use serde_json::{Value, json};

use crate::api;
use crate::bindings::settings;
use crate::sim::Simulator;

use super::output::{out, print_json};

#[derive(clap::Subcommand)]
pub enum SettingsCommand {
    /// The global settings, or one user's or one webinar's.
    Get {
        #[arg(long, conflicts_with = "webinar")]
        user: Option<String>,
        #[arg(long)]
        webinar: Option<String>,
    },
    /// Change settings: global ones by default, --user's or --webinar's when given.
    Set {
        /// A Zoom user's settings (R6a, R6b).
        #[arg(long, conflicts_with = "webinar")]
        user: Option<String>,
        /// One webinar's switch (R6c): on, off or default.
        #[arg(long)]
        webinar: Option<String>,
        /// NAME=VALUE, repeatable. Global: global_sync, webinar_sync, recording_sync
        /// (none | all-users | emails), host_exclusion_domains, recording_exclusion_domains,
        /// contact_exclusion_domains (comma-separated). User: sync_new_webinars,
        /// sync_recordings. Webinar: sync (on | off | default).
        #[arg(required = true)]
        changes: Vec<String>,
    },
}

/// Runs one `settings` command; prints the settings it read or wrote.
pub async fn run(sim: &Simulator, command: SettingsCommand, json: bool) -> anyhow::Result<()> {
    let value = match command {
        SettingsCommand::Get { user, webinar } => match (user, webinar) {
            (Some(user), _) => api::user_json(&api::user_settings(sim, &user).await?),
            (None, Some(webinar)) => {
                api::webinar_settings_json(&api::webinar_settings(sim, &webinar).await?)
            }
            (None, None) => api::global_json(&api::global_settings(sim).await?),
        },
        SettingsCommand::Set {
            user,
            webinar,
            changes,
        } => match (user, webinar) {
            (Some(user), _) => set_user(sim, user, &changes).await?,
            (None, Some(webinar)) => set_webinar(sim, webinar, &changes).await?,
            (None, None) => set_global(sim, &changes).await?,
        },
    };
    if json {
        print_json(&value);
    } else if let Some(fields) = value.as_object() {
        for (name, v) in fields {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Null => "default".into(),
                other => other.to_string(),
            };
            out(&format!("{name:<28} {v}"));
        }
    }
    Ok(())
}

/// A Zoom user's settings (R6a, R6b) with `changes` made.
async fn set_user(sim: &Simulator, user: String, changes: &[String]) -> anyhow::Result<Value> {
    let mut next = api::user_settings(sim, &user).await?;
    for change in changes {
        match split_change(change)? {
            ("sync_new_webinars", v) => next.sync_new_webinars = on_off("sync_new_webinars", v)?,
            ("sync_recordings", v) => next.sync_recordings = on_off("sync_recordings", v)?,
            (other, _) => anyhow::bail!(
                "unknown user setting {other:?}: use sync_new_webinars or sync_recordings"
            ),
        }
    }
    api::set_user_settings(sim, &next).await?;
    Ok(api::user_json(&next))
}

/// One webinar's switch (R6c): on, off, or the default (its host's setting).
async fn set_webinar(
    sim: &Simulator,
    webinar: String,
    changes: &[String],
) -> anyhow::Result<Value> {
    let mut next = settings::WebinarSettings {
        webinar,
        sync_enabled: None,
    };
    for change in changes {
        next.sync_enabled = match split_change(change)? {
            ("sync", "default") => None,
            ("sync", v) => Some(on_off("sync", v)?),
            (other, _) => {
                anyhow::bail!("unknown webinar setting {other:?}: use sync=on|off|default")
            }
        };
    }
    api::set_webinar_settings(sim, &next).await?;
    Ok(api::webinar_settings_json(&next))
}

/// The global settings (R1-R5) with the ones `changes` name replaced, read
/// as `PUT /settings` reads a JSON change (`api::global_with`).
async fn set_global(sim: &Simulator, changes: &[String]) -> anyhow::Result<Value> {
    let mut change = serde_json::Map::new();
    for text in changes {
        let (name, value) = split_change(text)?;
        let value = match name {
            "global_sync" | "webinar_sync" => json!(on_off(name, value)?),
            _ => json!(value),
        };
        change.insert(name.to_owned(), value);
    }
    let current = api::global_settings(sim).await?;
    let next =
        api::global_with(&current, &Value::Object(change)).map_err(|e| anyhow::anyhow!(e))?;
    api::set_global_settings(sim, &next).await?;
    Ok(api::global_json(&next))
}

fn on_off(name: &str, value: &str) -> anyhow::Result<bool> {
    match value {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        other => anyhow::bail!("{name} must be on or off, not {other:?}"),
    }
}

/// `NAME=VALUE` (a command-line argument, not a query string).
fn split_change(change: &str) -> anyhow::Result<(&str, &str)> {
    change
        .split_once('=')
        .map(|(k, v)| (k.trim(), v.trim()))
        .ok_or_else(|| anyhow::anyhow!("{change:?} is not NAME=VALUE (e.g. global_sync=on)"))
}
