//! `fedblog migrate-store --to <postgres://…|path>`: copies the database the
//! configuration names into the other store (SQLite to PostgreSQL or back), with a
//! progress bar, then checks that every table has as many rows as the source.

use std::path::Path;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};

use crate::{
    config::{Config, Database},
    db::{self, copy::Step},
    delivery::workers,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to copy to: a `postgres://` URL (an existing, empty database) or a SQLite
    /// file (new or empty).
    #[arg(long)]
    to: String,
}

pub async fn run(config: Config, args: &Args) -> anyhow::Result<i32> {
    let source = &config.database;
    let target = Database::parse(args.to.clone(), Path::new("."));
    if same_store(source, &target) {
        bail!("--to names the configured database itself ({source}): give the other store");
    }
    if let Database::File(path) = source
        && !path.exists()
    {
        bail!("there is no database at {source} to copy");
    }
    let from = db::Db::connect(source)
        .await
        .with_context(|| format!("opening {source}"))?;
    if workers::server_is_delivering(&from).await? {
        bail!(
            "a server is using {source}: stop every `fedblog serve` on it first (the copy \
             must see no writes), then run migrate-store again"
        );
    }
    let to = db::Db::connect(&target)
        .await
        .with_context(|| match &target {
            Database::Postgres(_) => format!(
                "opening {target} (the database must exist: create it with `createdb` or \
             CREATE DATABASE)"
            ),
            Database::File(_) => format!("opening {target}"),
        })?;

    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg:>20} [{bar:40}] {pos}/{len} ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let started = std::time::Instant::now();
    let result = db::copy::copy(&from, &to, &mut |step| match step {
        Step::Table { name, rows } => {
            bar.set_message(name.to_owned());
            bar.set_length(rows);
            bar.set_position(0);
        }
        Step::Rows(n) => bar.inc(n),
    })
    .await;
    bar.finish_and_clear();
    let counts = match result {
        Ok(counts) => counts,
        Err(db::copy::CopyError::TargetNotEmpty { table }) => bail!(
            "{target} already holds data (table {table} has rows): migrate-store copies only \
             into an empty database. To start over, drop and recreate it (PostgreSQL: \
             `dropdb` and `createdb`) or delete the file"
        ),
        Err(e) => return Err(e).with_context(|| format!("copying {source} to {target}")),
    };
    from.close().await;
    to.close().await;

    let width = counts.iter().map(|(t, _)| t.len()).max().unwrap_or(0);
    for (table, n) in &counts {
        println!("{table:<width$} {n:>10}");
    }
    let rows: i64 = counts.iter().map(|(_, n)| n).sum();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "every row accounted for: {rows} rows in {} tables ({seconds:.1} s, {:.0} rows/s)",
        counts.len(),
        rows as f64 / seconds.max(0.001)
    );
    println!("copied {source} to {target}; point `database` in config.toml at it to use it");
    Ok(0)
}

/// Whether the two settings name the same database.
fn same_store(a: &Database, b: &Database) -> bool {
    match (a, b) {
        (Database::File(a), Database::File(b)) => match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => std::path::absolute(a).ok() == std::path::absolute(b).ok(),
        },
        (Database::Postgres(a), Database::Postgres(b)) => {
            let key = |u: &str| {
                url::Url::parse(u).ok().map(|u| {
                    (
                        u.host_str().map(str::to_owned),
                        u.port().unwrap_or(5432),
                        u.path().to_owned(),
                    )
                })
            };
            key(a) == key(b)
        }
        _ => false,
    }
}
