//! `fedblog backup` and `fedblog restore`: the database (keys, followers, queue) to a
//! file and back. The backup is `VACUUM INTO`, a consistent snapshot taken inside one
//! read transaction, so the server keeps running (WAL lets it write meanwhile).
//! PostgreSQL has its own tools for this, made for the job: on that store both
//! commands print the `pg_dump`/`pg_restore` command to run instead.

use std::path::PathBuf;

use anyhow::{Context, bail};

use crate::{
    config::{Config, Database},
    db,
    delivery::workers,
    startup,
};

/// The SQLite file, or the error that tells a PostgreSQL user which tool to run.
fn sqlite_file<'c>(config: &'c Config, tool: &str) -> anyhow::Result<&'c std::path::Path> {
    match &config.database {
        Database::File(path) => Ok(path),
        Database::Postgres(_) => bail!(
            "the database is PostgreSQL: use its own tools, for example\n  {tool}\n\
             with the URL from config.toml ({url:?}); docs/SCALING.md has the details",
            url = config.database.to_string(),
        ),
    }
}

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// The file to write; it must not exist yet.
    file: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// A file written by `fedblog backup`.
    file: PathBuf,
    /// Restore even though a server seems to be using the database (stop it first!).
    #[arg(long)]
    force: bool,
}

pub async fn backup(config: Config, args: &BackupArgs) -> anyhow::Result<i32> {
    if args.file.exists() {
        bail!(
            "{} already exists; backup never overwrites a file",
            args.file.display()
        );
    }
    sqlite_file(
        &config,
        &format!(
            "pg_dump --format=custom --file {} \"$URL\"",
            args.file.display()
        ),
    )?;
    let db = db::Db::connect(&config.database).await?;
    db::backup::backup_into(db.read(), &args.file)
        .await
        .with_context(|| format!("writing {}", args.file.display()))?;
    let size = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
    println!(
        "backed up {} to {} ({size} bytes)",
        config.database,
        args.file.display()
    );
    Ok(0)
}

pub async fn restore(config: Config, args: &RestoreArgs) -> anyhow::Result<i32> {
    let database = sqlite_file(
        &config,
        &format!(
            "pg_restore --clean --if-exists --no-owner --dbname \"$URL\" {}",
            args.file.display()
        ),
    )?
    .to_owned();
    // The backup must be a fedblog database before anything is replaced.
    let summary = db::backup::inspect_backup(&args.file)
        .await
        .with_context(|| format!("{} is not a usable fedblog backup", args.file.display()))?;
    if database.exists() {
        let app = startup::app(config.clone()).await?;
        let serving = workers::server_is_delivering(app.db()).await?;
        app.db().close().await;
        if serving && !args.force {
            bail!(
                "a server is using {}: stop it first (or pass --force if it is gone)",
                config.database
            );
        }
    }
    db::backup::replace_with(&database, &args.file)
        .with_context(|| format!("replacing {}", database.display()))?;
    println!(
        "restored {} from {}: {} author(s), {} follower(s), {} post(s)",
        config.database,
        args.file.display(),
        summary.authors,
        summary.followers,
        summary.posts
    );
    Ok(0)
}
