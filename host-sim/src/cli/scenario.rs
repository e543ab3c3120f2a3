//! `host-sim scenario run|generate` (docs/scenarios.md).

use std::path::{Path, PathBuf};

use crate::config::HostConfig;
use crate::scenario::{self, GenerateOptions, Scenario};
use crate::sim::{Simulator, StateStore};

use super::output::{out, print_json};

#[derive(clap::Subcommand)]
pub enum ScenarioCommand {
    /// Play a scenario file against a fresh simulator and print what the CRM holds.
    Run {
        file: PathBuf,
        /// Keep the state in the state directory (for later commands) instead of in memory.
        #[arg(long)]
        keep: bool,
    },
    /// Print a generated scenario (TOML, or JSON with --json) for load and performance work.
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

/// A scenario file, or one line naming it and what is wrong.
pub fn read_scenario(file: &Path) -> anyhow::Result<Scenario> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    Scenario::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))
}

/// `json`: `run` prints the outcome as JSON; `generate` the scenario as
/// JSON instead of TOML.
pub async fn run(command: ScenarioCommand, config: HostConfig, json: bool) -> anyhow::Result<()> {
    match command {
        ScenarioCommand::Run { file, keep } => {
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
        } => {
            let scenario = scenario::generate(GenerateOptions {
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
