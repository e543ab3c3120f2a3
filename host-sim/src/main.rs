//! `host-sim`: run the Zoom webinar plugin locally against fake Zoom and CRM services.
//!
//! The commands live in the library's `cli` module (one module per command
//! group); this sets up the log, parses the arguments and runs the command.

use std::process::ExitCode;

use clap::Parser;
use host_sim::cli::{self, Cli};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli::run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, with what to do.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
