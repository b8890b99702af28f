//! The fediverse conversation around a post, as pages and collections show it:
//! visible replies in thread order, and who liked and boosted it.

use std::collections::HashMap;

use url::Url;

use crate::{
    app::App,
    db::{self, reactions::Reactor, replies::ShownReply},
    domain::ReactionKind,
    error::AppResult,
};

/// Faces shown per kind of reaction on a page; the count says how many there are in all.
pub const FACES: i64 = 40;

/// A post's interactions, ready to show.
#[derive(Debug, Clone, Default)]
pub struct Conversation {
    /// Replies in reading order: each one followed by its answers.
    pub replies: Vec<(ShownReply, usize)>,
    pub likes: Vec<Reactor>,
    pub like_count: i64,
    pub boosts: Vec<Reactor>,
    pub boost_count: i64,
}

/// The collections a post has besides its replies' thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interaction {
    Replies,
    Likes,
    Shares,
}

impl Interaction {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "replies" => Some(Self::Replies),
            "likes" => Some(Self::Likes),
            "shares" => Some(Self::Shares),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Replies => "replies",
            Self::Likes => "likes",
            Self::Shares => "shares",
        }
    }

    fn reaction_kind(self) -> ReactionKind {
        match self {
            Self::Likes => ReactionKind::Like,
            _ => ReactionKind::Announce,
        }
    }
}

pub async fn of_post(app: &App, post_id: i64) -> AppResult<Conversation> {
    let replies = db::replies::visible_of_post(app.db().write(), post_id).await?;
    Ok(Conversation {
        replies: thread(replies),
        likes: db::reactions::of_post(app.db().write(), ReactionKind::Like, post_id, FACES, 0)
            .await?,
        like_count: db::reactions::count(app.db().write(), ReactionKind::Like, post_id).await?,
        boosts: db::reactions::of_post(app.db().write(), ReactionKind::Announce, post_id, FACES, 0)
            .await?,
        boost_count: db::reactions::count(app.db().write(), ReactionKind::Announce, post_id)
            .await?,
    })
}

/// Totals for the post's ActivityPub object: replies, likes, shares.
pub async fn counts(app: &App, post_id: i64) -> AppResult<(i64, i64, i64)> {
    let replies = db::replies::count_visible(app.db().write(), post_id).await?;
    let likes = db::reactions::count(app.db().write(), ReactionKind::Like, post_id).await?;
    let shares = db::reactions::count(app.db().write(), ReactionKind::Announce, post_id).await?;
    Ok((replies, likes, shares))
}

/// One page of a post's `replies` (reply ids), `likes` or `shares` (actor ids), and
/// the total.
pub async fn collection_page(
    app: &App,
    post_id: i64,
    which: Interaction,
    limit: i64,
    offset: i64,
) -> AppResult<(Vec<String>, i64)> {
    Ok(match which {
        Interaction::Replies => {
            let all = db::replies::visible_of_post(app.db().write(), post_id).await?;
            let total = all.len() as i64;
            let ids = all
                .into_iter()
                .skip(offset.max(0) as usize)
                .take(limit.max(0) as usize)
                .map(|r| r.reply.ap_id)
                .collect();
            (ids, total)
        }
        _ => {
            let kind = which.reaction_kind();
            let page =
                db::reactions::of_post(app.db().write(), kind, post_id, limit, offset).await?;
            let total = db::reactions::count(app.db().write(), kind, post_id).await?;
            (page.into_iter().map(|r| r.actor_id).collect(), total)
        }
    })
}

/// Orders replies depth-first (oldest first among siblings) with each one's level.
/// A reply whose parent is not shown (deleted, held) goes to the top level.
fn thread(replies: Vec<ShownReply>) -> Vec<(ShownReply, usize)> {
    let shown: std::collections::HashSet<i64> = replies.iter().map(|r| r.reply.id).collect();
    let mut children: HashMap<Option<i64>, Vec<ShownReply>> = HashMap::new();
    for r in replies {
        let parent = r.reply.parent_id.filter(|p| shown.contains(p));
        children.entry(parent).or_default().push(r);
    }
    let mut out = Vec::new();
    // An explicit stack: a thread may be deep, and recursion would follow it.
    let mut stack: Vec<(ShownReply, usize)> = children
        .remove(&None)
        .unwrap_or_default()
        .into_iter()
        .rev()
        .map(|r| (r, 0))
        .collect();
    while let Some((r, level)) = stack.pop() {
        if let Some(kids) = children.remove(&Some(r.reply.id)) {
            stack.extend(kids.into_iter().rev().map(|k| (k, level + 1)));
        }
        out.push((r, level));
    }
    out
}

/// `@name@host` for an actor, from its username and id.
pub fn address(username: Option<&str>, actor_id: &str) -> String {
    let host = Url::parse(actor_id)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    match username {
        Some(u) => format!("@{u}@{host}"),
        None => host,
    }
}
