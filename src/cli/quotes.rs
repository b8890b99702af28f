//! `fedblog quotes list|revoke`: the quotes of our posts, and taking back the consent
//! given to one (FEP-044f: a `Delete` of its QuoteAuthorization).

use clap::Subcommand;
use serde::Serialize;

use crate::{
    config::Config,
    domain::{Handle, QuoteState},
    service::quotes,
    startup,
};

#[derive(Debug, Subcommand)]
pub enum QuotesCommand {
    /// List quotes of the posts, newest first, with the number `revoke` takes.
    List {
        /// Only quotes of this author's posts (their handle).
        #[arg(long)]
        author: Option<String>,
        /// How many to list.
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke an approved quote: its number, its authorization's URL or the quoting
    /// post's URL. The quoting server is told (Delete) and the authorization answers 410.
    Revoke { quote: String },
}

pub async fn run(config: Config, command: &QuotesCommand) -> anyhow::Result<i32> {
    let app = startup::app(config).await?;
    match command {
        QuotesCommand::List {
            author,
            limit,
            json,
        } => {
            let author = author.as_deref().map(Handle::parse).transpose()?;
            list(&app, author.as_ref(), *limit, *json).await
        }
        QuotesCommand::Revoke { quote } => match quotes::revoke(&app, quote).await {
            Ok(stamp) => {
                println!(
                    "revoked {} (quote {}); the Delete is queued",
                    stamp.id, stamp.interacting_object
                );
                Ok(0)
            }
            Err(e) => {
                eprintln!("{e}");
                Ok(1)
            }
        },
    }
}

async fn list(
    app: &crate::app::App,
    author: Option<&Handle>,
    limit: i64,
    json: bool,
) -> anyhow::Result<i32> {
    #[derive(Serialize)]
    struct Row {
        id: i64,
        state: QuoteState,
        post: String,
        actor: String,
        quote: String,
        authorization: Option<String>,
    }
    let rows: Vec<Row> = quotes::list(app, author, limit)
        .await?
        .into_iter()
        .map(|q| Row {
            id: q.quote.id,
            state: q.quote.state,
            post: format!("{}/{}", q.author, q.slug),
            actor: q.quote.actor_id,
            authorization: (q.quote.state != QuoteState::Listed)
                .then(|| app.uris().quote_authorization(&q.author, &q.quote.token)),
            quote: q.quote.quote_ap_id,
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(0);
    }
    if rows.is_empty() {
        println!("no quotes yet");
    }
    for r in &rows {
        println!("#{:<6} {:<8} {}  on {}", r.id, r.state, r.actor, r.post);
        println!("        {}", r.quote);
    }
    Ok(0)
}
