//! The command line: `fedblog serve`, `fedblog sync`, `fedblog deliveries`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use indicatif::{ProgressBar, ProgressStyle};

use crate::{
    config::Config,
    db,
    delivery::{self, progress::Sender},
    federation::client::http_client,
    service::sync,
    startup::{self, Application},
    state::AppState,
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
    Serve {
        /// Republish posts as soon as their files are saved.
        #[arg(long)]
        watch: bool,
    },
    /// Start a new post: writes content/<author>/<slug>.md with front matter and prints its path.
    New {
        /// The author's handle (their folder in content/).
        #[arg(long)]
        author: String,
        /// The post's title; the file name is made from it.
        title: String,
    },
    /// Load the content folder into the database: publish, update and delete posts,
    /// and show the fan-out to followers (sent by the running server, or by this
    /// command when no server runs).
    Sync {
        /// Queue the deliveries and return at once.
        #[arg(long)]
        no_wait: bool,
    },
    /// Show the delivery queue: pending, retrying, done and failed, per activity and per host.
    Deliveries {
        /// How many activities and hosts to list.
        #[arg(long, default_value_t = 10)]
        top: i64,
    },
}

/// Runs a parsed command line; returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    let config = Config::load(&cli.config)?;
    match cli.command {
        Command::Serve { watch } => {
            let app = Application::build(config).await?.watch_content(watch);
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
        Command::New { author, title } => {
            let handle = crate::domain::Handle::parse(&author)?;
            let today = chrono::Local::now().date_naive();
            let path = crate::content::new_post(&config.content, &handle, &title, today)?;
            println!("{}", path.display());
            Ok(0)
        }
        Command::Sync { no_wait } => {
            let fed = startup::federation(config).await?;
            let report = sync::sync(&fed).await?;
            print_sync_report(&report);
            if report.deliveries_queued > 0 && !no_wait {
                show_fan_out(&fed, &report.activities).await?;
            }
            Ok(if report.errors.is_empty() { 0 } else { 1 })
        }
        Command::Deliveries { top } => {
            let fed = startup::federation(config).await?;
            print_deliveries(&fed, top).await?;
            Ok(0)
        }
    }
}

/// A progress bar of a publish's fan-out.
async fn show_fan_out(state: &AppState, activities: &[i64]) -> anyhow::Result<()> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let client = http_client(&state.config)?;
    let c = delivery::progress::follow_fan_out(state, client, activities, |c, sender| {
        bar.set_length(c.total() as u64);
        bar.set_position((c.done + c.failed + c.retrying) as u64);
        bar.set_message(match sender {
            Sender::Server => "the server is delivering",
            Sender::ThisProcess => "delivering (no server running)",
        });
    })
    .await?;
    bar.finish_and_clear();
    println!(
        "fan-out: {} delivered, {} to be retried by the server, {} failed, {} not yet attempted",
        c.done, c.retrying, c.failed, c.pending
    );
    Ok(())
}

async fn print_deliveries(state: &AppState, top: i64) -> anyhow::Result<()> {
    let db = &state.db;
    let all = db::deliveries::counts(db).await?;
    println!(
        "{:<10} {:>9} {:>9} {:>9} {:>9}",
        "", "pending", "retrying", "done", "failed"
    );
    println!(
        "{:<10} {:>9} {:>9} {:>9} {:>9}",
        "all", all.pending, all.retrying, all.done, all.failed
    );
    for (title, rows) in [
        (
            "by activity (newest first)",
            db::deliveries::counts_by_activity(db, top).await?,
        ),
        (
            "by host (most pending first)",
            db::deliveries::counts_by_host(db, top).await?,
        ),
    ] {
        println!("\n{title}:");
        for r in rows {
            let c = &r.counts;
            println!(
                "  {:>9} {:>9} {:>9} {:>9}  {}",
                c.pending, c.retrying, c.done, c.failed, r.key
            );
        }
    }
    let open = db::hosts::open_circuits(db).await?;
    if !open.is_empty() {
        println!("\nhosts held (circuit open):");
        for h in open {
            let until = h
                .open_until
                .map(crate::federation::objects::iso8601)
                .unwrap_or_default();
            println!(
                "  {}  next probe after {until}; last error: {}",
                h.host,
                h.last_error.unwrap_or_default()
            );
        }
    }
    Ok(())
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
