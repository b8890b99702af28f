//! The outbox: every activity we send is stored with its deliveries in the
//! transaction of the change it announces; the commit wakes the deliverer.

use url::Url;

use super::{Result, Tx, activities, deliveries};
use crate::domain::{Handle, host_key};

/// An activity ready to be stored and queued (federation's builders make them).
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub ap_id: String,
    pub author: Handle,
    pub kind: &'static str,
    pub body: serde_json::Value,
}

/// Where an activity goes.
#[derive(Debug, Clone, Copy)]
pub enum Audience<'a> {
    /// Every follower of the activity's author, one delivery per shared inbox.
    Followers,
    /// One inbox (an Accept or Reject to the follower it answers).
    Inbox(&'a Url),
    /// Every follower and these inboxes (the accounts a post mentions); an inbox a
    /// follower shares is queued once.
    FollowersAnd(&'a [Url]),
    /// Only these inboxes (a direct note: those it mentions).
    Only(&'a [Url]),
}

/// Stores an activity and queues its deliveries, inside the caller's transaction.
/// A stored activity with the same id is reused (a finished delivery to the same
/// inbox is queued again), so retried receives stay idempotent. Returns the activity's
/// row id and the number of deliveries queued.
pub async fn queue(
    tx: &mut Tx,
    activity: &Outgoing,
    audience: Audience<'_>,
    now: i64,
) -> Result<(i64, u64)> {
    let id = match activities::by_ap_id(&mut *tx, &activity.ap_id).await? {
        Some(row) => row.id,
        None => {
            let body = activity.body.to_string();
            activities::insert(
                &mut *tx,
                &activity.ap_id,
                &activity.author,
                activity.kind,
                &body,
                now,
            )
            .await?
        }
    };
    let queued = match audience {
        Audience::Followers => deliveries::enqueue_followers(tx, id, &activity.author, now).await?,
        Audience::Inbox(inbox) => {
            deliveries::enqueue_one(tx, id, inbox.as_str(), &host_key(inbox), now).await?
        }
        Audience::FollowersAnd(inboxes) => {
            let mut queued = deliveries::enqueue_followers(tx, id, &activity.author, now).await?;
            for inbox in inboxes {
                queued +=
                    deliveries::enqueue_one(tx, id, inbox.as_str(), &host_key(inbox), now).await?;
            }
            queued
        }
        Audience::Only(inboxes) => {
            let mut queued = 0;
            for inbox in inboxes {
                queued +=
                    deliveries::enqueue_one(tx, id, inbox.as_str(), &host_key(inbox), now).await?;
            }
            queued
        }
    };
    tx.queued_deliveries |= queued > 0;
    Ok((id, queued))
}
