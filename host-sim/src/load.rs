//! `host-sim load`: many connections delivering signed Zoom webhooks at
//! once to `serve` on loopback (issue 9): every delivery is answered, and
//! every accepted event is in the state afterwards — none lost.
//!
//! The server is this process's own `serve` (the same code as `host-sim
//! serve`, on a free port); the clients are plain HTTP/1.1 keep-alive
//! connections, one delivery at a time each.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde::Serialize;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use wasmtime_wasi_http::io::TokioIo;

use crate::config::HostConfig;
use crate::fakes::zoom::webhooks::signature_headers;
use crate::sim::{Simulator, StateStore};

/// The webinar the deliveries are for.
pub const WEBINAR: &str = "85000000001";

#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    pub connections: usize,
    pub duration: Duration,
}

/// What the load did and what the server kept.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub connections: usize,
    pub seconds: f64,
    /// Deliveries sent and answered (with any status).
    pub sent: usize,
    /// Answers by HTTP status.
    pub statuses: BTreeMap<u16, usize>,
    /// Requests that got no HTTP answer (connection errors).
    pub errors: usize,
    /// Distinct events in the plugin's state afterwards.
    pub stored: usize,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl LoadReport {
    /// Every delivery answered 200 and kept.
    pub fn nothing_lost(&self) -> bool {
        self.errors == 0 && self.statuses.keys().all(|s| *s == 200) && self.stored == self.sent
    }
}

struct Sent {
    latencies: Vec<Duration>,
    statuses: BTreeMap<u16, usize>,
    errors: usize,
}

/// One keep-alive connection sending deliveries until `until`.
async fn connection(address: SocketAddr, secret: String, id: usize, until: Instant) -> Sent {
    let mut sent = Sent {
        latencies: Vec::new(),
        statuses: BTreeMap::new(),
        errors: 0,
    };
    let Ok(stream) = TcpStream::connect(address).await else {
        sent.errors += 1;
        return sent;
    };
    let Ok((mut sender, conn)) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
    else {
        sent.errors += 1;
        return sent;
    };
    tokio::spawn(conn);
    let mut n = 0;
    while Instant::now() < until {
        n += 1;
        let now_ms = crate::sim::now_ms();
        let body = json!({
            "event": "webinar.participant_joined",
            "event_ts": now_ms,
            "payload": { "account_id": "load", "object": {
                "id": WEBINAR, "uuid": "load==", "host_id": "h",
                "participant": {
                    "user_id": format!("{id}-{n}"), "user_name": format!("Person {id}-{n}"),
                    "id": format!("p{id}-{n}"), "participant_uuid": format!("pu{id}-{n}"),
                    "email": format!("person{id}-{n}@load.example"),
                    "join_time": crate::clock::rfc3339(now_ms),
                },
            } },
        })
        .to_string();
        let mut request = hyper::Request::post("/webhooks/zoom")
            .header("host", address.to_string())
            .header("content-type", "application/json");
        for (name, value) in signature_headers(&secret, now_ms / 1000, body.as_bytes()) {
            request = request.header(name, value);
        }
        let Ok(request) = request.body(Full::new(Bytes::from(body))) else {
            sent.errors += 1;
            continue;
        };
        let started = Instant::now();
        match sender.send_request(request).await {
            Ok(response) => {
                let status = response.status().as_u16();
                let _ = response.into_body().collect().await;
                sent.latencies.push(started.elapsed());
                *sent.statuses.entry(status).or_insert(0) += 1;
            }
            Err(_) => {
                sent.errors += 1;
                break;
            }
        }
    }
    sent
}

/// Starts a server on a free loopback port, loads it, stops it, and
/// counts what it kept.
pub async fn run(config: HostConfig, options: LoadOptions) -> Result<LoadReport, String> {
    let secret = config.zoom.webhook_secret_token.expose().to_owned();
    let sim = Arc::new(Simulator::start(config, StateStore::Memory).map_err(|e| e.to_string())?);
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot listen on loopback: {e}"))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    // No background tick: the load measures the webhook path.
    let token = crate::config::Secret::new("load-has-no-operator");
    let mut serve = crate::serve::ServeOptions::new(&sim.config, token, address);
    serve.tick_every = Duration::from_secs(24 * 3600);
    // Every client is one kept-alive connection: none is idle long enough to be closed.
    serve.max_connections = serve.max_connections.max(options.connections * 2);
    let server = tokio::spawn(crate::serve::serve(listener, sim.clone(), serve, async {
        let _ = stopped.await;
    }));

    let started = Instant::now();
    let until = started + options.duration;
    let mut clients = JoinSet::new();
    for id in 0..options.connections {
        clients.spawn(connection(address, secret.clone(), id, until));
    }
    let mut latencies = Vec::new();
    let mut statuses = BTreeMap::new();
    let mut errors = 0;
    while let Some(done) = clients.join_next().await {
        let sent = done.map_err(|e| e.to_string())?;
        latencies.extend(sent.latencies);
        for (status, n) in sent.statuses {
            *statuses.entry(status).or_insert(0) += n;
        }
        errors += sent.errors;
    }
    let seconds = started.elapsed().as_secs_f64();
    let _ = stop.send(());
    server
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;

    let mut stored = 0;
    let mut cursor = None;
    loop {
        let page = sim
            .installation
            .storage
            .list_keys(&format!("inbox/{WEBINAR}/"), cursor.as_deref(), 1000)
            .map_err(|e| e.to_string())?;
        stored += page.keys.len();
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }

    latencies.sort();
    let at = |p: f64| {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i].as_secs_f64() * 1000.0
    };
    Ok(LoadReport {
        connections: options.connections,
        seconds,
        sent: latencies.len(),
        statuses,
        errors,
        stored,
        per_second: latencies.len() as f64 / seconds,
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        max_ms: at(1.0),
    })
}
