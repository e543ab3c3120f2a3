//! `host-sim serve` (the plugin behind HTTP, `crate::serve`) and
//! `host-sim admin-token` (the bearer token of its operator routes).

use std::sync::Arc;
use std::time::Duration;

use crate::config::HostConfig;
use crate::operator::TokenSource;
use crate::sim::{Simulator, StateStore};

use super::output::out;

#[derive(clap::Args)]
pub struct ServeArgs {
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: std::net::SocketAddr,
    /// Seconds between the background ticks that sync what webhooks recorded.
    #[arg(long, default_value_t = 5)]
    tick_every: u64,
}

#[derive(clap::Args)]
pub struct AdminTokenArgs {
    /// Replace it with a new one; the old one stops working at the next `serve` start.
    #[arg(long)]
    rotate: bool,
}

/// Serves until Ctrl-C, then saves the fakes' state.
pub async fn run(config: HostConfig, args: ServeArgs) -> anyhow::Result<()> {
    let sim = Arc::new(Simulator::start(
        config.clone(),
        StateStore::Directory(config.state_dir.clone()),
    )?);
    serve(sim.clone(), args).await?;
    sim.save_fakes()?;
    Ok(())
}

async fn serve(sim: Arc<Simulator>, args: ServeArgs) -> anyhow::Result<()> {
    let listen = args.listen;
    let (token, source) = crate::operator::admin_token(&sim.config).map_err(|e| {
        anyhow::anyhow!(
            "cannot keep the admin token in {}: {e}",
            sim.config.state_dir.display()
        )
    })?;
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on {listen}: {e} (is another host-sim running? pick another port with --listen)"
        )
    })?;
    let address = listener.local_addr()?;
    out(&format!(
        "host-sim serving the plugin on http://{address}  (POST /webhooks/zoom, /webhooks/crm; operator routes: GET /settings, /webinars/ID/audit, ... with the admin token; Ctrl-C stops)"
    ));
    match source {
        // Shown once; `host-sim admin-token` shows it again.
        TokenSource::Generated => out(&format!(
            "admin token (operator routes: Authorization: Bearer ...): {}",
            token.expose()
        )),
        TokenSource::Stored => out("admin token: `host-sim admin-token` prints it"),
        TokenSource::Configured => out("admin token: serve.admin_token of the configuration"),
    }
    // Issue 22: the console, signed in with that token.
    out(&format!(
        "console: open http://{address}/ in a browser and sign in with the admin token"
    ));
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let mut options = crate::serve::ServeOptions::new(&sim.config, token, address);
    options.tick_every = Duration::from_secs(args.tick_every.max(1));
    crate::serve::serve(listener, sim, options, shutdown).await?;
    out("stopped; state saved");
    Ok(())
}

/// `host-sim admin-token [--rotate]`: the operator routes' bearer token.
pub fn admin_token(config: &HostConfig, args: AdminTokenArgs) -> anyhow::Result<()> {
    let failed = |e: std::io::Error| {
        anyhow::anyhow!(
            "cannot keep the admin token in {}: {e}",
            config.state_dir.display()
        )
    };
    if config.serve.admin_token.is_some() {
        if args.rotate {
            anyhow::bail!(
                "the admin token is set by serve.admin_token in the configuration: change it there"
            );
        }
    } else if args.rotate {
        crate::operator::rotate(&config.state_dir).map_err(failed)?;
    }
    let (token, _) = crate::operator::admin_token(config).map_err(failed)?;
    out(token.expose());
    Ok(())
}
