//! The command line: `fedblog serve`, `fedblog sync`, `fedblog deliveries`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::{
    config::Config,
    delivery,
    service::sync,
    startup::{self, Application},
};

#[derive(Debug, Parser)]
#[command(
    name = "fedblog",
    version,
    about = "A self-hosted ActivityPub blog server"
)]
pub struct Cli {
    /// The instance's configuration file.
    #[arg(
        long,
        global = true,
        env = "FEDBLOG_CONFIG",
        default_value = "config.toml"
    )]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load the content folder and serve the blog and its ActivityPub endpoints.
    Serve,
    /// Load the content folder into the database: publish, update and delete posts.
    /// Deliveries are queued; a running server sends them.
    Sync,
    /// Show the delivery queue: pending, done and failed counts.
    Deliveries,
}

/// Runs a parsed command line; returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    let config = Config::load(&cli.config)?;
    match cli.command {
        Command::Serve => {
            let app = Application::build(config).await?;
            print_sync_report(app.startup_sync());
            let base = app.state().uris.home();
            tracing::info!("serving {base} (listening on port {})", app.port());
            let shutdown = CancellationToken::new();
            let stop = shutdown.clone();
            tokio::spawn(async move {
                startup::shutdown_signal().await;
                tracing::info!("shutting down: finishing in-flight deliveries");
                stop.cancel();
            });
            app.run(shutdown, true).await?;
            Ok(0)
        }
        Command::Sync => {
            let fed = startup::federation(config).await?;
            let report = sync::sync(&fed).await?;
            print_sync_report(&report);
            Ok(if report.errors.is_empty() { 0 } else { 1 })
        }
        Command::Deliveries => {
            let fed = startup::federation(config).await?;
            let c = delivery::counts(&fed).await?;
            println!(
                "pending {}\ndone    {}\nfailed  {}",
                c.pending, c.done, c.failed
            );
            Ok(0)
        }
    }
}

fn print_sync_report(r: &sync::SyncReport) {
    for e in &r.errors {
        eprintln!("error: {e}");
    }
    println!(
        "content: {} published, {} updated, {} deleted, {} unchanged; {} deliveries queued{}",
        r.published,
        r.updated,
        r.deleted,
        r.unchanged,
        r.deliveries_queued,
        if r.errors.is_empty() {
            String::new()
        } else {
            format!("; {} file(s) with errors (see above)", r.errors.len())
        }
    );
}
