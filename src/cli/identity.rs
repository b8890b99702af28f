//! `fedblog move` and `fedblog rotate-key`: an author's account, kept or moved.

use crate::{
    config::Config,
    domain::Handle,
    service::identity::{self, Announced},
    startup,
};

#[derive(Debug, clap::Args)]
pub struct MoveArgs {
    /// The author who moves.
    #[arg(long)]
    author: String,
    /// The new account: @user@server or its actor URL. It must list this author in its
    /// aliases (alsoKnownAs) first.
    #[arg(long)]
    to: String,
}

#[derive(Debug, clap::Args)]
pub struct RotateKeyArgs {
    /// The author whose key pair is replaced.
    #[arg(long)]
    author: String,
}

pub async fn move_author(config: Config, args: &MoveArgs) -> anyhow::Result<i32> {
    let handle = Handle::parse(&args.author)?;
    let app = startup::app(config).await?;
    let done = identity::move_author(&app, &handle, &args.to).await?;
    report(&done, &format!("@{handle} moved to {}", args.to));
    Ok(0)
}

pub async fn rotate_key(config: Config, args: &RotateKeyArgs) -> anyhow::Result<i32> {
    let handle = Handle::parse(&args.author)?;
    let app = startup::app(config).await?;
    let done = identity::rotate_key(&app, &handle).await?;
    report(&done, &format!("@{handle} has a new key pair"));
    Ok(0)
}

fn report(done: &Announced, what: &str) {
    println!(
        "{what}; {} deliveries to followers queued (the running server sends them; \
         `fedblog deliveries` shows them)",
        done.deliveries
    );
}
