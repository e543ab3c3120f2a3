//! What each kind of [`Step`] does to the simulator, and the one-line
//! result the outcome keeps of it.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::generate::SplitMix64;
use super::model::{Signing, Step};
use super::run::{Progress, apply_settings};
use crate::api;
use crate::bindings::{PluginError, SyncReport, webhooks};
use crate::clock::parse_rfc3339;
use crate::fakes::crm::FakeCrm;
use crate::fakes::crm::webhooks::ContactChange;
use crate::fakes::zoom::webhooks::{WebhookEvent, signature_headers};
use crate::runtime::CallError;
use crate::sim::{Simulator, header};

/// The public address the simulator's CRM webhooks are delivered to.
pub const CRM_WEBHOOK_PATH: &str = "/webhooks/crm";

/// `sync_now webinar=812…`: the step's kind, then its fields.
pub(super) fn step_label(step: &Step) -> String {
    let Ok(Value::Object(mut map)) = serde_json::to_value(step) else {
        return format!("{step:?}");
    };
    let kind = map
        .remove("do")
        .and_then(|d| d.as_str().map(str::to_owned))
        .unwrap_or_default();
    let fields = map
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            // A raw body is summarised: its event and size, not its text.
            Value::String(body) if k == "body" => {
                let event = serde_json::from_str::<Value>(body)
                    .ok()
                    .and_then(|v| v["event"].as_str().map(str::to_owned));
                match event {
                    Some(event) => format!("event={event} ({} bytes)", body.len()),
                    None => format!("body=({} bytes, not a Zoom event)", body.len()),
                }
            }
            Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        });
    std::iter::once(kind)
        .chain(fields)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs one step; its result, or why the scenario stops here.
pub(super) async fn run_step(
    sim: &Simulator,
    step: &Step,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<String, String> {
    match step {
        Step::ZoomWebhook { event, times } => zoom_webhook(sim, event, *times).await,
        Step::ZoomWebhookRaw { body, signing } => zoom_webhook_raw(sim, body, *signing).await,
        Step::Settings { settings } => Ok(apply_settings(sim, settings).await),
        Step::PlayWebinar {
            webinar,
            shuffle_seed,
            times,
        } => play_webinar(sim, *webinar, *shuffle_seed, *times, progress).await,
        Step::CrmWebhook { change, email } => crm_webhook(sim, *change, email).await,
        Step::SyncNow { webinar } => Ok(sync_result(
            sim.runtime.sync_now(&sim.installation, webinar).await,
        )),
        Step::Backfill { since } => backfill(sim, since.as_deref()).await,
        Step::Tick => Ok(sync_result(sim.runtime.tick(&sim.installation).await)),
        Step::AddContactToWebinar {
            contact,
            webinar,
            property,
        } => add_contact_to_webinar(sim, contact, webinar.as_deref(), property.as_deref()).await,
        Step::CompleteRecording { webinar } => complete_recording(sim, *webinar),
        Step::AdvanceClock { minutes } => {
            sim.clock.advance(Duration::from_secs(minutes * 60));
            Ok(format!(
                "clock at {}",
                crate::clock::rfc3339(sim.clock.now_ms())
            ))
        }
    }
}

/// A sync's report in one line (the notes are in the audit logs).
fn sync_result(result: Result<Result<SyncReport, PluginError>, CallError>) -> String {
    match result {
        Ok(Ok(report)) => format!(
            "written {}, skipped {}, failed {}, pending {}",
            report.written, report.skipped, report.failed, report.pending
        ),
        Ok(Err(e)) => format!("error: {}", e.describe()),
        Err(e) => format!("call failed: {e}"),
    }
}

fn answer_text(answer: &webhooks::Answer) -> String {
    format!(
        "{} {}",
        answer.status,
        String::from_utf8_lossy(&answer.body)
    )
}

async fn deliver(sim: &Simulator, delivery: &webhooks::Delivery) -> Result<String, String> {
    sim.deliver(delivery)
        .await
        .map(|a| answer_text(&a))
        .map_err(|e| e.to_string())
}

async fn zoom_webhook(
    sim: &Simulator,
    event: &WebhookEvent,
    times: Option<u32>,
) -> Result<String, String> {
    let body = sim
        .zoom
        .webhook_body(event)
        .map_err(|e| e.to_string())?
        .to_string();
    let mut answers = Vec::new();
    for _ in 0..times.unwrap_or(1).max(1) {
        answers.push(deliver(sim, &sim.zoom_delivery(body.as_bytes())).await?);
    }
    Ok(answers.join(" | "))
}

async fn zoom_webhook_raw(sim: &Simulator, body: &str, signing: Signing) -> Result<String, String> {
    let mut delivery = sim.zoom_delivery(body.as_bytes());
    let now_s = sim.clock.now_ms() / 1000;
    let resign = |secret: &str, at: i64| {
        signature_headers(secret, at, body.as_bytes())
            .into_iter()
            .map(|(n, v)| header(&n, &v))
            .collect::<Vec<_>>()
    };
    match signing {
        Signing::Valid => {}
        Signing::Unsigned => delivery.headers.retain(|h| !h.name.starts_with("x-zm-")),
        Signing::Forged => {
            delivery.headers.retain(|h| !h.name.starts_with("x-zm-"));
            delivery
                .headers
                .extend(resign("not-the-secret-token", now_s));
        }
        Signing::Stale => {
            delivery.headers.retain(|h| !h.name.starts_with("x-zm-"));
            delivery.headers.extend(resign(
                sim.config.zoom.webhook_secret_token.expose(),
                now_s - 600,
            ));
        }
    }
    deliver(sim, &delivery).await
}

async fn play_webinar(
    sim: &Simulator,
    webinar: u64,
    shuffle_seed: Option<u64>,
    times: Option<u32>,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<String, String> {
    let mut events = Vec::new();
    for event in sim.zoom.lifecycle(webinar).map_err(|e| e.to_string())? {
        for _ in 0..times.unwrap_or(1).max(1) {
            events.push(event.clone());
        }
    }
    if let Some(seed) = shuffle_seed {
        shuffle(&mut events, seed);
    }
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for (done, event) in events.iter().enumerate() {
        if done % 50 == 0 {
            progress(Progress::Deliveries {
                done,
                total: events.len(),
            });
        }
        let body = sim
            .zoom
            .webhook_body(event)
            .map_err(|e| e.to_string())?
            .to_string();
        let answer = sim
            .deliver(&sim.zoom_delivery(body.as_bytes()))
            .await
            .map_err(|e| e.to_string())?;
        *statuses.entry(answer.status).or_insert(0) += 1;
    }
    let summary: Vec<String> = statuses.iter().map(|(s, n)| format!("{n}x {s}")).collect();
    Ok(format!(
        "{} deliveries: {}",
        events.len(),
        summary.join(", ")
    ))
}

async fn crm_webhook(
    sim: &Simulator,
    change: ContactChange,
    email: &str,
) -> Result<String, String> {
    let body = sim
        .crm
        .change_contact(email, change)
        .ok_or_else(|| format!("the CRM has no contact {email}"))?
        .to_string();
    let now = sim.clock.now_ms();
    let headers = FakeCrm::webhook_headers(
        sim.config.crm.client_secret.expose(),
        &format!("{}{CRM_WEBHOOK_PATH}", sim.config.public_url),
        body.as_bytes(),
        now,
    );
    let delivery = webhooks::Delivery {
        source: webhooks::WebhookSource::Crm,
        method: "POST".into(),
        path: CRM_WEBHOOK_PATH.into(),
        headers: headers.iter().map(|(n, v)| header(n, v)).collect(),
        body: body.into_bytes(),
        received_at: now,
    };
    deliver(sim, &delivery).await
}

async fn backfill(sim: &Simulator, since: Option<&str>) -> Result<String, String> {
    let since = match since {
        Some(text) => Some(
            parse_rfc3339(text).ok_or_else(|| format!("since {text:?} is not an RFC 3339 time"))?,
        ),
        None => None,
    };
    Ok(sync_result(
        sim.runtime.backfill(&sim.installation, since).await,
    ))
}

async fn add_contact_to_webinar(
    sim: &Simulator,
    contact: &str,
    webinar: Option<&str>,
    property: Option<&str>,
) -> Result<String, String> {
    let contact_id =
        api::contact_id(sim, contact).ok_or_else(|| format!("the CRM has no contact {contact}"))?;
    let input = match (webinar, property) {
        (Some(webinar), _) => api::WebinarInput::Fixed(webinar.to_owned()),
        (None, Some(property)) => api::WebinarInput::Property(property.to_owned()),
        (None, None) => api::WebinarInput::Missing,
    };
    let callback = format!("cb-{contact_id}-{}", webinar.unwrap_or("-"));
    Ok(
        match api::add_contact_to_webinar(sim, &contact_id, input, &callback).await {
            Ok(outcome) => outcome.text(),
            Err(e) => format!("call failed: {e}"),
        },
    )
}

/// Changes the Zoom account: the webinar's recording finishes processing.
fn complete_recording(sim: &Simulator, webinar: u64) -> Result<String, String> {
    let found = sim.zoom.update(|account| {
        account
            .webinar_mut(webinar)
            .and_then(|w| w.recording.as_mut())
            .map(|r| {
                for file in &mut r.files {
                    file.status = "completed".into();
                }
            })
    });
    found
        .map(|()| "recording completed".to_owned())
        .ok_or_else(|| format!("webinar {webinar} has no recording"))
}

/// Fisher-Yates with SplitMix64: the same seed gives the same order.
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut rng = SplitMix64::new(seed);
    for i in (1..items.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}
