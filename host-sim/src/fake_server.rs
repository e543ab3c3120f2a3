//! The fakes on a loopback port, so a person can `curl` them. The first
//! path segment names the service's host:
//!
//! ```sh
//! curl -X POST -u sim-client-id:sim-client-secret \
//!   'http://127.0.0.1:8788/zoom.us/oauth/token?grant_type=account_credentials&account_id=sim-account'
//! curl -H 'authorization: Bearer <token>' http://127.0.0.1:8788/api.zoom.us/v2/users
//! curl -H 'authorization: Bearer sim-crm-access-token' http://127.0.0.1:8788/api.hubapi.com/crm/v3/owners
//! ```
//!
//! Besides the services' own paths, one inspection route per fake, under
//! [`INSPECT_PREFIX`]: `GET /_sim/api.hubapi.com/dump` is everything the
//! fake CRM holds (what `FakeCrm::dump` gives in process: contacts,
//! marketing events, timeline and custom events, calls with their
//! associations, workflow executions), for `host-sim crm ...` in remote
//! mode. It takes the CRM's access token as `Bearer`, as the CRM's own
//! API does: whoever may read the records through the API may read them
//! here, and no one else (the fakes listen on a port anyone on the
//! machine can reach). It is kept off the CRM's host prefix so that it is
//! never mistaken for, nor reachable as, a HubSpot path: the plugin's
//! requests always begin with a service's host.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use tokio::net::TcpListener;
use wasmtime_wasi_http::io::TokioIo;

use crate::fakes::crm::{CrmRateLimits, FakeCrm};
use crate::fakes::zoom::{FakeZoom, ZoomApp};
use crate::outbound::{FakeRequest, FakeResponse, FakeService, ask};

/// The fakes, by host.
pub type Fakes = HashMap<String, Arc<dyn FakeService>>;

/// The fakes `host-sim fakes` serves: Zoom and the CRM with `config`'s
/// credentials on the real clock, the CRM at its Starter rate limits,
/// seeded with `scenario`'s account when given; each fake by host, and
/// the two fakes themselves for a caller that inspects them.
pub fn standalone(
    config: &crate::config::HostConfig,
    scenario: Option<&crate::scenario::Scenario>,
) -> (Fakes, Arc<FakeZoom>, Arc<FakeCrm>) {
    let clock = crate::clock::Clock::real();
    let zoom = Arc::new(FakeZoom::new(
        ZoomApp {
            account_id: config.zoom.account_id.clone(),
            client_id: config.zoom.client_id.clone(),
            client_secret: config.zoom.client_secret.expose().to_owned(),
        },
        clock.clone(),
    ));
    let crm = Arc::new(
        FakeCrm::new(config.crm.access_token.expose(), clock)
            .with_developer_api_key(config.crm.developer_api_key.expose())
            .with_rate_limits(CrmRateLimits::STARTER),
    );
    if let Some(scenario) = scenario {
        zoom.seed(scenario.zoom.clone());
        crm.seed(&scenario.crm);
    }
    let mut fakes = Fakes::new();
    fakes.insert("zoom.us".into(), zoom.clone());
    fakes.insert("api.zoom.us".into(), zoom.clone());
    fakes.insert("api.hubapi.com".into(), crm.clone());
    (fakes, zoom, crm)
}

fn plain(status: u16, text: &str) -> FakeResponse {
    FakeResponse::bytes(status, "text/plain", format!("{text}\n").into_bytes())
}

pub use crate::fakes::INSPECT_PREFIX;

/// Answers one request by the fake its first path segment names.
pub async fn answer(fakes: &Fakes, request: hyper::Request<hyper::body::Incoming>) -> FakeResponse {
    let (parts, body) = request.into_parts();
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let trimmed = path_and_query.trim_start_matches('/');
    let (host, rest) = trimmed.split_once('/').unwrap_or((trimmed, ""));
    let host = host.split('?').next().unwrap_or_default();
    let (inspecting, host, rest) = if host == INSPECT_PREFIX {
        let (host, rest) = rest.split_once('/').unwrap_or((rest, ""));
        (true, host, rest)
    } else {
        (false, host, rest)
    };
    // A fake also answers for the hosts it names (the fake Zoom's storage host).
    let fake = fakes.get(host).or_else(|| {
        let mut also = fakes.values().filter(|f| f.also_serves().contains(&host));
        also.next()
    });
    let Some(fake) = fake else {
        let mut hosts: Vec<&str> = fakes.keys().map(String::as_str).collect();
        hosts.sort();
        return plain(
            404,
            &format!(
                "no fake for {host:?}; the first path segment names one of: {}",
                hosts.join(", ")
            ),
        );
    };
    let Ok(uri) = format!("https://{host}/{rest}").parse::<http::Uri>() else {
        return plain(400, "the path is not a valid URI");
    };
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return plain(400, &format!("could not read the body: {e}")),
    };
    let fake_request = FakeRequest {
        method: parts.method,
        uri,
        headers: parts.headers,
        body,
    };
    if inspecting {
        return fake.inspect(&fake_request).unwrap_or_else(|| {
            plain(
                404,
                &format!("the fake for {host:?} has no inspection route /{rest}"),
            )
        });
    }
    ask(fake.as_ref(), &fake_request)
        .await
        .unwrap_or_else(|| plain(504, "the fake timed out (an injected fault)"))
}

/// Serves `fakes` on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, fakes: Arc<Fakes>) -> std::io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        let fakes = fakes.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let fakes = fakes.clone();
                async move {
                    let method = request.method().clone();
                    let path = request.uri().path().to_owned();
                    let answer = answer(&fakes, request).await;
                    tracing::info!(%peer, %method, %path, status = answer.status, "fake");
                    let mut response = hyper::Response::builder().status(answer.status);
                    for (name, value) in &answer.headers {
                        response = response.header(name, value);
                    }
                    let response = response
                        .body(Full::new(Bytes::from(answer.body)))
                        .unwrap_or_else(|_| {
                            hyper::Response::new(Full::new(Bytes::from_static(b"bad answer\n")))
                        });
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
}
