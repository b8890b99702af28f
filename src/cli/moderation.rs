//! `fedblog block|unblock|blocks`, `fedblog comments ...` and `fedblog inbox`:
//! moderation from the command line, on the same database the server uses.

use clap::Subcommand;
use serde::Serialize;

use crate::{
    app::App,
    config::Config,
    db,
    domain::{InboxState, ReplyState},
    service::{
        conversation,
        moderation::{self, BlockTarget, ReplyAction},
    },
    startup,
};

#[derive(Debug, Subcommand)]
pub enum CommentsCommand {
    /// List replies, newest first, with the number the other commands take.
    List {
        /// Only replies waiting for approval.
        #[arg(long)]
        held: bool,
        /// How many to list.
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show a held (or hidden) reply on its post's page.
    Approve { id: i64 },
    /// Take a reply off the page (it stays stored; approve shows it again).
    Hide { id: i64 },
    /// Delete a reply for good.
    Delete { id: i64 },
}

pub async fn block(config: Config, target: &str) -> anyhow::Result<i32> {
    let app = startup::app(config).await?;
    let target = BlockTarget::parse(target)?;
    let purged = moderation::block(&app, &target).await?;
    println!(
        "blocked {}: removed {} follows, {} replies and {} likes or boosts from {} accounts",
        target.as_string(),
        purged.follows,
        purged.replies,
        purged.reactions,
        purged.actors
    );
    Ok(0)
}

pub async fn unblock(config: Config, target: &str) -> anyhow::Result<i32> {
    let app = startup::app(config).await?;
    let target = BlockTarget::parse(target)?;
    if moderation::unblock(&app, &target).await? {
        println!("unblocked {}", target.as_string());
        Ok(0)
    } else {
        eprintln!(
            "{} was not blocked with `fedblog block` (blocks in config.toml are removed there)",
            target.as_string()
        );
        Ok(1)
    }
}

pub async fn blocks(config: Config, json: bool) -> anyhow::Result<i32> {
    #[derive(Serialize)]
    struct Block {
        target: String,
        source: &'static str,
    }
    let app = startup::app(config).await?;
    let m = &app.config().moderation;
    let mut all: Vec<Block> = m
        .blocked_domains
        .iter()
        .chain(&m.blocked_actors)
        .map(|t| Block {
            target: t.clone(),
            source: "config.toml",
        })
        .collect();
    for row in db::blocks::all(app.db().write()).await? {
        all.push(Block {
            target: row.target,
            source: "fedblog block",
        });
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&all)?);
    } else if all.is_empty() {
        println!("no blocks");
    } else {
        for b in &all {
            println!("{:<50} ({})", b.target, b.source);
        }
    }
    Ok(0)
}

pub async fn comments(config: Config, command: &CommentsCommand) -> anyhow::Result<i32> {
    let app = startup::app(config).await?;
    let action = match command {
        CommentsCommand::List { held, limit, json } => {
            return list(&app, *held, *limit, *json).await;
        }
        CommentsCommand::Approve { id } => (*id, ReplyAction::Approve, "approved"),
        CommentsCommand::Hide { id } => (*id, ReplyAction::Hide, "hidden"),
        CommentsCommand::Delete { id } => (*id, ReplyAction::Delete, "deleted"),
    };
    match moderation::moderate_reply(&app, action.0, action.1).await {
        Ok(()) => {
            println!("reply {} {}", action.0, action.2);
            Ok(0)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(1)
        }
    }
}

async fn list(app: &App, held: bool, limit: i64, json: bool) -> anyhow::Result<i32> {
    #[derive(Serialize)]
    struct Row {
        id: i64,
        state: ReplyState,
        post: String,
        author: String,
        url: String,
        content_html: String,
    }
    let replies =
        db::replies::list(app.db().write(), held.then_some(ReplyState::Held), limit).await?;
    let mut rows = Vec::new();
    for r in replies {
        let post = db::posts::by_id(app.db().write(), r.reply.post_id)
            .await?
            .map(|p| format!("{}/{}", p.author, p.slug))
            .unwrap_or_default();
        rows.push(Row {
            id: r.reply.id,
            state: r.reply.state,
            post,
            author: conversation::address(
                r.actor_handle.as_deref(),
                r.actor_username.as_deref(),
                &r.reply.actor_id,
            ),
            url: r.reply.url.unwrap_or(r.reply.ap_id),
            content_html: r.reply.content_html,
        });
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(0);
    }
    if rows.is_empty() {
        println!(
            "{}",
            if held {
                "no replies are waiting"
            } else {
                "no replies yet"
            }
        );
    }
    for r in &rows {
        println!("#{:<6} {:<8} {}  on {}", r.id, r.state, r.author, r.post);
        println!("        {}", plain_excerpt(&r.content_html, 100));
    }
    Ok(0)
}

/// The reply's text without tags, shortened for one line.
fn plain_excerpt(html: &str, max: usize) -> String {
    let text = crate::content::summary(html, max);
    text.lines().collect::<Vec<_>>().join(" ")
}

pub async fn inbox(config: Config, top: i64, json: bool) -> anyhow::Result<i32> {
    #[derive(Serialize)]
    struct Row {
        id: i64,
        kind: String,
        actor: String,
        state: InboxState,
        result: Option<String>,
        received_at: String,
    }
    let app = startup::app(config).await?;
    let rows: Vec<Row> = db::inbox_activities::recent(app.db().write(), top)
        .await?
        .into_iter()
        .map(|r| Row {
            id: r.id,
            kind: r.kind,
            actor: r.actor,
            state: r.state,
            result: r.result,
            received_at: crate::federation::objects::iso8601(r.received_at),
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(0);
    }
    for r in &rows {
        println!(
            "{}  {:<9} {:<9} {}\n    {}",
            r.received_at,
            r.kind,
            r.state,
            r.actor,
            r.result.as_deref().unwrap_or("waiting to be processed")
        );
    }
    Ok(0)
}
