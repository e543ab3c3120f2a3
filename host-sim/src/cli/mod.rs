//! The `host-sim` command line: the arguments ([`Cli`]), one module per
//! command group, and what each command prints. `main.rs` only sets up
//! logging, parses and calls [`run`].
//!
//! It lives in the library rather than in the binary: the `crm` commands
//! were already here (they read the fakes in process or through a remote
//! `host-sim fakes`), every command is a thin layer on library modules
//! (`api`, `scenario`, `serve`, `bench`, ...), and a binary that declared
//! its own modules next to the library's in `src/` would leave a reader
//! guessing which crate a file belongs to.
//!
//! | module | commands |
//! | --- | --- |
//! | `demo` | `demo` |
//! | `serve` | `serve`, `admin-token` |
//! | `install` | `install`, `properties` |
//! | `settings` | `settings get`, `settings set` |
//! | `audit` | `audit` |
//! | `sync` | `sync-now`, `backfill`, `tick` |
//! | `action` | `action add-contact-to-webinar` |
//! | `crm` | `crm contacts`, `events`, `search`, `dump` |
//! | `deliver` | `deliver` |
//! | `fakes` | `fakes` |
//! | `scenario` | `scenario run`, `scenario generate` |
//! | `bench` | `bench`, `load` |
//!
//! `--json` is one global flag: `host-sim --json demo` and `host-sim demo
//! --json` are the same. Commands whose output is not a report (`serve`,
//! `fakes`, `admin-token`, and `crm dump`, JSON already) ignore it.

mod action;
mod audit;
mod bench;
mod crm;
mod deliver;
mod demo;
mod fakes;
mod install;
mod output;
mod scenario;
mod serve;
mod settings;
mod sync;

/// The CRM's records as `host-sim crm` reads them; the console shows the same.
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::HostConfig;
use crate::sim::{Simulator, StateStore};

#[derive(Parser)]
#[command(
    name = "host-sim",
    version,
    about = "Run the Zoom webinar plugin component against fake Zoom and CRM services",
    long_about = "Run the Zoom webinar plugin component against fake Zoom and CRM services.\n\nState (the plugin's database and the fakes' records) is kept in the state directory, so commands build on each other: `host-sim demo`, then `host-sim crm contacts`, `host-sim audit 82000000001`, `host-sim serve`."
)]
pub struct Cli {
    /// Configuration file (TOML); HOST_SIM_* environment variables override it.
    #[arg(long, global = true, env = "HOST_SIM_CONFIG")]
    config: Option<PathBuf>,
    /// Directory of the state (overrides the configuration's state_dir).
    #[arg(long, global = true)]
    state_dir: Option<PathBuf>,
    /// Print JSON instead of text, for scripts (the same before or after the command).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The whole integration in one run: a Zoom account's webinars played as signed webhooks, synced, summarised.
    Demo(demo::DemoArgs),
    /// Serve the plugin over HTTP: Zoom and CRM webhooks, the workflow action, settings, audit, sync, and the operator's console.
    ///
    /// The console: open the printed URL (GET /) in a browser and sign in
    /// with the admin token; its pages change the settings, sync webinars,
    /// read their audit logs and the fake CRM's records, and build segments.
    /// JSON routes: POST /webhooks/zoom and /webhooks/crm (signed deliveries, raw);
    /// POST /actions/add-contact-to-zoom-webinar (the CRM's custom-action request
    /// and answer); GET and PUT /settings, /settings/users/EMAIL,
    /// /settings/webinars/ID; GET /webinars/ID/audit; POST /webinars/ID/sync-now,
    /// /tick, /backfill?since=DATE; GET /health. A background tick syncs what
    /// webhooks recorded. Ctrl-C finishes requests in flight and saves the state.
    Serve(serve::ServeArgs),
    /// Print the bearer token of `serve`'s operator routes (generated on first use, kept in the state directory, 0600).
    AdminToken(serve::AdminTokenArgs),
    /// Install the plugin: create its contact properties and timeline event templates in the CRM.
    Install,
    /// The contact properties and timeline event types the plugin defines.
    Properties,
    /// Read or change the plugin's settings (R1-R6).
    #[command(subcommand)]
    Settings(settings::SettingsCommand),
    /// A webinar's audit log (R19): what was synced, what was left out and why.
    Audit(audit::AuditArgs),
    /// Re-sync one webinar from Zoom (R20); twice changes nothing the second time.
    SyncNow(sync::SyncNowArgs),
    /// Sync every webinar of the account (started at or after --since).
    Backfill(sync::BackfillArgs),
    /// Finish what webhooks recorded and what is waiting for a retry.
    Tick,
    /// Run a workflow action (R21-R24).
    #[command(subcommand)]
    Action(action::ActionCommand),
    /// Look at the fake CRM's records (in this process, or a `host-sim fakes` one's with connection.mode = "remote").
    #[command(subcommand)]
    Crm(crm::CrmCommand),
    /// Sign a Zoom webhook body (a JSON file) with the configured secret token and deliver it.
    Deliver(deliver::DeliverArgs),
    /// Serve the fake Zoom and CRM on a loopback port, for curl (first path segment: the host).
    Fakes(fakes::FakesArgs),
    /// Run or generate scenarios (see docs/scenarios.md).
    #[command(subcommand)]
    Scenario(scenario::ScenarioCommand),
    /// Measure the plugin and the simulator (issue 8); build with --release for numbers worth keeping.
    Bench(bench::BenchArgs),
    /// Loads a `serve` of its own on loopback with signed webhook deliveries
    /// from many connections; fails unless every one is answered and kept (issue 9)
    Load(bench::LoadArgs),
}

/// Runs the command `cli` names.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = HostConfig::load(cli.config.as_deref(), std::env::vars())?;
    if let Some(dir) = cli.state_dir {
        config.state_dir = dir;
    }
    let json = cli.json;
    match cli.command {
        // Commands that make their simulator (or need none).
        Command::Demo(args) => demo::run(config, args, json).await,
        Command::Serve(args) => serve::run(config, args).await,
        Command::AdminToken(args) => serve::admin_token(&config, args),
        Command::Fakes(args) => fakes::run(config, args).await,
        Command::Scenario(command) => scenario::run(command, config, json).await,
        Command::Bench(args) => bench::bench(config, args, json).await,
        Command::Load(args) => bench::load(config, args, json).await,
        // Commands on the simulator of the state directory.
        Command::Install => on_state(config, async |sim| install::install(sim, json).await).await,
        Command::Properties => {
            on_state(config, async |sim| install::properties(sim, json).await).await
        }
        Command::Settings(command) => {
            on_state(config, async |sim| settings::run(sim, command, json).await).await
        }
        Command::Audit(args) => {
            on_state(config, async |sim| audit::run(sim, args, json).await).await
        }
        Command::SyncNow(args) => {
            on_state(config, async |sim| sync::sync_now(sim, args, json).await).await
        }
        Command::Backfill(args) => {
            on_state(config, async |sim| sync::backfill(sim, args, json).await).await
        }
        Command::Tick => on_state(config, async |sim| sync::tick(sim, json).await).await,
        Command::Action(command) => {
            on_state(config, async |sim| action::run(sim, command, json).await).await
        }
        Command::Crm(command) => {
            let print = async |sim: &Simulator| {
                crm::run(sim, command, json, &mut |line| output::out(line)).await
            };
            on_state(config, print).await
        }
        Command::Deliver(args) => {
            on_state(config, async |sim| deliver::run(sim, args, json).await).await
        }
    }
}

/// Runs `command` on the simulator of the state directory, then saves the
/// fakes' state, whether the command succeeded or not.
async fn on_state(
    config: HostConfig,
    command: impl AsyncFnOnce(&Simulator) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let sim = Simulator::start(
        config.clone(),
        StateStore::Directory(config.state_dir.clone()),
    )?;
    let result = command(&sim).await;
    // What the plugin wrote to the fakes is there for the next command.
    sim.save_fakes()?;
    result
}
