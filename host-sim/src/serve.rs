//! `host-sim serve`: the plugin behind HTTP, as a real Zoom subscription
//! or CRM would call it. Each route is a thin door onto one export:
//!
//! | route | export |
//! | --- | --- |
//! | `POST /webhooks/zoom`, `POST /webhooks/crm` | `webhooks.handle` (raw body and headers, for the signature) |
//! | `POST /actions/add-contact-to-zoom-webinar` | `workflow-actions.execute` (the CRM's custom-action request and answer) |
//! | `GET`/`PUT /settings`, `/settings/users/{email}`, `/settings/webinars/{id}` | `settings` |
//! | `GET /webinars/{id}/audit` | `settings.audit-log` |
//! | `POST /webinars/{id}/sync-now`, `POST /tick`, `POST /backfill?since=` | `sync` |
//! | `GET /health` | none |
//!
//! A background task runs `tick` every few seconds: webhooks only record
//! facts, the tick syncs them. Ctrl-C stops accepting, lets requests in
//! flight finish, and saves the fakes' state.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::service::service_fn;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use wasmtime_wasi_http::io::TokioIo;

use crate::api::{self, ApiError, WebinarInput};
use crate::bindings::{settings, webhooks};
use crate::sim::{Simulator, header};

/// The largest request body read: the plugin's webhook cap (1 MiB) and a
/// margin for the JSON routes. A bigger one is refused with 413 unread.
const MAX_REQUEST_BYTES: usize = 2 * 1024 * 1024;

/// An answer: status, content type, body.
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

fn json_reply(status: u16, value: &Value) -> Reply {
    Reply {
        status,
        content_type: "application/json",
        body: format!("{value:#}\n").into_bytes(),
    }
}

fn error_reply(status: u16, message: &str) -> Reply {
    json_reply(status, &json!({ "error": message }))
}

fn api_error(e: ApiError) -> Reply {
    match e {
        ApiError::Plugin(message) | ApiError::BadInput(message) => error_reply(400, &message),
        ApiError::Call(e) => error_reply(503, &e.to_string()),
    }
}

/// A request as the routes see it.
pub struct Incoming {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Incoming {
    fn json(&self) -> Result<Value, Reply> {
        serde_json::from_slice(&self.body)
            .map_err(|e| error_reply(400, &format!("the body is not JSON: {e}")))
    }

    fn query(&self, name: &str) -> Option<String> {
        let query = self.target.split_once('?')?.1;
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then(|| v.replace("%3A", ":").replace("%3a", ":"))
        })
    }
}

/// Answers one request.
pub async fn route(sim: &Simulator, request: Incoming) -> Reply {
    let path = request.target.split('?').next().unwrap_or("/").to_owned();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (request.method.as_str(), segments.as_slice()) {
        ("GET", ["health"]) => json_reply(200, &json!({ "status": "ok" })),
        ("POST", ["webhooks", source @ ("zoom" | "crm")]) => {
            let delivery = webhooks::Delivery {
                source: if *source == "zoom" {
                    webhooks::WebhookSource::Zoom
                } else {
                    webhooks::WebhookSource::Crm
                },
                method: request.method.clone(),
                path: request.target.clone(),
                headers: request.headers.iter().map(|(n, v)| header(n, v)).collect(),
                body: request.body.to_vec(),
                received_at: sim.clock.now_ms(),
            };
            match sim.deliver(&delivery).await {
                Ok(answer) => Reply {
                    status: answer.status,
                    content_type: "application/json",
                    body: answer.body,
                },
                Err(e) => error_reply(503, &e.to_string()),
            }
        }
        ("POST", ["actions", "add-contact-to-zoom-webinar"]) => {
            let body = match request.json() {
                Ok(body) => body,
                Err(reply) => return reply,
            };
            let contact = match &body["object"]["objectId"] {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return error_reply(400, "object.objectId (the contact id) is required"),
            };
            let input = match &body["inputFields"]["webinar_id"] {
                Value::String(s) => WebinarInput::Fixed(s.clone()),
                Value::Number(n) => WebinarInput::Fixed(n.to_string()),
                _ => WebinarInput::Missing,
            };
            let callback = body["callbackId"].as_str().unwrap_or_default().to_owned();
            match api::add_contact_to_webinar(sim, &contact, input, &callback).await {
                Ok(outcome) => json_reply(200, &outcome.crm_json()),
                Err(e) => api_error(e),
            }
        }
        ("GET", ["settings"]) => match api::global_settings(sim).await {
            Ok(s) => json_reply(200, &api::global_json(&s)),
            Err(e) => api_error(e),
        },
        ("PUT", ["settings"]) => {
            let change = match request.json() {
                Ok(body) => body,
                Err(reply) => return reply,
            };
            let current = match api::global_settings(sim).await {
                Ok(s) => s,
                Err(e) => return api_error(e),
            };
            let next = match api::global_with(&current, &change) {
                Ok(next) => next,
                Err(message) => return error_reply(400, &message),
            };
            match api::set_global_settings(sim, &next).await {
                Ok(()) => json_reply(200, &api::global_json(&next)),
                Err(e) => api_error(e),
            }
        }
        ("GET", ["settings", "users", user]) => match api::user_settings(sim, user).await {
            Ok(s) => json_reply(200, &api::user_json(&s)),
            Err(e) => api_error(e),
        },
        ("PUT", ["settings", "users", user]) => {
            let body = match request.json() {
                Ok(body) => body,
                Err(reply) => return reply,
            };
            let current = match api::user_settings(sim, user).await {
                Ok(s) => s,
                Err(e) => return api_error(e),
            };
            let flag = |name: &str, current: bool| body[name].as_bool().unwrap_or(current);
            let next = settings::UserSettings {
                user: current.user.clone(),
                sync_new_webinars: flag("sync_new_webinars", current.sync_new_webinars),
                sync_recordings: flag("sync_recordings", current.sync_recordings),
            };
            match api::set_user_settings(sim, &next).await {
                Ok(()) => json_reply(200, &api::user_json(&next)),
                Err(e) => api_error(e),
            }
        }
        ("GET", ["settings", "webinars", webinar]) => {
            match api::webinar_settings(sim, webinar).await {
                Ok(s) => json_reply(200, &api::webinar_settings_json(&s)),
                Err(e) => api_error(e),
            }
        }
        ("PUT", ["settings", "webinars", webinar]) => {
            let body = match request.json() {
                Ok(body) => body,
                Err(reply) => return reply,
            };
            let next = settings::WebinarSettings {
                webinar: (*webinar).to_owned(),
                sync_enabled: body["sync_enabled"].as_bool(),
            };
            match api::set_webinar_settings(sim, &next).await {
                Ok(()) => json_reply(200, &api::webinar_settings_json(&next)),
                Err(e) => api_error(e),
            }
        }
        ("GET", ["webinars", webinar, "audit"]) => match api::audit_log(sim, webinar).await {
            Ok(entries) => json_reply(
                200,
                &json!(entries.iter().map(api::audit_json).collect::<Vec<_>>()),
            ),
            Err(e) => api_error(e),
        },
        ("POST", ["webinars", webinar, "sync-now"]) => match api::sync_now(sim, webinar).await {
            Ok(report) => json_reply(200, &api::report_json(&report)),
            Err(e) => api_error(e),
        },
        ("POST", ["tick"]) => match api::tick(sim).await {
            Ok(report) => json_reply(200, &api::report_json(&report)),
            Err(e) => api_error(e),
        },
        ("POST", ["backfill"]) => match api::backfill(sim, request.query("since").as_deref()).await
        {
            Ok(report) => json_reply(200, &api::report_json(&report)),
            Err(e) => api_error(e),
        },
        (method, _) => error_reply(
            404,
            &format!("no route for {method} {path}; see `host-sim serve --help` for the routes"),
        ),
    }
}

async fn answer(sim: &Simulator, request: hyper::Request<hyper::body::Incoming>) -> Reply {
    let (parts, body) = request.into_parts();
    // Read at most a little over the plugin's cap, so an endless body
    // cannot fill the host's memory; the plugin answers 413 with its reason.
    let body = match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return error_reply(
                413,
                &format!("the body is larger than {MAX_REQUEST_BYTES} bytes"),
            );
        }
        Err(e) => return error_reply(400, &format!("could not read the body: {e}")),
    };
    let incoming = Incoming {
        method: parts.method.to_string(),
        target: parts
            .uri
            .path_and_query()
            .map_or("/".to_owned(), |p| p.as_str().to_owned()),
        headers: parts
            .headers
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect(),
        body,
    };
    route(sim, incoming).await
}

/// Serves until `shutdown` resolves, then lets requests in flight finish
/// (for at most 10 s) and returns.
pub async fn serve(
    listener: TcpListener,
    sim: Arc<Simulator>,
    tick_every: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let ticker = {
        let sim = sim.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(tick_every);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                match api::tick(&sim).await {
                    Ok(report) if report.written + report.failed > 0 => {
                        tracing::info!(
                            written = report.written,
                            failed = report.failed,
                            pending = report.pending,
                            "tick"
                        )
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "tick failed"),
                }
            }
        })
    };
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = accepted?;
                let sim = sim.clone();
                connections.spawn(async move {
                    let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                        let sim = sim.clone();
                        async move {
                            let started = std::time::Instant::now();
                            let method = request.method().clone();
                            let path = request.uri().path().to_owned();
                            let reply = answer(&sim, request).await;
                            tracing::info!(%peer, %method, %path, status = reply.status, elapsed_ms = started.elapsed().as_millis() as u64, "request");
                            let response = hyper::Response::builder()
                                .status(reply.status)
                                .header("content-type", reply.content_type)
                                .body(Full::new(Bytes::from(reply.body)))
                                .unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::from_static(b"bad answer\n"))));
                            Ok::<_, Infallible>(response)
                        }
                    });
                    if let Err(e) = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await
                    {
                        tracing::debug!(%peer, error = %e, "connection closed");
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = &mut shutdown => break,
        }
    }
    ticker.abort();
    tracing::info!(
        in_flight = connections.len(),
        "stopping: finishing requests in flight"
    );
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    Ok(())
}
