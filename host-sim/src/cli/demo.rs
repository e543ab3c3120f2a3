//! `host-sim demo [--keep]`: the whole integration in one run, with a
//! progress bar on a terminal.

use std::io::IsTerminal;
use std::time::Instant;

use crate::config::HostConfig;
use crate::scenario::{self, Progress};
use crate::sim::{Simulator, StateStore};

use super::output::{out, print_json};

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Keep the state of the previous run instead of starting fresh (a replay is all duplicates).
    #[arg(long)]
    keep: bool,
}

pub async fn run(config: HostConfig, args: DemoArgs, json: bool) -> anyhow::Result<()> {
    let started = Instant::now();
    let dir = config.state_dir.clone();
    if !args.keep {
        Simulator::reset(&dir)?;
    }
    let scenario = crate::demo::scenario();
    let sim = scenario::prepare(&scenario, config, StateStore::Directory(dir.clone()))?;
    let bar =
        (!json && std::io::stderr().is_terminal()).then(|| progress_bar(scenario.steps.len()));
    let mut progress = |p: Progress| {
        if let Some(bar) = &bar {
            show_progress(bar, p);
        }
    };
    let outcome = scenario::play(&sim, &scenario, &mut progress).await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    sim.save_fakes()?;
    let summary = crate::demo::summarize(&scenario, &outcome, started.elapsed());
    if json {
        print_json(&serde_json::to_value(&summary)?);
    } else {
        out(&crate::demo::render(&summary, &dir.display().to_string()));
    }
    Ok(())
}

fn progress_bar(steps: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(steps as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} [{bar:30}] {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

fn show_progress(bar: &indicatif::ProgressBar, progress: Progress) {
    match progress {
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
