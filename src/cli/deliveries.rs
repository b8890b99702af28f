//! `fedblog deliveries`: the delivery queue per activity, per host, and held hosts.

use serde::Serialize;

use crate::{
    config::Config,
    db::{
        self,
        deliveries::{Counts, GroupCounts},
        hosts::HostRow,
    },
    startup,
};

/// The report, as `--json` prints it.
#[derive(Serialize)]
struct Report {
    all: Counts,
    by_activity: Vec<GroupCounts>,
    by_host: Vec<GroupCounts>,
    held_hosts: Vec<HostRow>,
}

pub async fn run(config: Config, top: i64, json: bool) -> anyhow::Result<i32> {
    let app = startup::app(config).await?;
    let db = app.db().write();
    let report = Report {
        all: db::deliveries::counts(db).await?,
        by_activity: db::deliveries::counts_by_activity(db, top).await?,
        by_host: db::deliveries::counts_by_host(db, top).await?,
        held_hosts: db::hosts::open_circuits(db).await?,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_human(&report);
    }
    Ok(0)
}

fn print_human(report: &Report) {
    let all = &report.all;
    println!(
        "{:<10} {:>9} {:>9} {:>9} {:>9}",
        "", "pending", "retrying", "done", "failed"
    );
    println!(
        "{:<10} {:>9} {:>9} {:>9} {:>9}",
        "all", all.pending, all.retrying, all.done, all.failed
    );
    for (title, rows) in [
        ("by activity (newest first)", &report.by_activity),
        ("by host (most pending first)", &report.by_host),
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
    if !report.held_hosts.is_empty() {
        println!("\nhosts held (circuit open):");
        for h in &report.held_hosts {
            let until = h
                .open_until
                .map(crate::federation::objects::iso8601)
                .unwrap_or_default();
            println!(
                "  {}  next probe after {until}; last error: {}",
                h.host,
                h.last_error.as_deref().unwrap_or_default()
            );
        }
    }
}
