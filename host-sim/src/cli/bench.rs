//! `host-sim bench` (issue 8: the plugin's and the simulator's figures)
//! and `host-sim load` (issue 9: a `serve` under many connections).

use std::path::PathBuf;

use crate::config::HostConfig;

use super::output::{out, print_json};

#[derive(clap::Args)]
pub struct BenchArgs {
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
    /// Only the sync's growth: one fuel-counted run at each of these
    /// registrant counts (70 % attending), e.g. 1000,10000,50000,100000 (issue 21).
    #[arg(long, value_delimiter = ',')]
    curve: Vec<usize>,
}

#[derive(clap::Args)]
pub struct LoadArgs {
    #[arg(long, default_value_t = 200)]
    connections: usize,
    #[arg(long, default_value_t = 60)]
    seconds: u64,
}

pub async fn bench(config: HostConfig, args: BenchArgs, json: bool) -> anyhow::Result<()> {
    let options = crate::bench::BenchOptions {
        registrants: args.registrants,
        attendees: args.attendees,
        deliveries: args.deliveries,
        calls: args.calls,
        runs: args.runs,
    };
    let rows = if args.curve.is_empty() {
        crate::bench::run(options, &config).await
    } else {
        crate::bench::curve(&args.curve, &config).await
    }
    .map_err(|e| anyhow::anyhow!("the benchmark failed: {e}"))?;
    let value = serde_json::to_value(&rows)?;
    if let Some(file) = args.out {
        std::fs::write(&file, serde_json::to_string_pretty(&value)? + "\n")
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", file.display()))?;
    }
    if json {
        print_json(&value);
    } else {
        out(crate::bench::render(&rows).trim_end());
    }
    Ok(())
}

/// Fails unless every delivery was answered and kept.
pub async fn load(config: HostConfig, args: LoadArgs, json: bool) -> anyhow::Result<()> {
    let options = crate::load::LoadOptions {
        connections: args.connections,
        duration: std::time::Duration::from_secs(args.seconds),
    };
    let report = crate::load::run(config, options)
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
    Ok(())
}
