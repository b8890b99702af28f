//! The inbox door: authenticate a signed POST and store its activity durably; the
//! side effects happen later, off the request path, in [`super::processor`].
//!
//! Order of checks, cheapest first: the `Host` is ours (421), signature header shape,
//! Digest and the signature's own time (401), the sender's rate (429), JSON shape
//! (400), the activity id on the actor's host (401), what the dispatch table checks at
//! the door ([`super::dispatch::admit`]), then `federation::signer`: the key on the
//! actor's host, listed by that actor, verifying the signature (401; 503 with
//! `Retry-After` when the key cannot be fetched now). Only then is the actor stored
//! and the activity written; the 202 means it is on disk.

use std::{num::NonZeroU32, sync::Arc};

use tracing::field::Empty;
use url::Url;

use super::{
    dispatch::{self, Admission},
    writer::{NewActivity, Writer},
};
use crate::{
    config::ModerationSettings,
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

/// Inbox requests per remote host, one token bucket each.
type Limiter = governor::DefaultKeyedRateLimiter<String>;

/// The door: the protocol's context, the writer and the per-host limiter.
pub struct Door {
    ctx: Arc<federation::Context>,
    writer: Writer,
    limiter: Limiter,
}

impl Door {
    pub fn new(ctx: Arc<federation::Context>, writer: Writer, m: &ModerationSettings) -> Self {
        // Config validation keeps both numbers positive.
        let rate = NonZeroU32::new(m.inbox_per_host_per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(m.inbox_per_host_burst).unwrap_or(NonZeroU32::MIN);
        Self {
            ctx,
            writer,
            limiter: governor::RateLimiter::keyed(
                governor::Quota::per_second(rate).allow_burst(burst),
            ),
        }
    }

    /// Receives one activity. Its span gets the activity's id, type and actor once
    /// they are read, so lines logged while authenticating the sender say which.
    #[tracing::instrument(
        name = "inbox_post",
        skip_all,
        fields(ap_id = Empty, kind = Empty, actor = Empty)
    )]
    pub async fn receive(&self, req: SignedRequest<'_>) -> AppResult<Receipt> {
        let domain = self.ctx.uris.domain();
        if !signatures::is_addressed_to(req.headers, domain) {
            return Err(AppError::Misdirected(format!(
                "this inbox is on {domain}; the request is addressed to another host (behind a proxy, pass the original Host)"
            )));
        }
        let now = chrono::Utc::now().timestamp();
        let sig = signatures::prepare_verification(&req, now)?;
        self.limit_rate(&sig.key_id)?;
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

    /// Each remote host (by its key's host) gets a token bucket; an empty one means 429.
    fn limit_rate(&self, key_id: &str) -> AppResult<()> {
        let host = Url::parse(key_id)
            .map(|u| host_key(&u))
            .unwrap_or_else(|_| key_id.to_owned());
        match self.limiter.check_key(&host) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                use governor::clock::{Clock, DefaultClock};
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(AppError::TooManyRequests {
                    host,
                    retry_after: wait.as_secs().max(1),
                })
            }
        }
    }
}
