//! The inbox door: authenticate a signed POST and store its activity durably; the
//! side effects happen later, off the request path, in [`super::processor`].
//!
//! Order of checks, cheapest first: the sender's address's rate (429,
//! [`super::rate::Gate`]), the `Host` is ours (421), signature header shape, Digest and the
//! signature's own time (401), JSON shape (400), the activity id on the actor's host
//! (401), what the dispatch table checks at the door ([`super::dispatch::admit`]), then
//! `federation::signer`: the key on the actor's host, listed by that actor, verifying
//! the signature (401; 503 with `Retry-After` when the key cannot be fetched now), then
//! the verified host's rate and quotas (429). Only then is the actor stored and the
//! activity written; the 202 means it is on disk.

use std::{net::SocketAddr, sync::Arc};

use tracing::field::Empty;

use super::{
    dispatch::{self, Admission},
    rate::Gate,
    writer::{NewActivity, Writer},
};
use crate::{
    db,
    domain::host_key,
    error::{AppError, AppResult},
    federation::{
        self,
        activities::{self},
        signatures::{self, SignedRequest},
        signer,
    },
};

/// What became of an accepted request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    /// Stored; it will be processed (202).
    Accepted,
    /// An activity with this id was received before; nothing changes (200).
    Duplicate,
}

/// The door: the protocol's context, the writer and the limits on senders.
pub struct Door {
    ctx: Arc<federation::Context>,
    writer: Writer,
    gate: Gate,
}

impl Door {
    pub fn new(ctx: Arc<federation::Context>, writer: Writer, gate: Gate) -> Self {
        Self { ctx, writer, gate }
    }

    /// Receives one activity. Its span gets the activity's id, type and actor once
    /// they are read, so lines logged while authenticating the sender say which.
    #[tracing::instrument(
        name = "inbox_post",
        skip_all,
        fields(ap_id = Empty, kind = Empty, actor = Empty)
    )]
    pub async fn receive(&self, peer: SocketAddr, req: SignedRequest<'_>) -> AppResult<Receipt> {
        self.gate.check_peer(peer, req.headers)?;
        let domain = self.ctx.uris.domain();
        if !signatures::is_addressed_to(req.headers, domain) {
            return Err(AppError::Misdirected(format!(
                "this inbox is on {domain}; the request is addressed to another host (behind a proxy, pass the original Host)"
            )));
        }
        let now = chrono::Utc::now().timestamp();
        let sig = signatures::prepare_verification(&req, now)?;
        let json: serde_json::Value = serde_json::from_slice(req.body)
            .map_err(|e| AppError::BadRequest(format!("malformed JSON: {e}")))?;
        let env = activities::envelope(&json)?;
        let span = tracing::Span::current();
        span.record("kind", env.kind.as_str());
        span.record("actor", env.actor.as_str());
        if let Some(id) = &env.id {
            span.record("ap_id", id.as_str());
        }
        let incoming = activities::classify(&env)?;
        if let Some(id) = &env.id
            && host_key(id) != host_key(&env.actor)
        {
            return Err(AppError::unauthorized(format!(
                "the activity id {id} is not on its actor's host ({})",
                env.actor
            )));
        }
        if dispatch::admit(&self.ctx, &incoming, &env.actor, &sig).await? == Admission::Handled {
            return Ok(Receipt::Accepted);
        }
        signer::authenticate(&self.ctx, Some(&env.actor), &sig).await?;
        let follow = matches!(incoming, activities::Incoming::Follow(_));
        self.gate
            .check_verified(&self.ctx.db, &env.actor, follow)
            .await?;
        let body = std::str::from_utf8(req.body)
            .map_err(|e| AppError::BadRequest(format!("the body is not UTF-8: {e}")))?;
        let stored = self
            .writer
            .insert(NewActivity {
                ap_id: env.id.as_ref().map(|u| u.as_str().to_owned()),
                actor: env.actor.as_str().to_owned(),
                kind: env.kind.clone(),
                body: body.to_owned(),
                received_at: db::now_ms(),
            })
            .await?;
        Ok(if stored {
            Receipt::Accepted
        } else {
            Receipt::Duplicate
        })
    }
}
