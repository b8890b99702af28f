//! `fedblog sync`: content folder → database, then the fan-out's progress.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tokio_util::sync::CancellationToken;

use crate::{
    app::App,
    config::Config,
    delivery::{
        WorkerKind,
        progress::{self, Sender},
    },
    service::sync,
    startup::{self, Background},
};

pub async fn run(config: Config, no_wait: bool) -> anyhow::Result<i32> {
    let app = startup::app(config).await?;
    let shutdown = CancellationToken::new();
    let mut tasks = startup::background(
        &app,
        &shutdown,
        Background {
            checkpointer: true,
            ..Background::default()
        },
    );
    let report = sync::sync(&app).await;
    if let Ok(report) = &report {
        print_sync_report(report);
        if report.deliveries_queued > 0 && !no_wait {
            let sender = progress::sender(app.db()).await?;
            if sender == Sender::ThisProcess {
                // No server is delivering: this process sends the first attempts.
                let deliverer = startup::deliverer(&app, WorkerKind::Cli)?;
                tasks.extend(startup::background(
                    &app,
                    &shutdown,
                    Background {
                        deliverer: Some(deliverer),
                        ..Background::default()
                    },
                ));
            }
            show_fan_out(&app, &report.activities, sender).await?;
        }
    }
    let grace = app.config().delivery.timeout_seconds.duration() + Duration::from_secs(5);
    tasks.stop(grace).await;
    let report = report?;
    Ok(if report.errors.is_empty() { 0 } else { 1 })
}

/// A progress bar of a publish's fan-out.
async fn show_fan_out(app: &App, activities: &[i64], sender: Sender) -> anyhow::Result<()> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(match sender {
        Sender::Server => "the server is delivering",
        Sender::ThisProcess => "delivering (no server running)",
    });
    let c = progress::follow_fan_out(app.db(), activities, |c| {
        bar.set_length(c.total() as u64);
        bar.set_position((c.done + c.failed + c.retrying) as u64);
    })
    .await?;
    bar.finish_and_clear();
    println!(
        "fan-out: {} delivered, {} to be retried by the server, {} failed, {} not yet attempted",
        c.done, c.retrying, c.failed, c.pending
    );
    Ok(())
}

pub(super) fn print_sync_report(r: &sync::SyncReport) {
    for e in &r.errors {
        eprintln!("error: {e}");
    }
    for w in &r.warnings {
        eprintln!("warning: {w}");
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
