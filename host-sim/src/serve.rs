//! `host-sim serve`: the plugin behind HTTP, as a real Zoom subscription
//! or CRM would call it. Each route is a thin door onto one export:
//!
//! | route | export |
//! | --- | --- |
//! | `POST /webhooks/zoom`, `POST /webhooks/crm` | `webhooks.handle` (raw body and headers, for the signature) |
//! | `POST /actions/add-contact-to-zoom-webinar` | `webhooks.handle` (HubSpot's signed custom-action request; the plugin verifies it and answers `outputFields`) |
//! | `GET`/`PUT /settings`, `/settings/users/{email}`, `/settings/webinars/{id}` | `settings` |
//! | `GET /webinars/{id}/audit` | `settings.audit-log` |
//! | `POST /webinars/{id}/sync-now`, `POST /tick`, `POST /backfill?since=` | `sync` |
//! | `GET /health` | none |
//! | `GET /`, `/console/...` | the operator's console (`crate::console`): every export above, as pages |
//!
//! A background task runs `tick` every few seconds: webhooks only record
//! facts, the tick syncs them. Ctrl-C stops accepting, lets requests in
//! flight finish, and saves the fakes' state.
//!
//! Who may call what (issue 19; the table is in docs/reliability.md): the
//! webhook routes and the workflow action are open at this door and
//! verified by the plugin (Zoom's v0 signature, the CRM's v3, HubSpot's v2
//! for the action); `/health` is open; every other route is the
//! operator's and needs `Authorization: Bearer <admin token>`. A request
//! whose `Host` is not this server's is refused (DNS rebinding), and no
//! CORS header is ever sent. Headers and bodies must arrive in time, and at
//! most `max_connections` are open: past it the oldest idle one is closed.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::service::service_fn;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use wasmtime_wasi_http::io::TokioIo;

use crate::api::{self, ApiError};
use crate::bindings::{settings, webhooks};
use crate::config::{HostConfig, Secret};
use crate::console::Console;
use crate::exchange::{Incoming, Reply, error_reply, json_reply};
use crate::operator;
use crate::sim::{Simulator, header};

/// How the door is kept.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub tick_every: Duration,
    /// The operator routes' bearer token.
    pub admin_token: Secret,
    /// `Host` header values this server answers to (`host` or `host:port`,
    /// lower case); anything else is refused.
    pub hosts: Vec<String>,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub max_connections: usize,
}

impl ServeOptions {
    /// From the configuration, for a server listening on `address`: it
    /// answers to that address (and `localhost` when it is loopback) and to
    /// the configured public URL's host.
    pub fn new(config: &HostConfig, admin_token: Secret, address: SocketAddr) -> Self {
        let port = address.port();
        let mut hosts = vec![format!("{address}")];
        if address.ip().is_loopback() {
            hosts.extend([format!("localhost:{port}"), format!("127.0.0.1:{port}")]);
        }
        if let Some(authority) = config
            .public_url
            .split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or(rest))
            .filter(|a| !a.is_empty())
        {
            hosts.push(authority.to_ascii_lowercase());
        }
        Self {
            tick_every: Duration::from_secs(5),
            admin_token,
            hosts,
            header_timeout: Duration::from_millis(config.serve.header_timeout_ms.max(1)),
            body_timeout: Duration::from_millis(config.serve.body_timeout_ms.max(1)),
            max_connections: config.serve.max_connections.max(1),
        }
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Anyone: the liveness check.
    Anyone,
    /// Its sender, by a signature the plugin verifies (Zoom, the CRM).
    Signed,
    /// The operator, with the admin token.
    Operator,
    /// The operator's console (issue 22): pages checked by `crate::console`,
    /// with a session cookie signed in with the admin token, and a CSRF
    /// token on every form.
    Console,
}

/// The owner of `method path`: only the webhook routes and `/health` are
/// not the operator's, so a route added later is the operator's unless said.
pub fn owner(method: &str, path: &str) -> Owner {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        ("GET", ["health"]) => Owner::Anyone,
        ("POST", ["webhooks", "zoom" | "crm"] | ["actions", "add-contact-to-zoom-webinar"]) => {
            Owner::Signed
        }
        _ if crate::console::is_console_path(path) => Owner::Console,
        _ => Owner::Operator,
    }
}

/// Refuses a request this door does not let through: a foreign `Host`, or
/// an operator route without the token. The console's pages pass here and
/// are checked by the console (a session, not a header a browser cannot send).
fn admitted(options: &ServeOptions, request: &Incoming) -> Result<(), Reply> {
    let host = request
        .header("host")
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if !options.hosts.contains(&host) {
        return Err(error_reply(
            421,
            &format!(
                "this server does not answer to Host {host:?}: use {} (or set public_url)",
                options.hosts.join(", ")
            ),
        ));
    }
    let path = request.target.split('?').next().unwrap_or("/");
    if owner(&request.method, path) != Owner::Operator {
        return Ok(());
    }
    let presented = request.header("authorization").and_then(|v| {
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
    });
    match presented {
        Some(token) if operator::token_matches(&options.admin_token, token.trim()) => Ok(()),
        Some(_) => Err(error_reply(
            401,
            "the admin token is not this server's: `host-sim admin-token` prints it",
        )),
        None => Err(error_reply(
            401,
            "this route is the operator's: send `Authorization: Bearer <token>` (`host-sim admin-token` prints it)",
        )),
    }
}

/// The largest request body read: the plugin's webhook cap (1 MiB) and a
/// margin for the JSON routes. A bigger one is refused with 413 unread.
const MAX_REQUEST_BYTES: usize = 2 * 1024 * 1024;

fn api_error(e: ApiError) -> Reply {
    match e {
        ApiError::Plugin(message) | ApiError::BadInput(message) => error_reply(400, &message),
        ApiError::Call(e) => error_reply(503, &e.to_string()),
    }
}

/// Answers one request.
pub async fn route(sim: &Simulator, request: Incoming) -> Reply {
    let path = request.target.split('?').next().unwrap_or("/").to_owned();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (request.method.as_str(), segments.as_slice()) {
        ("GET", ["health"]) => json_reply(200, &json!({ "status": "ok" })),
        // The CRM's workflow action comes as its signed request, verified
        // by the plugin like a webhook (HubSpot's v2 or v3 signature).
        ("POST", ["webhooks", "zoom" | "crm"] | ["actions", "add-contact-to-zoom-webinar"]) => {
            let source = if segments[..] == ["webhooks", "zoom"] {
                webhooks::WebhookSource::Zoom
            } else {
                webhooks::WebhookSource::Crm
            };
            deliver(sim, &request, source).await
        }
        (_, ["settings", rest @ ..]) => settings_route(sim, &request, rest, &path).await,
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
        (method, _) => no_route(method, &path),
    }
}

/// The 404 for a method and path `serve` has no route for.
fn no_route(method: &str, path: &str) -> Reply {
    error_reply(
        404,
        &format!("no route for {method} {path}; see `host-sim serve --help` for the routes"),
    )
}

/// A webhook or the workflow action's request, handed to the plugin as
/// it came (raw body and headers, for the signature); the plugin's answer.
async fn deliver(sim: &Simulator, request: &Incoming, source: webhooks::WebhookSource) -> Reply {
    let delivery = webhooks::Delivery {
        source,
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
            headers: Vec::new(),
        },
        Err(e) => error_reply(503, &e.to_string()),
    }
}

/// `/settings`, `/settings/users/{email}`, `/settings/webinars/{id}`
/// (`rest` after `settings`): the account's, a user's and a webinar's
/// settings, read or changed.
async fn settings_route(sim: &Simulator, request: &Incoming, rest: &[&str], path: &str) -> Reply {
    match (request.method.as_str(), rest) {
        ("GET", []) => match api::global_settings(sim).await {
            Ok(s) => json_reply(200, &api::global_json(&s)),
            Err(e) => api_error(e),
        },
        ("PUT", []) => put_global_settings(sim, request).await,
        ("GET", ["users", user]) => match api::user_settings(sim, user).await {
            Ok(s) => json_reply(200, &api::user_json(&s)),
            Err(e) => api_error(e),
        },
        ("PUT", ["users", user]) => put_user_settings(sim, request, user).await,
        ("GET", ["webinars", webinar]) => match api::webinar_settings(sim, webinar).await {
            Ok(s) => json_reply(200, &api::webinar_settings_json(&s)),
            Err(e) => api_error(e),
        },
        ("PUT", ["webinars", webinar]) => put_webinar_settings(sim, request, webinar).await,
        (method, _) => no_route(method, path),
    }
}

/// `PUT /settings`: the fields given changed, the others kept.
async fn put_global_settings(sim: &Simulator, request: &Incoming) -> Reply {
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

/// `PUT /settings/users/{email}`: the flags given changed, the others kept.
async fn put_user_settings(sim: &Simulator, request: &Incoming, user: &str) -> Reply {
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

/// `PUT /settings/webinars/{id}`: the webinar's `sync_enabled`, or none.
async fn put_webinar_settings(sim: &Simulator, request: &Incoming, webinar: &str) -> Reply {
    let body = match request.json() {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let next = settings::WebinarSettings {
        webinar: webinar.to_owned(),
        sync_enabled: body["sync_enabled"].as_bool(),
    };
    match api::set_webinar_settings(sim, &next).await {
        Ok(()) => json_reply(200, &api::webinar_settings_json(&next)),
        Err(e) => api_error(e),
    }
}

async fn answer(
    sim: &Arc<Simulator>,
    options: &ServeOptions,
    console: &Console,
    request: hyper::Request<hyper::body::Incoming>,
) -> Reply {
    let (parts, body) = request.into_parts();
    let mut incoming = Incoming {
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
        body: Bytes::new(),
    };
    // Who is asking is known from the headers: a refused request's body is never read.
    if let Err(refusal) = admitted(options, &incoming) {
        return refusal;
    }
    // Read at most a little over the plugin's cap, so an endless body
    // cannot fill the host's memory, and within the body timeout, so a
    // slow one cannot hold the connection; the plugin answers 413 itself.
    let read = tokio::time::timeout(
        options.body_timeout,
        Limited::new(body, MAX_REQUEST_BYTES).collect(),
    );
    incoming.body = match read.await {
        Err(_) => {
            return error_reply(
                408,
                &format!(
                    "the body did not arrive within {} ms",
                    options.body_timeout.as_millis()
                ),
            );
        }
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return error_reply(
                413,
                &format!("the body is larger than {MAX_REQUEST_BYTES} bytes"),
            );
        }
        Ok(Err(e)) => return error_reply(400, &format!("could not read the body: {e}")),
    };
    let path = incoming.target.split('?').next().unwrap_or("/");
    if owner(&incoming.method, path) == Owner::Console {
        return console.route(sim, &incoming).await;
    }
    route(sim, incoming).await
}

/// The open connections: each one's task, and whether it is answering a
/// request now (an idle one may be closed to make room).
#[derive(Default)]
struct Connections {
    tasks: JoinSet<()>,
    open: BTreeMap<tokio::task::Id, (u64, Arc<AtomicBool>, tokio::task::AbortHandle)>,
    accepted: u64,
}

impl Connections {
    /// Closes the oldest connection that is not answering a request.
    fn close_oldest_idle(&mut self) -> bool {
        let oldest = self
            .open
            .iter()
            .filter(|(_, (_, busy, _))| !busy.load(Ordering::Relaxed))
            .min_by_key(|(_, (order, _, _))| *order)
            .map(|(id, _)| *id);
        match oldest.and_then(|id| self.open.remove(&id)) {
            Some((_, _, task)) => {
                task.abort();
                true
            }
            None => false,
        }
    }
}

/// Serves until `shutdown` resolves, then lets requests in flight finish
/// (for at most 10 s) and returns.
pub async fn serve(
    listener: TcpListener,
    sim: Arc<Simulator>,
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let console = Arc::new(Console::new(&options.admin_token, &options.hosts));
    let options = Arc::new(options);
    let ticker = {
        let sim = sim.clone();
        let tick_every = options.tick_every;
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
    let mut connections = Connections::default();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors (EMFILE, ENFILE) or a
                        // connection reset before it was taken: the server
                        // goes on. Closing an idle connection frees a descriptor.
                        tracing::warn!(error = %e, open = connections.open.len(), "accept failed; retrying");
                        connections.close_oldest_idle();
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                if connections.open.len() >= options.max_connections && !connections.close_oldest_idle() {
                    tracing::warn!(%peer, open = connections.open.len(), "every connection is busy; this one is refused");
                    drop(stream);
                    continue;
                }
                let busy = Arc::new(AtomicBool::new(false));
                let task = connections.tasks.spawn(connection(sim.clone(), options.clone(), console.clone(), stream, peer, busy.clone()));
                connections.accepted += 1;
                connections.open.insert(task.id(), (connections.accepted, busy, task));
            }
            Some(done) = connections.tasks.join_next_with_id(), if !connections.tasks.is_empty() => {
                let id = match done {
                    Ok((id, ())) => id,
                    Err(e) => e.id(),
                };
                connections.open.remove(&id);
            }
            () = &mut shutdown => break,
        }
    }
    ticker.abort();
    tracing::info!(
        in_flight = connections.open.len(),
        "stopping: finishing requests in flight"
    );
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while connections.tasks.join_next().await.is_some() {}
    })
    .await;
    Ok(())
}

/// One connection, HTTP/1.1 with keep-alive; `busy` while a request is answered.
async fn connection(
    sim: Arc<Simulator>,
    options: Arc<ServeOptions>,
    console: Arc<Console>,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    busy: Arc<AtomicBool>,
) {
    let header_timeout = options.header_timeout;
    let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
        let sim = sim.clone();
        let options = options.clone();
        let console = console.clone();
        let busy = busy.clone();
        async move {
            busy.store(true, Ordering::Relaxed);
            let started = std::time::Instant::now();
            let method = request.method().clone();
            let path = request.uri().path().to_owned();
            let reply = answer(&sim, &options, &console, request).await;
            tracing::info!(%peer, %method, %path, status = reply.status, elapsed_ms = started.elapsed().as_millis() as u64, "request");
            let mut response = hyper::Response::builder()
                .status(reply.status)
                .header("content-type", reply.content_type);
            for (name, value) in &reply.headers {
                response = response.header(*name, value);
            }
            let response = response
                .body(Full::new(Bytes::from(reply.body)))
                .unwrap_or_else(|_| {
                    hyper::Response::new(Full::new(Bytes::from_static(b"bad answer\n")))
                });
            busy.store(false, Ordering::Relaxed);
            Ok::<_, Infallible>(response)
        }
    });
    // The header timeout also bounds how long a kept-alive connection may
    // wait for its next request: an idle connection is closed after it.
    if let Err(e) = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(TokioIo::new(stream), service)
        .await
    {
        tracing::debug!(%peer, error = %e, "connection closed");
    }
}
