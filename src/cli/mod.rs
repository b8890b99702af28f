//! The command line: one file per command; this file holds the clap definition and
//! the dispatch.

mod deliveries;
mod new;
mod serve;
mod sync;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Config;

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
        Command::Serve { watch } => serve::run(config, watch).await,
        Command::New { author, title } => new::run(&config, &author, &title),
        Command::Sync { no_wait } => sync::run(config, no_wait).await,
        Command::Deliveries { top } => deliveries::run(config, top).await,
    }
}
