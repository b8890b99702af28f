//! `fedblog backup` and `fedblog restore`: the database (keys, followers, queue) to a
//! file and back. The backup is `VACUUM INTO`, a consistent snapshot taken inside one
//! read transaction, so the server keeps running (WAL lets it write meanwhile).

use std::path::PathBuf;

use anyhow::{Context, bail};

use crate::{config::Config, db, delivery::workers, startup};

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
    let db = db::Db::connect(&config.database).await?;
    db::backup::backup_into(db.read(), &args.file)
        .await
        .with_context(|| format!("writing {}", args.file.display()))?;
    let size = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
    println!(
        "backed up {} to {} ({size} bytes)",
        config.database.display(),
        args.file.display()
    );
    Ok(0)
}

pub async fn restore(config: Config, args: &RestoreArgs) -> anyhow::Result<i32> {
    // The backup must be a fedblog database before anything is replaced.
    let summary = db::backup::inspect_backup(&args.file)
        .await
        .with_context(|| format!("{} is not a usable fedblog backup", args.file.display()))?;
    if config.database.exists() {
        let app = startup::app(config.clone()).await?;
        let serving = workers::server_is_delivering(app.db()).await?;
        app.db().close().await;
        if serving && !args.force {
            bail!(
                "a server is using {}: stop it first (or pass --force if it is gone)",
                config.database.display()
            );
        }
    }
    db::backup::replace_with(&config.database, &args.file)
        .with_context(|| format!("replacing {}", config.database.display()))?;
    println!(
        "restored {} from {}: {} author(s), {} follower(s), {} post(s)",
        config.database.display(),
        args.file.display(),
        summary.authors,
        summary.followers,
        summary.posts
    );
    Ok(0)
}
