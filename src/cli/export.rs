//! `fedblog export followers|outbox --author <handle>`: an author's followers as CSV
//! (to keep, or to tell a new home who followed) and their outbox as an ActivityStreams
//! collection, the shape of Mastodon's archive `outbox.json`.

use std::{io::Write, path::PathBuf};

use anyhow::Context;

use crate::{
    config::Config,
    db,
    domain::Handle,
    federation::{
        activities::outgoing,
        objects::{collections, iso8601},
    },
    startup,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to export.
    #[arg(value_enum)]
    what: What,
    /// The author's handle.
    #[arg(long)]
    author: String,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum What {
    /// CSV: account address, actor id, inbox, followed at.
    Followers,
    /// JSON: an OrderedCollection of the Create activities of every post.
    Outbox,
}

pub async fn run(config: Config, args: &Args) -> anyhow::Result<i32> {
    let handle = Handle::parse(&args.author)?;
    let app = startup::app(config).await?;
    crate::service::read::author(&app, &handle).await?;
    let text = match args.what {
        What::Followers => followers_csv(app.db(), &handle).await?,
        What::Outbox => {
            let posts = db::posts::page_of_author(app.db().write(), &handle, i64::MAX, 0).await?;
            let items = posts
                .iter()
                .map(|p| outgoing::create(app.uris(), p).body)
                .collect();
            let outbox = collections::inline_collection(app.uris().outbox(&handle), items);
            serde_json::to_string_pretty(&outbox)? + "\n"
        }
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?
        }
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    Ok(0)
}

async fn followers_csv(db: &db::Db, handle: &Handle) -> anyhow::Result<String> {
    let mut csv = String::from("account_address,actor_id,inbox,followed_at\n");
    for f in db::followers::export(db.read(), handle).await? {
        let host = url::Url::parse(&f.actor_id)
            .ok()
            .and_then(|u| {
                u.host_str()
                    .map(|h| u.port().map_or(h.to_owned(), |p| format!("{h}:{p}")))
            })
            .unwrap_or_default();
        let account = f
            .username
            .map(|u| format!("@{u}@{host}"))
            .unwrap_or_default();
        for (i, field) in [account, f.actor_id, f.inbox, iso8601(f.created_at)]
            .iter()
            .enumerate()
        {
            if i > 0 {
                csv.push(',');
            }
            csv.push_str(&csv_field(field));
        }
        csv.push('\n');
    }
    Ok(csv)
}

/// RFC 4180: quote a field holding a comma, quote or line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}
