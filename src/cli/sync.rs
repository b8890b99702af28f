//! `fedblog sync`: content folder → database, then the fan-out's progress.

use indicatif::{ProgressBar, ProgressStyle};

use crate::{
    config::Config,
    delivery::{self, progress::Sender},
    federation::client::http_client,
    service::sync,
    startup,
    state::AppState,
};

pub async fn run(config: Config, no_wait: bool) -> anyhow::Result<i32> {
    let fed = startup::federation(config).await?;
    let report = sync::sync(&fed).await?;
    print_sync_report(&report);
    if report.deliveries_queued > 0 && !no_wait {
        show_fan_out(&fed, &report.activities).await?;
    }
    Ok(if report.errors.is_empty() { 0 } else { 1 })
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

pub(super) fn print_sync_report(r: &sync::SyncReport) {
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
