//! Quotes of our posts (FEP-044f as Mastodon 4.5 speaks it, docs/PEERS.md §2):
//! a `QuoteRequest` is answered by the post's policy with `Accept` (and a
//! `QuoteAuthorization` we serve) or `Reject`; a note that quotes without asking
//! (Misskey, Akkoma, Friendica) is listed when the policy would have allowed it.

use serde_json::Value;
use url::Url;

use super::{Envelope, Reach, bad, id_of, local_post, outgoing, reply::RemoteNote};
use crate::{
    db::{self, outbox::Audience, posts::PostRow, quotes::NewQuote},
    domain::{QuotePolicy, QuoteState, hash_hex},
    error::{AppError, AppResult},
    federation::{Context, remote_actor},
};

/// The keys a quoting note names the quoted post by, in the order Mastodon reads them
/// (M `app/lib/activitypub/parser/status_parser.rb:138-163`); Akkoma also sends `quoteURL`.
const QUOTE_KEYS: [&str; 5] = [
    "quote",
    "_misskey_quote",
    "quoteUrl",
    "quoteUri",
    "quoteURL",
];

/// The post a note quotes, if it names one.
pub fn quote_target(note: &Value) -> Option<Url> {
    QUOTE_KEYS.iter().find_map(|k| note.get(*k).and_then(id_of))
}

/// `{"type":"QuoteRequest","id":..,"actor":..,"object":"<our post>","instrument":<the quote>}`
#[derive(Debug, Clone)]
pub struct QuoteRequest {
    pub id: Url,
    pub actor: Url,
    pub object: Url,
    /// The quoting note, embedded or by its id.
    pub instrument: Value,
    pub instrument_id: Url,
}

impl QuoteRequest {
    pub fn parse(env: &Envelope) -> AppResult<Self> {
        let instrument = env
            .instrument
            .clone()
            .ok_or_else(|| bad("a QuoteRequest needs an `instrument`: the quoting post"))?;
        Ok(Self {
            // Mastodon matches our answer to its request by this id.
            id: env
                .id
                .clone()
                .ok_or_else(|| bad("a QuoteRequest needs an `id`"))?,
            actor: env.actor.clone(),
            object: env
                .object
                .as_ref()
                .and_then(id_of)
                .ok_or_else(|| bad("a QuoteRequest needs an `object`: the quoted post"))?,
            instrument_id: id_of(&instrument)
                .ok_or_else(|| bad("the QuoteRequest's `instrument` has no id"))?,
            instrument,
        })
    }

    /// The request as our Accept or Reject embeds it (the quoting post by its id).
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "id": self.id, "type": "QuoteRequest", "actor": self.actor,
            "object": self.object, "instrument": self.instrument_id,
        })
    }
}

/// The token in a QuoteAuthorization's URL: derived from the post and the quoting
/// object, so a redelivered request names the same authorization.
fn token(post_id: i64, quote_ap_id: &str) -> String {
    hash_hex(&[&post_id.to_le_bytes(), quote_ap_id.as_bytes()])[..32].to_owned()
}

/// Why the post's policy refuses `actor`, if it does.
async fn refusal(ctx: &Context, post: &PostRow, actor: &Url) -> AppResult<Option<&'static str>> {
    Ok(match post.quote_policy.unwrap_or(QuotePolicy::Anyone) {
        QuotePolicy::Anyone => None,
        QuotePolicy::Followers => {
            let follows =
                db::followers::is_follower(ctx.db.write(), &post.author, actor.as_str()).await?;
            (!follows).then_some("only the author's followers may quote this post")
        }
        QuotePolicy::Nobody => Some("the author does not allow quotes of this post"),
    })
}

/// Whether one more quote of the post may be stored.
async fn room_for_one_more(ctx: &Context, post_id: i64) -> AppResult<bool> {
    let stored = db::quotes::count_of_post(ctx.db.write(), post_id).await?;
    Ok(stored < i64::from(ctx.quotes_per_post))
}

/// `QuoteRequest`: Accept (with a QuoteAuthorization) when the post's policy allows
/// the requester, else Reject; both go to the requester's inbox. A redelivered request
/// gets the same answer; a revoked quote stays revoked.
pub async fn receive_request(
    ctx: &Context,
    reach: &Reach<'_>,
    q: &QuoteRequest,
) -> AppResult<String> {
    let Some(post) = local_post(ctx, &q.object).await? else {
        return Ok(format!("ignored: {} is not one of our posts", q.object));
    };
    let sender = remote_actor::dereference(ctx, &q.actor).await?;
    let stored =
        db::quotes::of_post_and_quote(ctx.db.write(), post.id, q.instrument_id.as_str()).await?;
    let why_not = match stored.as_ref().map(|s| s.state) {
        Some(QuoteState::Approved) => None,
        Some(QuoteState::Revoked) => Some("the author revoked this quote"),
        _ if stored.is_none() && !room_for_one_more(ctx, post.id).await? => {
            cap_reached();
            Some("the post has as many quotes as this server keeps")
        }
        _ => refusal(ctx, &post, &q.actor).await?,
    };
    if let Some(why) = why_not {
        answer(ctx, &post, q, &sender.inbox, None).await?;
        return Ok(format!("quote request rejected: {why}"));
    }
    let note = quoting_note(ctx, reach, q, &post).await?;
    let quote = NewQuote {
        post_id: post.id,
        quote_ap_id: note.id.as_str(),
        actor_id: q.actor.as_str(),
        actor_inbox: Some(sender.inbox.as_str()),
        request_id: Some(q.id.as_str()),
        token: &token(post.id, note.id.as_str()),
        url: shown_url(&note),
        content_html: shown_html(&note),
        state: QuoteState::Approved,
    };
    answer(ctx, &post, q, &sender.inbox, Some(&quote)).await?;
    Ok(format!("quote {} of {} approved", note.id, q.object))
}

fn cap_reached() {
    tracing::info!("quote refused: [limits.inbox] quotes_per_post reached");
}

/// The quoting note, believed only from its origin: by the requester, and quoting the
/// post asked about (Mastodon's own check, M `quote_request.rb`).
async fn quoting_note(
    ctx: &Context,
    reach: &Reach<'_>,
    q: &QuoteRequest,
    post: &PostRow,
) -> AppResult<RemoteNote> {
    let note = super::reply::authentic_note(ctx, reach, &q.actor, &q.instrument).await?;
    if note.attributed_to != q.actor {
        return Err(AppError::unauthorized(format!(
            "{} asks to quote with {}, which {} wrote",
            q.actor, note.id, note.attributed_to
        )));
    }
    let post_url = ctx.uris.post(&post.author, &post.slug);
    if note.quote_of.as_ref().map(Url::as_str) != Some(post_url.as_str()) {
        return Err(bad(format!("{} does not quote {post_url}", note.id)));
    }
    Ok(note)
}

/// Stores the quote (approved) and queues the Accept, or queues the Reject, in one
/// transaction.
async fn answer(
    ctx: &Context,
    post: &PostRow,
    q: &QuoteRequest,
    inbox: &Url,
    approved: Option<&NewQuote<'_>>,
) -> AppResult<()> {
    let now = db::now_ms();
    let mut tx = ctx.db.begin().await?;
    let authorization = match approved {
        Some(quote) => {
            let row = db::quotes::upsert(&mut tx, quote, now).await?;
            Some(ctx.uris.quote_authorization(&post.author, &row.token))
        }
        None => None,
    };
    let activity = outgoing::answer_quote(&ctx.uris, &post.author, q, authorization.as_deref());
    db::outbox::queue(&mut tx, &activity, Audience::Inbox(inbox), now).await?;
    tx.commit().await?;
    tracing::info!(post = %q.object, quoter = %q.actor, answer = activity.kind, "quote request answered");
    Ok(())
}

/// A public quote links to where it is shown; a private one is listed by its author only.
fn shown_url(note: &RemoteNote) -> Option<&str> {
    note.public
        .then(|| note.url.as_ref().unwrap_or(&note.id).as_str())
}

fn shown_html(note: &RemoteNote) -> &str {
    if note.public { &note.content_html } else { "" }
}

/// A note quoting one of our posts without asking: listed beside the boosts when the
/// post's policy would allow its author. `None` when it quotes none of ours.
pub async fn receive_quote_note(ctx: &Context, note: &RemoteNote) -> AppResult<Option<String>> {
    let Some(target) = &note.quote_of else {
        return Ok(None);
    };
    let Some(post) = local_post(ctx, target).await? else {
        return Ok(None);
    };
    let stored = db::quotes::of_post_and_quote(ctx.db.write(), post.id, note.id.as_str()).await?;
    if stored.is_none() {
        if !room_for_one_more(ctx, post.id).await? {
            cap_reached();
            return Ok(Some(format!("quote {} not listed: too many", note.id)));
        }
        if let Some(why) = refusal(ctx, &post, &note.attributed_to).await? {
            return Ok(Some(format!("quote {} not listed: {why}", note.id)));
        }
    }
    let row = db::quotes::upsert(
        ctx.db.write(),
        &NewQuote {
            post_id: post.id,
            quote_ap_id: note.id.as_str(),
            actor_id: note.attributed_to.as_str(),
            actor_inbox: None,
            request_id: None,
            token: &token(post.id, note.id.as_str()),
            url: shown_url(note),
            content_html: shown_html(note),
            state: QuoteState::Listed,
        },
        db::now_ms(),
    )
    .await?;
    Ok(Some(format!(
        "quote {} of {target} {}",
        note.id,
        match row.state {
            QuoteState::Listed => "listed",
            other => other.as_str(),
        }
    )))
}
