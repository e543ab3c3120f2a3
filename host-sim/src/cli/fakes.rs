//! `host-sim fakes`: the fake Zoom and CRM on a loopback port, for curl and
//! for other host-sim processes (`connection.mode = "remote"`).

use std::path::PathBuf;
use std::sync::Arc;

use crate::config::HostConfig;

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
    let scenario = match &args.scenario {
        Some(file) => Some(super::scenario::read_scenario(file)?),
        None => None,
    };
    let (fakes, _, _) = crate::fake_server::standalone(&config, scenario.as_ref());
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
