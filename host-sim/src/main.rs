//! `host-sim`: run the Zoom webinar plugin locally against fake Zoom and CRM services.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use host_sim::config::HostConfig;
use host_sim::outbound::Disposition;
use host_sim::sim::{Simulator, StateStore};

#[derive(Parser)]
#[command(
    name = "host-sim",
    version,
    about = "Run the Zoom webinar plugin component against fake Zoom and CRM services"
)]
struct Cli {
    /// Configuration file (TOML); HOST_SIM_* environment variables override it.
    #[arg(long, global = true, env = "HOST_SIM_CONFIG")]
    config: Option<PathBuf>,
    /// Directory of the state database (overrides the configuration's state_dir).
    #[arg(long, global = true)]
    state_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install the plugin into the fake CRM and show it answering Zoom's webhooks.
    Demo,
    /// Install the plugin: create its contact properties and timeline event templates in the CRM.
    Install,
    /// Print the contact properties and timeline event types the plugin defines.
    Properties,
    /// Sign a Zoom webhook body (a JSON file) with the configured secret token and deliver it.
    Deliver {
        /// The webhook body, as Zoom sends it.
        file: PathBuf,
    },
    /// Serve the fake Zoom and CRM on a loopback port, for curl (first path segment: the host).
    Fakes {
        #[arg(long, default_value = "127.0.0.1:8788")]
        listen: std::net::SocketAddr,
        /// Seed the fakes with a scenario's Zoom account and CRM.
        #[arg(long)]
        scenario: Option<PathBuf>,
    },
    /// Print a webinar's audit log (R19): what was synced, what was left out and why.
    Audit {
        /// The Zoom webinar id.
        webinar: String,
        /// Print the entries as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run or generate scenarios (see docs/scenarios.md).
    #[command(subcommand)]
    Scenario(ScenarioCommand),
}

#[derive(Subcommand)]
enum ScenarioCommand {
    /// Play a scenario file against a fresh simulator and print what the CRM holds.
    Run {
        file: PathBuf,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
        /// Keep the plugin's state in the state directory (for `host-sim audit`)
        /// instead of in memory.
        #[arg(long)]
        keep: bool,
    },
    /// Print a generated scenario (TOML) for load and performance work.
    Generate {
        #[arg(long, default_value_t = 1)]
        webinars: usize,
        #[arg(long, default_value_t = 1000)]
        registrants: usize,
        #[arg(long, default_value_t = 700)]
        attendees: usize,
        #[arg(long, default_value_t = 10)]
        guests: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = HostConfig::load(cli.config.as_deref(), std::env::vars())?;
    if let Some(dir) = cli.state_dir {
        config.state_dir = dir;
    }
    // A scenario runs on a fresh simulator of its own.
    let command = match cli.command {
        Command::Scenario(command) => return scenario(command, config).await,
        Command::Fakes { listen, scenario } => return fakes(listen, scenario, config).await,
        other => other,
    };
    let started = Instant::now();
    let store = StateStore::Directory(config.state_dir.clone());
    let sim = Simulator::start(config, store)?;
    match command {
        Command::Demo => demo(&sim).await?,
        Command::Install => install(&sim).await?,
        Command::Properties => properties(&sim).await?,
        Command::Deliver { file } => {
            let body = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let answer = sim.deliver(&sim.zoom_delivery(&body)).await?;
            println!(
                "{} {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            );
        }
        Command::Audit { webinar, json } => audit(&sim, &webinar, json).await?,
        Command::Scenario(_) | Command::Fakes { .. } => {
            unreachable!("run without the state directory, above")
        }
    }
    tracing::info!(elapsed = ?started.elapsed(), "done");
    Ok(())
}

async fn audit(sim: &Simulator, webinar: &str, json: bool) -> anyhow::Result<()> {
    let mut entries = Vec::new();
    let mut start = 0;
    loop {
        let page = sim
            .runtime
            .audit_log(&sim.installation, &webinar.to_owned(), start, 500)
            .await?
            .map_err(|e| anyhow::anyhow!("{}", e.describe()))?;
        entries.extend(page.entries);
        match page.next {
            Some(next) => start = next,
            None => break,
        }
    }
    if json {
        let entries: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "sequence": e.sequence,
                    "at": host_sim::clock::rfc3339(e.at),
                    "kind": host_sim::scenario::audit_kind_name(e.kind),
                    "message": e.message,
                    "records": e.records,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&entries)?);
        return Ok(());
    }
    if entries.is_empty() {
        println!("webinar {webinar}: no audit entries (nothing synced or left out yet)");
    }
    for e in &entries {
        println!(
            "{}  {:<24} {}",
            host_sim::clock::rfc3339(e.at),
            host_sim::scenario::audit_kind_name(e.kind),
            e.message
        );
        if !e.records.is_empty() {
            println!("{:>46} {}", "records:", e.records.join(", "));
        }
    }
    Ok(())
}

async fn fakes(
    listen: std::net::SocketAddr,
    scenario: Option<PathBuf>,
    config: HostConfig,
) -> anyhow::Result<()> {
    use host_sim::fakes::crm::{CrmRateLimits, FakeCrm};
    use host_sim::fakes::zoom::{FakeZoom, ZoomApp};
    use std::sync::Arc;

    let clock = host_sim::clock::Clock::real();
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
            .with_rate_limits(CrmRateLimits::STARTER),
    );
    if let Some(file) = scenario {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
        let scenario = host_sim::scenario::Scenario::from_toml(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        zoom.seed(scenario.zoom);
        crm.seed(&scenario.crm);
    }
    let mut fakes = host_sim::fake_server::Fakes::new();
    fakes.insert("zoom.us".into(), zoom.clone());
    fakes.insert("api.zoom.us".into(), zoom);
    fakes.insert("api.hubapi.com".into(), crm);
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        anyhow::anyhow!("cannot listen on {listen}: {e} (is another host-sim running? pick another port with --listen)")
    })?;
    println!(
        "fake Zoom and CRM on http://{listen}/{{zoom.us,api.zoom.us,api.hubapi.com}}/...  (Ctrl-C stops)"
    );
    tokio::select! {
        served = host_sim::fake_server::serve(listener, Arc::new(fakes)) => served?,
        _ = tokio::signal::ctrl_c() => println!("stopped"),
    }
    Ok(())
}

async fn scenario(command: ScenarioCommand, config: HostConfig) -> anyhow::Result<()> {
    match command {
        ScenarioCommand::Run { file, json, keep } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let scenario = host_sim::scenario::Scenario::from_toml(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let store = if keep {
                StateStore::Directory(config.state_dir.clone())
            } else {
                StateStore::Memory
            };
            let outcome = host_sim::scenario::run_in(&scenario, config, store).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&outcome)?);
            } else {
                print!("{}", outcome.render());
            }
        }
        ScenarioCommand::Generate {
            webinars,
            registrants,
            attendees,
            guests,
            seed,
        } => {
            let scenario = host_sim::scenario::generate(host_sim::scenario::GenerateOptions {
                webinars,
                registrants,
                attendees,
                guests,
                seed,
            });
            print!("{}", scenario.to_toml()?);
        }
    }
    Ok(())
}

async fn install(sim: &Simulator) -> anyhow::Result<()> {
    let report = sim
        .runtime
        .install(&sim.installation)
        .await?
        .map_err(|e| anyhow::anyhow!("install failed: {}", e.describe()))?;
    for created in &report.created {
        println!("created          {created}");
    }
    for present in &report.already_present {
        println!("already present  {present}");
    }
    Ok(())
}

async fn properties(sim: &Simulator) -> anyhow::Result<()> {
    let group = sim
        .runtime
        .contact_property_group(&sim.installation)
        .await?;
    println!(
        "Contact properties (group {:?}, {}):",
        group.name, group.label
    );
    for p in sim.runtime.contact_properties(&sim.installation).await? {
        println!("  {:<45} {:<12} {}", p.name, p.field_type, p.label);
    }
    println!("Timeline event types:");
    for t in sim.runtime.timeline_event_types(&sim.installation).await? {
        let tokens: Vec<_> = t.tokens.iter().map(|k| k.name.as_str()).collect();
        println!("  {:<30} {} [{}]", t.id, t.name, tokens.join(", "));
    }
    Ok(())
}

/// What the foundation can show end to end: install, the URL validation
/// handshake, a forged delivery refused, and the calls that went out.
async fn demo(sim: &Simulator) -> anyhow::Result<()> {
    let started = Instant::now();
    println!("== Install into the fake CRM");
    install(sim).await?;

    println!("\n== Zoom's URL validation challenge");
    let challenge = br#"{"event":"endpoint.url_validation","event_ts":1626230691572,"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"}}"#;
    let answer = sim.deliver(&sim.zoom_delivery(challenge)).await?;
    println!(
        "{} {}",
        answer.status,
        String::from_utf8_lossy(&answer.body)
    );

    println!("\n== A forged delivery (wrong signature)");
    let mut forged = sim.zoom_delivery(challenge);
    for header in &mut forged.headers {
        if header.name == "x-zm-signature" {
            header.value = format!("v0={}", "0".repeat(64));
        }
    }
    let answer = sim.deliver(&forged).await?;
    println!(
        "{} {}",
        answer.status,
        String::from_utf8_lossy(&answer.body)
    );

    println!();
    properties(sim).await?;

    println!("\n== Outbound calls");
    for r in sim.requests() {
        let outcome = match &r.disposition {
            Disposition::Faked(status) => format!("{status} (fake)"),
            Disposition::Real => "sent".into(),
            Disposition::TimedOut => "timed out (fake)".into(),
            Disposition::Denied(reason) => format!("denied: {reason}"),
        };
        println!(
            "  {:<6} {:<60} {}",
            r.method,
            format!("{}{}", r.host, r.path),
            outcome
        );
    }
    println!(
        "\nDone in {:.2?}; state in {}",
        started.elapsed(),
        sim.config.state_dir.display()
    );
    Ok(())
}
