//! `host-sim`: run the Zoom webinar plugin locally against fake Zoom and CRM services.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use host_sim::api::{self, WebinarInput};
use host_sim::bindings::settings;
use host_sim::config::HostConfig;
use host_sim::operator::TokenSource;
use host_sim::scenario::{self, Progress};
use host_sim::sim::{Simulator, StateStore};
use serde_json::{Value, json};

#[derive(Parser)]
#[command(
    name = "host-sim",
    version,
    about = "Run the Zoom webinar plugin component against fake Zoom and CRM services",
    long_about = "Run the Zoom webinar plugin component against fake Zoom and CRM services.\n\nState (the plugin's database and the fakes' records) is kept in the state directory, so commands build on each other: `host-sim demo`, then `host-sim crm contacts`, `host-sim audit 82000000001`, `host-sim serve`."
)]
struct Cli {
    /// Configuration file (TOML); HOST_SIM_* environment variables override it.
    #[arg(long, global = true, env = "HOST_SIM_CONFIG")]
    config: Option<PathBuf>,
    /// Directory of the state (overrides the configuration's state_dir).
    #[arg(long, global = true)]
    state_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The whole integration in one run: a Zoom account's webinars played as signed webhooks, synced, summarised.
    Demo {
        /// Keep the state of the previous run instead of starting fresh (a replay is all duplicates).
        #[arg(long)]
        keep: bool,
        #[arg(long)]
        json: bool,
    },
    /// Serve the plugin over HTTP: Zoom and CRM webhooks, the workflow action, settings, audit, sync.
    ///
    /// Routes: POST /webhooks/zoom and /webhooks/crm (signed deliveries, raw);
    /// POST /actions/add-contact-to-zoom-webinar (the CRM's custom-action request
    /// and answer); GET and PUT /settings, /settings/users/EMAIL,
    /// /settings/webinars/ID; GET /webinars/ID/audit; POST /webinars/ID/sync-now,
    /// /tick, /backfill?since=DATE; GET /health. A background tick syncs what
    /// webhooks recorded. Ctrl-C finishes requests in flight and saves the state.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8787")]
        listen: std::net::SocketAddr,
        /// Seconds between the background ticks that sync what webhooks recorded.
        #[arg(long, default_value_t = 5)]
        tick_every: u64,
    },
    /// Print the bearer token of `serve`'s operator routes (generated on first use, kept in the state directory, 0600).
    AdminToken {
        /// Replace it with a new one; the old one stops working at the next `serve` start.
        #[arg(long)]
        rotate: bool,
    },
    /// Install the plugin: create its contact properties and timeline event templates in the CRM.
    Install {
        #[arg(long)]
        json: bool,
    },
    /// The contact properties and timeline event types the plugin defines.
    Properties {
        #[arg(long)]
        json: bool,
    },
    /// Read or change the plugin's settings (R1-R6).
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// A webinar's audit log (R19): what was synced, what was left out and why.
    Audit {
        /// The Zoom webinar id.
        webinar: String,
        #[arg(long)]
        json: bool,
    },
    /// Re-sync one webinar from Zoom (R20); twice changes nothing the second time.
    SyncNow {
        webinar: String,
        #[arg(long)]
        json: bool,
    },
    /// Sync every webinar of the account (started at or after --since).
    Backfill {
        /// RFC 3339, e.g. 2026-11-01T00:00:00Z.
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Finish what webhooks recorded and what is waiting for a retry.
    Tick {
        #[arg(long)]
        json: bool,
    },
    /// Run a workflow action (R21-R24).
    #[command(subcommand)]
    Action(ActionCommand),
    /// Look at the fake CRM's records (in this process, or a `host-sim fakes` one's with connection.mode = "remote").
    #[command(subcommand)]
    Crm(host_sim::crm_cli::CrmCommand),
    /// Sign a Zoom webhook body (a JSON file) with the configured secret token and deliver it.
    Deliver {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Serve the fake Zoom and CRM on a loopback port, for curl (first path segment: the host).
    Fakes {
        #[arg(long, default_value = "127.0.0.1:8788")]
        listen: std::net::SocketAddr,
        /// Seed the fakes with a scenario's Zoom account and CRM.
        #[arg(long)]
        scenario: Option<PathBuf>,
    },
    /// Run or generate scenarios (see docs/scenarios.md).
    #[command(subcommand)]
    Scenario(ScenarioCommand),
    /// Measure the plugin and the simulator (issue 8); build with --release for numbers worth keeping.
    Bench {
        #[arg(long, default_value_t = 10_000)]
        registrants: usize,
        #[arg(long, default_value_t = 7_000)]
        attendees: usize,
        /// Webhook deliveries to time.
        #[arg(long, default_value_t = 20_000)]
        deliveries: usize,
        /// Calls to time for the per-call overhead.
        #[arg(long, default_value_t = 2_000)]
        calls: usize,
        /// Runs of the timed measures; the table shows their medians.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Also write the table as JSON to this file.
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Loads a `serve` of its own on loopback with signed webhook deliveries
    /// from many connections; fails unless every one is answered and kept (issue 9)
    Load {
        #[arg(long, default_value_t = 200)]
        connections: usize,
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum SettingsCommand {
    /// The global settings, or one user's or one webinar's.
    Get {
        #[arg(long, conflicts_with = "webinar")]
        user: Option<String>,
        #[arg(long)]
        webinar: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Change settings: global ones by default, --user's or --webinar's when given.
    Set {
        /// A Zoom user's settings (R6a, R6b).
        #[arg(long, conflicts_with = "webinar")]
        user: Option<String>,
        /// One webinar's switch (R6c): on, off or default.
        #[arg(long)]
        webinar: Option<String>,
        /// NAME=VALUE, repeatable. Global: global_sync, webinar_sync, recording_sync
        /// (none | all-users | emails), host_exclusion_domains, recording_exclusion_domains,
        /// contact_exclusion_domains (comma-separated). User: sync_new_webinars,
        /// sync_recordings. Webinar: sync (on | off | default).
        #[arg(required = true)]
        changes: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ActionCommand {
    /// "Add contact to Zoom webinar" for a CRM contact.
    AddContactToWebinar {
        /// The contact's email in the CRM.
        #[arg(long)]
        contact: String,
        /// The webinar id, as typed into the action.
        #[arg(long, required_unless_present = "property")]
        webinar: Option<String>,
        /// Or the contact property holding the webinar id.
        #[arg(long, conflicts_with = "webinar")]
        property: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ScenarioCommand {
    /// Play a scenario file against a fresh simulator and print what the CRM holds.
    Run {
        file: PathBuf,
        #[arg(long)]
        json: bool,
        /// Keep the state in the state directory (for later commands) instead of in memory.
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
        /// Print the scenario as JSON instead of TOML.
        #[arg(long)]
        json: bool,
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
            // One line, with what to do.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prints to stdout; a closed pipe (`| head`) ends the program quietly.
fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    // One write: a reader that stops after the first line never sees half.
    let written = stdout.write_all(format!("{text}\n").as_bytes());
    if written.is_err_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) {
        std::process::exit(0);
    }
}

fn print_json(value: &Value) {
    out(&serde_json::to_string_pretty(value).unwrap_or_default());
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = HostConfig::load(cli.config.as_deref(), std::env::vars())?;
    if let Some(dir) = cli.state_dir {
        config.state_dir = dir;
    }
    let command = match cli.command {
        Command::Scenario(command) => return scenario_command(command, config).await,
        Command::Fakes { listen, scenario } => return fakes(listen, scenario, config).await,
        Command::Demo { keep, json } => return demo(config, keep, json).await,
        Command::AdminToken { rotate } => return admin_token(&config, rotate),
        Command::Bench {
            registrants,
            attendees,
            deliveries,
            calls,
            runs,
            out: file,
            json,
        } => {
            let options = host_sim::bench::BenchOptions {
                registrants,
                attendees,
                deliveries,
                calls,
                runs,
            };
            let rows = host_sim::bench::run(options, &config)
                .await
                .map_err(|e| anyhow::anyhow!("the benchmark failed: {e}"))?;
            let value = serde_json::to_value(&rows)?;
            if let Some(file) = file {
                std::fs::write(&file, serde_json::to_string_pretty(&value)? + "\n")
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", file.display()))?;
            }
            if json {
                print_json(&value);
            } else {
                out(host_sim::bench::render(&rows).trim_end());
            }
            return Ok(());
        }
        Command::Load {
            connections,
            seconds,
            json,
        } => {
            let options = host_sim::load::LoadOptions {
                connections,
                duration: std::time::Duration::from_secs(seconds),
            };
            let report = host_sim::load::run(config, options)
                .await
                .map_err(|e| anyhow::anyhow!("the load failed: {e}"))?;
            if json {
                print_json(&serde_json::to_value(&report)?);
            } else {
                out(&format!(
                    "{} connections for {:.1} s: {} deliveries ({:.0}/s), answers {:?}, {} without an answer\nlatency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms\nstored {} of {} events",
                    report.connections,
                    report.seconds,
                    report.sent,
                    report.per_second,
                    report.statuses,
                    report.errors,
                    report.p50_ms,
                    report.p99_ms,
                    report.max_ms,
                    report.stored,
                    report.sent
                ));
            }
            if !report.nothing_lost() {
                anyhow::bail!("deliveries were refused, unanswered or lost (see above)");
            }
            return Ok(());
        }
        other => other,
    };
    let sim = Simulator::start(
        config.clone(),
        StateStore::Directory(config.state_dir.clone()),
    )?;
    let result = match command {
        Command::Serve { listen, tick_every } => {
            let sim = Arc::new(sim);
            serve(sim.clone(), listen, tick_every).await?;
            sim.save_fakes()?;
            return Ok(());
        }
        Command::Install { json } => install(&sim, json).await,
        Command::Properties { json } => properties(&sim, json).await,
        Command::Settings(command) => settings_command(&sim, command).await,
        Command::Audit { webinar, json } => audit(&sim, &webinar, json).await,
        Command::SyncNow { webinar, json } => {
            report(api::sync_now(&sim, &webinar).await?, json);
            Ok(())
        }
        Command::Backfill { since, json } => {
            report(api::backfill(&sim, since.as_deref()).await?, json);
            Ok(())
        }
        Command::Tick { json } => {
            report(api::tick(&sim).await?, json);
            Ok(())
        }
        Command::Action(ActionCommand::AddContactToWebinar {
            contact,
            webinar,
            property,
            json,
        }) => action(&sim, &contact, webinar, property, json).await,
        Command::Crm(command) => host_sim::crm_cli::run(&sim, command, &mut |line| out(line)).await,
        Command::Deliver { file, json } => {
            let body = std::fs::read(&file).map_err(|e| {
                anyhow::anyhow!(
                    "cannot read {}: {e} (give the path of a JSON webhook body)",
                    file.display()
                )
            })?;
            let answer = sim.deliver(&sim.zoom_delivery(&body)).await?;
            let text = String::from_utf8_lossy(&answer.body).into_owned();
            let parsed = serde_json::from_str::<Value>(&text).ok();
            if json {
                print_json(&json!({
                    "status": answer.status,
                    "body": parsed.clone().unwrap_or(Value::String(text.clone())),
                }));
            } else {
                out(&format!("{} {text}", answer.status));
            }
            // A script must tell a refusal (400 malformed, 401 forged, 413
            // too large) from a delivery the plugin took.
            if answer.status >= 400 {
                let reason = parsed
                    .as_ref()
                    .and_then(|v| v["reason"].as_str().or(v["error"].as_str()))
                    .unwrap_or(&text);
                anyhow::bail!(
                    "the plugin refused the delivery ({}): {reason}",
                    answer.status
                );
            }
            Ok(())
        }
        Command::Scenario(_)
        | Command::Fakes { .. }
        | Command::Demo { .. }
        | Command::AdminToken { .. }
        | Command::Bench { .. }
        | Command::Load { .. } => {
            unreachable!("handled above")
        }
    };
    // What the plugin wrote to the fakes is there for the next command.
    sim.save_fakes()?;
    result
}

fn report(report: host_sim::bindings::SyncReport, json: bool) {
    if json {
        print_json(&api::report_json(&report));
    } else {
        out(&api::report_text(&report));
    }
}

async fn demo(config: HostConfig, keep: bool, json: bool) -> anyhow::Result<()> {
    let started = Instant::now();
    let dir = config.state_dir.clone();
    if !keep {
        Simulator::reset(&dir)?;
    }
    let scenario = host_sim::demo::scenario();
    let sim = scenario::prepare(&scenario, config, StateStore::Directory(dir.clone()))?;
    let bar = (!json && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(scenario.steps.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} [{bar:30}] {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar
    });
    let mut progress = |p: Progress| {
        if let Some(bar) = &bar {
            match p {
                Progress::Step {
                    index,
                    total,
                    label,
                } => {
                    bar.set_length(total as u64);
                    bar.set_position(index as u64 - 1);
                    bar.set_message(label);
                }
                Progress::Deliveries { done, total } => {
                    bar.tick();
                    let message = bar.message();
                    let step = message.split(" (").next().unwrap_or_default().to_owned();
                    bar.set_message(format!("{step} ({done}/{total} deliveries)"));
                }
            }
        }
    };
    let outcome = scenario::play(&sim, &scenario, &mut progress).await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    sim.save_fakes()?;
    let summary = host_sim::demo::summarize(&scenario, &outcome, started.elapsed());
    if json {
        print_json(&serde_json::to_value(&summary)?);
    } else {
        out(&host_sim::demo::render(
            &summary,
            &dir.display().to_string(),
        ));
    }
    Ok(())
}

async fn serve(
    sim: Arc<Simulator>,
    listen: std::net::SocketAddr,
    tick_every: u64,
) -> anyhow::Result<()> {
    let (token, source) = host_sim::operator::admin_token(&sim.config).map_err(|e| {
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
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let mut options = host_sim::serve::ServeOptions::new(&sim.config, token, address);
    options.tick_every = Duration::from_secs(tick_every.max(1));
    host_sim::serve::serve(listener, sim, options, shutdown).await?;
    out("stopped; state saved");
    Ok(())
}

/// `host-sim admin-token [--rotate]`: the operator routes' bearer token.
fn admin_token(config: &HostConfig, rotate: bool) -> anyhow::Result<()> {
    let failed = |e: std::io::Error| {
        anyhow::anyhow!(
            "cannot keep the admin token in {}: {e}",
            config.state_dir.display()
        )
    };
    if config.serve.admin_token.is_some() {
        if rotate {
            anyhow::bail!(
                "the admin token is set by serve.admin_token in the configuration: change it there"
            );
        }
    } else if rotate {
        host_sim::operator::rotate(&config.state_dir).map_err(failed)?;
    }
    let (token, _) = host_sim::operator::admin_token(config).map_err(failed)?;
    out(token.expose());
    Ok(())
}

async fn install(sim: &Simulator, json: bool) -> anyhow::Result<()> {
    let report = sim
        .runtime
        .install(&sim.installation)
        .await?
        .map_err(|e| anyhow::anyhow!("install failed: {}", e.describe()))?;
    if json {
        print_json(
            &json!({ "created": report.created, "already_present": report.already_present, "not_set_up": report.not_set_up }),
        );
        return Ok(());
    }
    for created in &report.created {
        out(&format!("created          {created}"));
    }
    for present in &report.already_present {
        out(&format!("already present  {present}"));
    }
    // R10: install succeeded, without these.
    for missing in &report.not_set_up {
        out(&format!("not set up       {missing}"));
    }
    Ok(())
}

async fn properties(sim: &Simulator, json: bool) -> anyhow::Result<()> {
    let group = sim
        .runtime
        .contact_property_group(&sim.installation)
        .await?;
    let properties = sim.runtime.contact_properties(&sim.installation).await?;
    let events = sim.runtime.timeline_event_types(&sim.installation).await?;
    let actions = sim.runtime.action_definitions(&sim.installation).await?;
    if json {
        print_json(&json!({
            "group": { "name": group.name, "label": group.label },
            "contact_properties": properties.iter().map(|p| json!({
                "name": p.name, "label": p.label, "field_type": p.field_type,
            })).collect::<Vec<_>>(),
            "timeline_event_types": events.iter().map(|t| json!({
                "id": t.id, "name": t.name,
                "tokens": t.tokens.iter().map(|k| &k.name).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "workflow_actions": actions.iter().map(|a| json!({
                "id": a.id, "label": a.label,
                "inputs": a.input_fields.iter().map(|f| &f.name).collect::<Vec<_>>(),
                "outputs": a.output_fields.iter().map(|f| &f.name).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    out(&format!(
        "Contact properties (group {:?}, {}):",
        group.name, group.label
    ));
    for p in &properties {
        out(&format!(
            "  {:<45} {:<12} {}",
            p.name, p.field_type, p.label
        ));
    }
    out("Timeline event types:");
    for t in &events {
        let tokens: Vec<_> = t.tokens.iter().map(|k| k.name.as_str()).collect();
        out(&format!(
            "  {:<30} {} [{}]",
            t.id,
            t.name,
            tokens.join(", ")
        ));
    }
    out("Workflow actions:");
    for a in &actions {
        let inputs: Vec<_> = a.input_fields.iter().map(|f| f.name.as_str()).collect();
        let outputs: Vec<_> = a.output_fields.iter().map(|f| f.name.as_str()).collect();
        out(&format!(
            "  {:<30} {} (in: {}; out: {})",
            a.id,
            a.label,
            inputs.join(", "),
            outputs.join(", ")
        ));
    }
    Ok(())
}

fn on_off(name: &str, value: &str) -> anyhow::Result<bool> {
    match value {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        other => anyhow::bail!("{name} must be on or off, not {other:?}"),
    }
}

fn split_change(change: &str) -> anyhow::Result<(&str, &str)> {
    change
        .split_once('=')
        .map(|(k, v)| (k.trim(), v.trim()))
        .ok_or_else(|| anyhow::anyhow!("{change:?} is not NAME=VALUE (e.g. global_sync=on)"))
}

async fn settings_command(sim: &Simulator, command: SettingsCommand) -> anyhow::Result<()> {
    let value = match command {
        SettingsCommand::Get {
            user,
            webinar,
            json,
        } => {
            let value = match (user, webinar) {
                (Some(user), _) => api::user_json(&api::user_settings(sim, &user).await?),
                (None, Some(webinar)) => {
                    api::webinar_settings_json(&api::webinar_settings(sim, &webinar).await?)
                }
                (None, None) => api::global_json(&api::global_settings(sim).await?),
            };
            (value, json)
        }
        SettingsCommand::Set {
            user,
            webinar,
            changes,
            json,
        } => {
            let value = match (user, webinar) {
                (Some(user), _) => {
                    let mut next = api::user_settings(sim, &user).await?;
                    for change in &changes {
                        match split_change(change)? {
                            ("sync_new_webinars", v) => {
                                next.sync_new_webinars = on_off("sync_new_webinars", v)?
                            }
                            ("sync_recordings", v) => {
                                next.sync_recordings = on_off("sync_recordings", v)?
                            }
                            (other, _) => anyhow::bail!(
                                "unknown user setting {other:?}: use sync_new_webinars or sync_recordings"
                            ),
                        }
                    }
                    api::set_user_settings(sim, &next).await?;
                    api::user_json(&next)
                }
                (None, Some(webinar)) => {
                    let mut next = settings::WebinarSettings {
                        webinar,
                        sync_enabled: None,
                    };
                    for change in &changes {
                        next.sync_enabled = match split_change(change)? {
                            ("sync", "default") => None,
                            ("sync", v) => Some(on_off("sync", v)?),
                            (other, _) => anyhow::bail!(
                                "unknown webinar setting {other:?}: use sync=on|off|default"
                            ),
                        };
                    }
                    api::set_webinar_settings(sim, &next).await?;
                    api::webinar_settings_json(&next)
                }
                (None, None) => {
                    let mut change = serde_json::Map::new();
                    for text in &changes {
                        let (name, value) = split_change(text)?;
                        let value = match name {
                            "global_sync" | "webinar_sync" => json!(on_off(name, value)?),
                            _ => json!(value),
                        };
                        change.insert(name.to_owned(), value);
                    }
                    let current = api::global_settings(sim).await?;
                    let next = api::global_with(&current, &Value::Object(change))
                        .map_err(|e| anyhow::anyhow!(e))?;
                    api::set_global_settings(sim, &next).await?;
                    api::global_json(&next)
                }
            };
            (value, json)
        }
    };
    let (value, json) = value;
    if json {
        print_json(&value);
    } else if let Some(fields) = value.as_object() {
        for (name, v) in fields {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Null => "default".into(),
                other => other.to_string(),
            };
            out(&format!("{name:<28} {v}"));
        }
    }
    Ok(())
}

async fn audit(sim: &Simulator, webinar: &str, json: bool) -> anyhow::Result<()> {
    let entries = api::audit_log(sim, webinar).await?;
    if json {
        print_json(&json!(
            entries.iter().map(api::audit_json).collect::<Vec<_>>()
        ));
        return Ok(());
    }
    if entries.is_empty() {
        out(&format!(
            "webinar {webinar}: no audit entries (nothing synced or left out yet)"
        ));
    }
    for e in &entries {
        out(&format!(
            "{}  {:<24} {}",
            host_sim::clock::rfc3339(e.at),
            api::audit_kind_name(e.kind),
            e.message
        ));
        if !e.records.is_empty() {
            out(&format!("{:>46} {}", "records:", e.records.join(", ")));
        }
    }
    Ok(())
}

async fn action(
    sim: &Simulator,
    contact: &str,
    webinar: Option<String>,
    property: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let contact_id = api::contact_id(sim, contact).ok_or_else(|| {
        anyhow::anyhow!("the CRM has no contact {contact} (list them with `host-sim crm contacts`)")
    })?;
    let input = match (webinar, property) {
        (Some(w), _) => WebinarInput::Fixed(w),
        (None, Some(p)) => WebinarInput::Property(p),
        (None, None) => WebinarInput::Missing,
    };
    let callback = format!("cli-{}", host_sim::sim::now_ms());
    let outcome = api::add_contact_to_webinar(sim, &contact_id, input, &callback).await?;
    if json {
        print_json(&outcome.crm_json());
    } else {
        out(&outcome.text());
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
            .with_developer_api_key(config.crm.developer_api_key.expose())
            .with_rate_limits(CrmRateLimits::STARTER),
    );
    if let Some(file) = scenario {
        let scenario = read_scenario(&file)?;
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
    let address = listener.local_addr()?;
    out(&format!(
        "fake Zoom and CRM on http://{address}/{{zoom.us,api.zoom.us,api.hubapi.com}}/...  (Ctrl-C stops)\nrun the plugin against them: HOST_SIM_CONNECTION_MODE=remote HOST_SIM_CONNECTION_FAKES_URL=http://{address} host-sim ..."
    ));
    tokio::select! {
        served = host_sim::fake_server::serve(listener, Arc::new(fakes)) => served?,
        _ = tokio::signal::ctrl_c() => out("stopped"),
    }
    Ok(())
}

fn read_scenario(file: &std::path::Path) -> anyhow::Result<scenario::Scenario> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    scenario::Scenario::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))
}

async fn scenario_command(command: ScenarioCommand, config: HostConfig) -> anyhow::Result<()> {
    match command {
        ScenarioCommand::Run { file, json, keep } => {
            let scenario = read_scenario(&file)?;
            let store = if keep {
                Simulator::reset(&config.state_dir)?;
                StateStore::Directory(config.state_dir.clone())
            } else {
                StateStore::Memory
            };
            let sim = scenario::prepare(&scenario, config, store)?;
            let outcome = scenario::play(&sim, &scenario, &mut |_| {}).await?;
            sim.save_fakes()?;
            if json {
                print_json(&serde_json::to_value(&outcome)?);
            } else {
                out(outcome.render().trim_end());
            }
        }
        ScenarioCommand::Generate {
            webinars,
            registrants,
            attendees,
            guests,
            seed,
            json,
        } => {
            let scenario = scenario::generate(scenario::GenerateOptions {
                webinars,
                registrants,
                attendees,
                guests,
                seed,
            });
            if json {
                print_json(&serde_json::to_value(&scenario)?);
            } else {
                out(scenario.to_toml()?.trim_end());
            }
        }
    }
    Ok(())
}
