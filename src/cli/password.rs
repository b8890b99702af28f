//! `fedblog password --author NAME`: sets the password an author signs in with from
//! Mastodon apps, read from standard input (the first line), so it never appears in
//! the shell's history or the process list.

use std::io::{BufRead, IsTerminal, Write};

use crate::{config::Config, domain::Handle, service::client_api::password, startup};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The author (their handle) whose password is set.
    #[arg(long)]
    author: String,
}

pub async fn run(config: Config, args: &Args) -> anyhow::Result<i32> {
    let handle = Handle::parse(&args.author)?;
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!(
            "New password for @{handle} (at least {} characters; shown as you type): ",
            password::MIN_PASSWORD_CHARS
        );
        std::io::stderr().flush()?;
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let pw = line.strip_suffix('\n').unwrap_or(&line);
    let pw = pw.strip_suffix('\r').unwrap_or(pw);
    let app = startup::app(config).await?;
    password::set(&app, &handle, pw).await?;
    println!("@{handle} can now sign in from Mastodon apps with this password");
    Ok(0)
}
