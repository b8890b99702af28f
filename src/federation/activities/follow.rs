use serde_json::Value;
use url::Url;

use super::{Envelope, bad, id_of, outgoing};
use crate::{
    db::{self, followers::FollowerRow, outbox::Audience},
    domain::{Handle, host_key},
    error::{AppError, AppResult},
    federation::{Context, remote_actor::RemoteActor, signatures::knock},
};

/// `{"type":"Follow","id":..,"actor":..,"object":"<our actor>"}`
#[derive(Debug, Clone)]
pub struct Follow {
    pub id: Url,
    pub actor: Url,
    pub object: Url,
    /// The software the follower's server names in the Follow's `instrument`
    /// (Friendica does), when it names one.
    pub software: Option<String>,
}

impl Follow {
    pub fn parse(env: &Envelope) -> AppResult<Self> {
        Ok(Self {
            // Mastodon matches our Accept to its Follow by this id.
            id: env
                .id
                .clone()
                .ok_or_else(|| bad("a Follow needs an `id`"))?,
            actor: env.actor.clone(),
            object: env
                .object
                .as_ref()
                .and_then(id_of)
                .ok_or_else(|| bad("a Follow needs an `object`: the actor to follow"))?,
            software: env
                .instrument
                .as_ref()
                .and_then(|i| i.get("name"))
                .and_then(Value::as_str)
                .map(|name| name.chars().take(100).collect()),
        })
    }

    /// The Follow as embedded in our Accept.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "id": self.id, "type": "Follow", "actor": self.actor, "object": self.object,
        })
    }
}

/// Accepts: records the follower and queues a signed Accept that embeds the Follow,
/// in one transaction. Repeating a Follow refreshes the record and re-sends the Accept.
pub async fn receive(ctx: &Context, follow: &Follow, sender: &RemoteActor) -> AppResult<()> {
    let handle = local_target(ctx, &follow.object).await?;
    let now = db::now_ms();
    let accept = outgoing::accept(&ctx.uris, &handle, follow);
    let mut tx = ctx.db.begin().await?;
    db::followers::upsert(
        &mut tx,
        &FollowerRow {
            author: handle.clone(),
            actor_id: sender.id.to_string(),
            inbox: sender.inbox.to_string(),
            shared_inbox: sender.shared_inbox().map(Url::to_string),
            delivery_inbox: sender.delivery_inbox().to_string(),
            delivery_host: crate::domain::host_key(sender.delivery_inbox()),
            follow_id: follow.id.to_string(),
            created_at: now,
        },
    )
    .await?;
    if follow
        .software
        .as_deref()
        .is_some_and(knock::silent_on_refusal)
    {
        // Its server accepts whatever signature it cannot verify and silently distrusts
        // it: no refusal would ever teach us, so it gets draft-cavage from the Accept on.
        // Only the sender's own host: a verified actor must not pin another's.
        let own = host_key(&sender.id);
        if [&sender.inbox, sender.delivery_inbox()]
            .iter()
            .any(|inbox| host_key(inbox) == own)
        {
            db::hosts::remember_scheme(&mut tx, &own, knock::PINNED_CAVAGE, now).await?;
        }
    }
    // The Accept goes to the follower's own inbox: it is addressed to them alone.
    db::outbox::queue(&mut tx, &accept, Audience::Inbox(&sender.inbox), now).await?;
    tx.commit().await?;
    tracing::info!(author = %handle, follower = %sender.id, "new follower");
    Ok(())
}

/// Rejects (the sender or its domain is blocked): forgets any earlier follow of theirs
/// and queues a Reject, in one transaction.
pub async fn reject(ctx: &Context, follow: &Follow, sender: &RemoteActor) -> AppResult<()> {
    let handle = local_target(ctx, &follow.object).await?;
    let reject = outgoing::reject(&ctx.uris, &handle, follow);
    let now = db::now_ms();
    let mut tx = ctx.db.begin().await?;
    db::followers::remove(&mut tx, &handle, sender.id.as_str()).await?;
    db::outbox::queue(&mut tx, &reject, Audience::Inbox(&sender.inbox), now).await?;
    tx.commit().await?;
    tracing::info!(author = %handle, actor = %sender.id, "follow from a blocked actor rejected");
    Ok(())
}

/// The local author an activity targets, or 404.
pub async fn local_target(ctx: &Context, object: &Url) -> AppResult<Handle> {
    let handle = ctx
        .uris
        .handle_of_actor(object.as_str())
        .ok_or_else(|| AppError::NotFound(format!("{object} is not an actor on this server")))?;
    db::authors::get(ctx.db.read(), &handle)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no author `{handle}` on this server")))?;
    Ok(handle)
}
