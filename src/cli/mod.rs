//! The command line: one file per command; this file holds the clap definition and
//! the dispatch. Human output by default, `--json` where scripts read the result.

mod backup;
mod check;
mod deliveries;
mod export;
mod identity;
mod init;
mod migrate_store;
mod moderation;
mod new;
mod password;
mod quotes;
mod serve;
mod sync;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{Config, Overrides};

#[derive(Debug, Parser)]
#[command(
    name = "fedblog",
    version,
    about = "A self-hosted ActivityPub blog server",
    long_about = "A self-hosted ActivityPub blog server: Markdown posts in content/<author>/ \
                  become fediverse accounts and posts.\n\nStart with `fedblog init`, then \
                  `fedblog check` and `fedblog serve`."
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
    /// The SQLite file or `postgres://` URL, instead of `database` in the configuration
    /// file.
    #[arg(long, global = true, env = "FEDBLOG_DATABASE")]
    pub database: Option<String>,
    /// The content folder, instead of `content` in the configuration file.
    #[arg(long, global = true, env = "FEDBLOG_CONTENT")]
    pub content: Option<PathBuf>,
    /// Log lines as text (default) or one JSON object per line; filter with RUST_LOG.
    #[arg(
        long,
        global = true,
        env = "FEDBLOG_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text
    )]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

/// How log lines are written (to stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a working config.toml, an author's profile and a first post (asks for what
    /// the flags do not give).
    Init(init::Args),
    /// Validate the configuration and every content file; with --online, also ask the
    /// public domain for WebFinger, the actors and a post. Exit status 1 on errors.
    Check(check::Args),
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
        /// Print one JSON object instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Copy the database to a file while the server runs (a consistent snapshot).
    Backup(backup::BackupArgs),
    /// Replace the database with a backup; refuses while a server uses it.
    Restore(backup::RestoreArgs),
    /// Copy the database into the other store (`--to postgres://…` or `--to` a SQLite
    /// file), with every row checked; refuses while a server uses it.
    MigrateStore(migrate_store::Args),
    /// Export an author's followers (CSV) or outbox (JSON) to stdout or a file.
    Export(export::Args),
    /// Move an author's followers to another account (sends Move, as Mastodon does).
    Move(identity::MoveArgs),
    /// Give an author a new key pair and tell followers (they keep following).
    RotateKey(identity::RotateKeyArgs),
    /// Block a domain (`spam.example`, with its subdomains) or an actor (its URL): their
    /// follows are rejected, their activities dropped, and what they left is removed.
    Block { target: String },
    /// Lift a block made with `fedblog block`.
    Unblock { target: String },
    /// List the blocks in force (config.toml's and the command line's).
    Blocks {
        #[arg(long)]
        json: bool,
    },
    /// Moderate replies: list, approve, hide, delete.
    Comments {
        #[command(subcommand)]
        command: moderation::CommentsCommand,
    },
    /// Quotes of the posts (FEP-044f): list them, revoke an approved one.
    Quotes {
        #[command(subcommand)]
        command: quotes::QuotesCommand,
    },
    /// Set the password an author signs in with from Mastodon apps, read from standard
    /// input (e.g. `fedblog password --author alice < file`).
    Password(password::Args),
    /// Show what the inbox received lately and what became of it.
    Inbox {
        /// How many activities to list.
        #[arg(long, default_value_t = 20)]
        top: i64,
        #[arg(long)]
        json: bool,
    },
}

impl Cli {
    /// The configuration, with command-line paths over the file's.
    fn load_config(&self) -> anyhow::Result<Config> {
        Ok(Config::load_with(
            &self.config,
            &Overrides {
                database: self.database.clone(),
                content: self.content.clone(),
            },
        )?)
    }
}

/// Runs a parsed command line; returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    // `init` writes the configuration and `check` reports on a broken one, so neither
    // loads it up front.
    let config = || cli.load_config();
    match &cli.command {
        Command::Init(args) => init::run(&cli.config, args),
        Command::Check(args) => check::run(&cli, args).await,
        Command::Serve { watch } => serve::run(config()?, *watch).await,
        Command::New { author, title } => new::run(&config()?, author, title),
        Command::Sync { no_wait } => sync::run(config()?, *no_wait).await,
        Command::Deliveries { top, json } => deliveries::run(config()?, *top, *json).await,
        Command::Backup(args) => backup::backup(config()?, args).await,
        Command::Restore(args) => backup::restore(config()?, args).await,
        Command::MigrateStore(args) => migrate_store::run(config()?, args).await,
        Command::Export(args) => export::run(config()?, args).await,
        Command::Move(args) => identity::move_author(config()?, args).await,
        Command::RotateKey(args) => identity::rotate_key(config()?, args).await,
        Command::Block { target } => moderation::block(config()?, target).await,
        Command::Unblock { target } => moderation::unblock(config()?, target).await,
        Command::Blocks { json } => moderation::blocks(config()?, *json).await,
        Command::Comments { command } => moderation::comments(config()?, command).await,
        Command::Quotes { command } => quotes::run(config()?, command).await,
        Command::Password(args) => password::run(config()?, args).await,
        Command::Inbox { top, json } => moderation::inbox(config()?, *top, *json).await,
    }
}
