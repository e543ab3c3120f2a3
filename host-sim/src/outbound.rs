//! Outbound HTTP policy for the plugin's `wasi:http` requests.
//!
//! Deny by default: a request leaves only for a host on the installation's
//! allow-list. An allowed host with an in-process fake is served by the
//! fake, or by the fakes of another process (`host-sim fakes`) when those
//! are configured; any other allowed host reaches the real network only
//! when a real connection was configured (and the binary built with
//! `real-network`).
//! A denied request reaches the plugin as an HTTP error; the host and the
//! reason go to the host's log.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

/// A request as a fake service sees it: fully read.
#[derive(Debug, Clone)]
pub struct FakeRequest {
    pub method: http::Method,
    pub uri: http::Uri,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl FakeRequest {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.uri.path()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The query's parameters, decoded (`crate::query`), in order.
    pub fn query(&self) -> Vec<(String, String)> {
        self.uri
            .query()
            .map_or_else(Vec::new, |query| crate::query::pairs(query.as_bytes()))
    }

    /// The first value of the query's parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<String> {
        crate::query::param(self.uri.query()?.as_bytes(), name)
    }
}

/// A fake service's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Latency before the answer (or the timeout) arrives.
    pub delay: Duration,
    /// No answer at all: the request times out after `delay`.
    pub timed_out: bool,
}

impl FakeResponse {
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Self::bytes(status, "application/json", body.to_string().into_bytes())
    }

    pub fn bytes(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body,
            delay: Duration::ZERO,
            timed_out: false,
        }
    }

    /// 204 No Content.
    pub fn empty(status: u16) -> Self {
        Self {
            headers: Vec::new(),
            ..Self::bytes(status, "", Vec::new())
        }
    }

    /// A request that never gets an answer.
    pub fn timeout(after: Duration) -> Self {
        Self {
            delay: after,
            timed_out: true,
            ..Self::empty(0)
        }
    }

    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay += delay;
        self
    }
}

/// An in-process stand-in for a remote service.
pub trait FakeService: Send + Sync {
    fn handle(&self, request: &FakeRequest) -> FakeResponse;

    /// Other hosts the service answers for, besides the ones it is
    /// registered under: the fake Zoom's file storage, where its downloads
    /// redirect (R11). Served by it wherever it is registered, still only
    /// when the allow-list lets them out.
    fn also_serves(&self) -> &'static [&'static str] {
        &[]
    }

    /// What the fake holds, for the simulator's own inspection route
    /// (`fake_server::INSPECT_PREFIX`), not for the plugin: none when the
    /// fake has nothing to show at `request`'s path.
    fn inspect(&self, _request: &FakeRequest) -> Option<FakeResponse> {
        None
    }
}

/// Asks `fake`, waits out the answer's latency; none when the fake times out.
pub async fn ask(fake: &dyn FakeService, request: &FakeRequest) -> Option<FakeResponse> {
    let answer = fake.handle(request);
    if !answer.delay.is_zero() {
        tokio::time::sleep(answer.delay).await;
    }
    (!answer.timed_out).then_some(answer)
}

/// What became of one outbound request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Answered by the in-process fake with this status.
    Faked(u16),
    /// Answered by the fakes of another process with this status.
    Remote(u16),
    /// The fake never answered (an injected timeout).
    TimedOut,
    /// Sent to the real network.
    Real,
    /// Refused; the reason as logged.
    Denied(String),
}

/// One outbound request, for counting API calls and for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub host: String,
    pub method: String,
    pub path: String,
    pub disposition: Disposition,
    /// When it was sent, and how long its answer took.
    pub started: Instant,
    pub elapsed: Duration,
}

/// The outbound requests made so far, shared by every call.
#[derive(Clone, Default)]
pub struct RequestLog(Arc<Mutex<Vec<RequestRecord>>>);

impl RequestLog {
    fn push(&self, record: RequestRecord) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(record);
    }

    pub fn records(&self) -> Vec<RequestRecord> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// How many requests were made so far (the console's measure of a
    /// running job's progress).
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Requests per service name (`zoom`, `crm`, or the host), in name order.
    pub fn counts_by_service(&self) -> std::collections::BTreeMap<String, usize> {
        self.counts_by_service_since(0)
    }

    /// As [`Self::counts_by_service`], for the requests after the first `start`.
    pub fn counts_by_service_since(
        &self,
        start: usize,
    ) -> std::collections::BTreeMap<String, usize> {
        let mut counts = std::collections::BTreeMap::new();
        let records = self.0.lock().unwrap_or_else(|p| p.into_inner());
        for record in records.iter().skip(start) {
            *counts
                .entry(service_of(&record.host).to_owned())
                .or_insert(0) += 1;
        }
        counts
    }
}

/// The service a host belongs to.
pub fn service_of(host: &str) -> &str {
    match host {
        "zoom.us" => "zoom",
        zoom if zoom.ends_with(".zoom.us") => "zoom",
        "api.hubapi.com" => "crm",
        other => other,
    }
}

/// Whether an allow-list entry lets `host` out: an exact name, or a
/// pattern `*.domain` for any name under `domain` (not `domain` itself,
/// as in Spin's `allowed_outbound_hosts`). Both are lower-case.
fn allows(entry: &str, host: &str) -> bool {
    match entry.strip_prefix("*.") {
        Some(domain) if !domain.is_empty() => host
            .strip_suffix(domain)
            .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
        _ => entry == host,
    }
}

/// The outbound policy of one installation.
#[derive(Clone, Default)]
pub struct Outbound {
    allowed_hosts: Vec<String>,
    fakes: HashMap<String, Arc<dyn FakeService>>,
    delays: HashMap<String, Duration>,
    /// `host:port` of a `host-sim fakes` process serving the allowed hosts.
    remote_fakes: Option<String>,
    real_network: bool,
    log: RequestLog,
}

impl Outbound {
    /// Denies everything.
    pub fn deny_all() -> Self {
        Self::default()
    }

    /// Allows `host`: an exact name (no port), or `*.domain` for every
    /// name under the domain (`*.zoom.us`: Zoom's regional and storage hosts).
    pub fn allow(mut self, host: &str) -> Self {
        self.allowed_hosts.push(host.to_ascii_lowercase());
        self
    }

    /// Serves `host` with an in-process fake, and the other hosts the fake
    /// says it serves (unless another fake has them). The hosts must also
    /// be allowed.
    pub fn fake(mut self, host: &str, service: Arc<dyn FakeService>) -> Self {
        for also in service.also_serves() {
            self.fakes
                .entry(also.to_ascii_lowercase())
                .or_insert_with(|| service.clone());
        }
        self.fakes.insert(host.to_ascii_lowercase(), service);
        self
    }

    /// Answers for `host` come only after `delay`: a slow or hung service.
    pub fn delay(mut self, host: &str, delay: Duration) -> Self {
        self.delays.insert(host.to_ascii_lowercase(), delay);
        self
    }

    /// Serves allowed hosts without an in-process fake by the fakes of a
    /// `host-sim fakes` process at `url` (`http://host:port`).
    pub fn remote_fakes(mut self, url: &str) -> Result<Self, String> {
        let uri: http::Uri = url
            .parse()
            .map_err(|e| format!("fakes_url {url:?} is not a URL: {e}"))?;
        match (uri.scheme_str(), uri.authority()) {
            (Some("http"), Some(authority)) if authority.port().is_some() => {
                self.remote_fakes = Some(authority.to_string());
                Ok(self)
            }
            _ => Err(format!(
                "fakes_url {url:?} must be http://HOST:PORT, where `host-sim fakes --listen` listens"
            )),
        }
    }

    /// Lets allowed hosts without a fake reach the real network.
    pub fn real_network(mut self, enabled: bool) -> Self {
        self.real_network = enabled;
        self
    }

    pub fn log(&self) -> &RequestLog {
        &self.log
    }

    /// Where a request to `host` goes, or why it may not.
    fn route(&self, host: &str) -> Result<Route, String> {
        let host = host.to_ascii_lowercase();
        if !self.allowed_hosts.iter().any(|entry| allows(entry, &host)) {
            return Err(format!("{host} is not on this installation's allow-list"));
        }
        if let Some(fake) = self.fakes.get(&host) {
            return Ok(Route::Fake(fake.clone()));
        }
        if let Some(authority) = &self.remote_fakes {
            return Ok(Route::Remote(authority.clone()));
        }
        if self.real_network {
            return Ok(Route::Real);
        }
        Err(format!(
            "{host} has no fake service and no real connection is configured"
        ))
    }
}

enum Route {
    Fake(Arc<dyn FakeService>),
    /// The `host:port` of a `host-sim fakes` process.
    Remote(String),
    Real,
}

type IoFuture = Box<dyn Future<Output = Result<(), HttpError>> + Send>;

/// The `wasi:http` hooks of one call: routes each request by the policy.
pub struct OutboundHooks {
    pub outbound: Arc<Outbound>,
    /// Requests this call may still send: a guest that floods the network
    /// is refused past the cap (its runs are batched; a 10,000-person sync
    /// sends about 720).
    pub remaining: usize,
}

impl OutboundHooks {
    pub fn new(outbound: Arc<Outbound>, cap: usize) -> Self {
        Self {
            outbound,
            remaining: cap,
        }
    }
}

impl WasiHttpHooks for OutboundHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: IoFuture,
    ) -> Box<dyn Future<Output = Result<(http::Response<WasiBody>, IoFuture), HttpError>> + Send>
    {
        let outbound = self.outbound.clone();
        let over_cap = self.remaining == 0;
        self.remaining = self.remaining.saturating_sub(1);
        Box::new(async move {
            let started = Instant::now();
            let host = request.uri().host().unwrap_or_default().to_owned();
            let method = request.method().to_string();
            let path = request.uri().path().to_owned();
            let record = |disposition| RequestRecord {
                host: host.clone(),
                method: method.clone(),
                path: path.clone(),
                disposition,
                started,
                elapsed: started.elapsed(),
            };
            if over_cap {
                let reason =
                    "the call sent more requests than its cap (limits.max_outbound_requests)"
                        .to_owned();
                tracing::warn!(%host, %method, %path, %reason, "outbound request denied");
                outbound.log.push(record(Disposition::Denied(reason)));
                return Err(HttpError::HttpRequestDenied);
            }
            let route = match outbound.route(&host) {
                Ok(route) => route,
                Err(reason) => {
                    tracing::warn!(%host, %method, %path, %reason, "outbound request denied");
                    outbound.log.push(record(Disposition::Denied(reason)));
                    return Err(HttpError::HttpRequestDenied);
                }
            };
            if let Some(delay) = outbound.delays.get(&host.to_ascii_lowercase()) {
                tokio::time::sleep(*delay).await;
            }
            match route {
                Route::Fake(fake) => {
                    let fake_request = read_request(request).await?;
                    let Some(answer) = ask(fake.as_ref(), &fake_request).await else {
                        tracing::debug!(%host, %method, %path, "fake timed out");
                        outbound.log.push(record(Disposition::TimedOut));
                        return Err(HttpError::ConnectionReadTimeout);
                    };
                    tracing::debug!(%host, %method, %path, status = answer.status, "served by fake");
                    outbound.log.push(record(Disposition::Faked(answer.status)));
                    respond(answer)
                }
                Route::Remote(authority) => {
                    let fake_request = read_request(request).await?;
                    let answer = ask_remote(&authority, &host, fake_request).await?;
                    tracing::debug!(%host, %method, %path, status = answer.status, "served by the remote fakes");
                    outbound
                        .log
                        .push(record(Disposition::Remote(answer.status)));
                    respond(answer)
                }
                Route::Real => {
                    outbound.log.push(record(Disposition::Real));
                    send_real(request, options).await
                }
            }
        })
    }
}

/// The guest's request, its body read whole (the fakes answer whole requests).
async fn read_request(request: http::Request<WasiBody>) -> Result<FakeRequest, HttpError> {
    let (parts, body) = request.into_parts();
    Ok(FakeRequest {
        method: parts.method,
        uri: parts.uri,
        headers: parts.headers,
        body: body.collect().await?.to_bytes(),
    })
}

/// A fake's answer as the guest's response.
fn respond(answer: FakeResponse) -> Result<(http::Response<WasiBody>, IoFuture), HttpError> {
    let mut response = http::Response::builder().status(answer.status);
    for (name, value) in &answer.headers {
        response = response.header(name, value);
    }
    let body = Full::new(Bytes::from(answer.body))
        .map_err(|never| match never {})
        .boxed_unsync();
    let response = response
        .body(body)
        .map_err(|e| HttpError::InternalError(Some(format!("fake answer: {e}"))))?;
    Ok((response, Box::new(async { Ok(()) }) as IoFuture))
}

/// Headers of one hop, which the connection to the fakes sets itself.
const HOP_BY_HOP: &[&str] = &["host", "connection", "content-length", "transfer-encoding"];

/// Asks the `host-sim fakes` process at `authority`: the service's host is
/// the path's first segment (see `fake_server.rs`). A connection per
/// request: the fakes are on loopback, and nothing is shared between calls.
async fn ask_remote(
    authority: &str,
    host: &str,
    request: FakeRequest,
) -> Result<FakeResponse, HttpError> {
    let stream = tokio::net::TcpStream::connect(authority)
        .await
        .map_err(|e| {
            tracing::warn!(%authority, error = %e, "the remote fakes are unreachable");
            HttpError::ConnectionRefused
        })?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(wasmtime_wasi_http::io::TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let path = request.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut outgoing = http::Request::builder()
        .method(request.method)
        .uri(format!("/{host}{path}"))
        .header(http::header::HOST, authority);
    for (name, value) in &request.headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            outgoing = outgoing.header(name, value);
        }
    }
    let outgoing = outgoing
        .body(Full::new(request.body))
        .map_err(|e| HttpError::InternalError(Some(format!("request to the fakes: {e}"))))?;
    let response = sender.send_request(outgoing).await?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter(|(name, _)| !HOP_BY_HOP.contains(&name.as_str()))
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
        .collect();
    let body = response.into_body().collect().await?.to_bytes().to_vec();
    Ok(FakeResponse {
        status,
        headers,
        body,
        delay: Duration::ZERO,
        timed_out: false,
    })
}

#[cfg(feature = "real-network")]
async fn send_real(
    request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
) -> Result<(http::Response<WasiBody>, IoFuture), HttpError> {
    let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
    Ok((
        response.map(BodyExt::boxed_unsync),
        Box::new(io) as IoFuture,
    ))
}

#[cfg(not(feature = "real-network"))]
async fn send_real(
    request: http::Request<WasiBody>,
    _options: Option<RequestOptions>,
) -> Result<(http::Response<WasiBody>, IoFuture), HttpError> {
    tracing::error!(
        host = request.uri().host().unwrap_or_default(),
        "a real connection is configured but host-sim was built without the real-network feature; rebuild with `--features real-network`"
    );
    Err(HttpError::HttpRequestDenied)
}

#[cfg(test)]
mod tests;
