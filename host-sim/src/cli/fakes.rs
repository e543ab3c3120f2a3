//! `host-sim fakes`: the fake Zoom and CRM on a loopback port, for curl and
//! for other host-sim processes (`connection.mode = "remote"`).

use std::path::PathBuf;
use std::sync::Arc;

use crate::config::HostConfig;
use crate::fakes::crm::{CrmRateLimits, FakeCrm};
use crate::fakes::zoom::{FakeZoom, ZoomApp};

use super::output::out;

#[derive(clap::Args)]
pub struct FakesArgs {
    #[arg(long, default_value = "127.0.0.1:8788")]
    listen: std::net::SocketAddr,
    /// Seed the fakes with a scenario's Zoom account and CRM.
    #[arg(long)]
    scenario: Option<PathBuf>,
}

pub async fn run(config: HostConfig, args: FakesArgs) -> anyhow::Result<()> {
    let listen = args.listen;
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
    if let Some(file) = args.scenario {
        let scenario = super::scenario::read_scenario(&file)?;
        zoom.seed(scenario.zoom);
        crm.seed(&scenario.crm);
    }
    let mut fakes = crate::fake_server::Fakes::new();
    fakes.insert("zoom.us".into(), zoom.clone());
    fakes.insert("api.zoom.us".into(), zoom);
    fakes.insert("api.hubapi.com".into(), crm);
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        anyhow::anyhow!("cannot listen on {listen}: {e} (is another host-sim running? pick another port with --listen)")
    })?;
    let address = listener.local_addr()?;
    out(&format!(
        "fake Zoom and CRM on http://{address}/{{zoom.us,api.zoom.us,api.hubapi.com}}/...  (Ctrl-C stops)\nrun the plugin against them: HOST_SIM_CONNECTION_MODE=remote HOST_SIM_CONNECTION_FAKES_URL=http://{address} host-sim ..."
    ));
    tokio::select! {
        served = crate::fake_server::serve(listener, Arc::new(fakes)) => served?,
        _ = tokio::signal::ctrl_c() => out("stopped"),
    }
    Ok(())
}
