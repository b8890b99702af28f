//! `fedblog deliveries`: the delivery queue per activity, per host, and held hosts.

use crate::{config::Config, db, startup, state::AppState};

pub async fn run(config: Config, top: i64) -> anyhow::Result<i32> {
    let fed = startup::federation(config).await?;
    print_deliveries(&fed, top).await?;
    Ok(0)
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
