//! The inbox door: authenticate a signed POST and store its activity durably; the
//! side effects happen later, off the request path, in [`super::inbox_queue`].
//!
//! Order of checks, cheapest first: the sender's rate (429), signature header shape,
//! Digest and Date (401), JSON shape (400), the activity id on the actor's host (401),
//! then the signer's key, fetched by the activity's actor, must be that actor's own
//! (401). Only then is the activity stored; the 202 means it is on disk.

use url::Url;

use crate::{
    db,
    error::{AppError, AppResult},
    federation::{
        activities::{self, Incoming, delete},
        remote_actor,
        signatures::{self, SignedRequest},
    },
    service::inbox_writer::NewActivity,
    state::FedData,
};

/// What became of an accepted request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    /// Stored; it will be processed (202).
    Accepted,
    /// An activity with this id was received before; nothing changes (200).
    Duplicate,
}

/// Receives one activity.
pub async fn receive(data: &FedData, req: SignedRequest<'_>) -> AppResult<Receipt> {
    let now = chrono::Utc::now().timestamp();
    let sig = signatures::prepare_verification(&req, now)?;
    limit_rate(data, &sig.key_id)?;
    let json: serde_json::Value = serde_json::from_slice(req.body)
        .map_err(|e| AppError::BadRequest(format!("malformed JSON: {e}")))?;
    let env = activities::envelope(&json)?;
    let incoming = activities::classify(&env)?;
    if let Some(id) = &env.id
        && crate::domain::host_key(id) != crate::domain::host_key(&env.actor)
    {
        return Err(AppError::unauthorized(format!(
            "the activity id {id} is not on its actor's host ({})",
            env.actor
        )));
    }

    if let Incoming::Follow(f) = &incoming {
        // A Follow of someone who is not here is refused now (404), not after the 202.
        activities::follow::local_target(data, &f.object).await?;
    }

    if let Incoming::DeleteActor = incoming {
        // Handled at once: the actor's key may already be gone, so it is verified here
        // against the key we hold, or by the actor's URL answering 410.
        delete::receive_actor_delete(data, &env.actor, &sig).await?;
        return Ok(Receipt::Accepted);
    }

    remote_actor::authenticate(data, &env.actor, &sig).await?;
    let body = std::str::from_utf8(req.body)
        .map_err(|e| AppError::BadRequest(format!("the body is not UTF-8: {e}")))?;
    let stored = data
        .inbox_writer
        .insert(NewActivity {
            ap_id: env.id.as_ref().map(|u| u.as_str().to_owned()),
            actor: env.actor.as_str().to_owned(),
            kind: env.kind.clone(),
            body: body.to_owned(),
            received_at: db::now_ms(),
        })
        .await?;
    if stored {
        Ok(Receipt::Accepted)
    } else {
        Ok(Receipt::Duplicate)
    }
}

/// Each remote host (by its key's host) gets a token bucket; an empty one means 429.
fn limit_rate(data: &FedData, key_id: &str) -> AppResult<()> {
    let host = Url::parse(key_id)
        .map(|u| crate::domain::host_key(&u))
        .unwrap_or_else(|_| key_id.to_owned());
    match data.inbox_limiter.check_key(&host) {
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
