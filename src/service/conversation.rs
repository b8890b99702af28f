//! The fediverse conversation around a post, as pages and collections show it:
//! visible replies in thread order, and who liked and boosted it.

use url::Url;

use crate::{
    app::App,
    db::{self, reactions::Reactor, replies::ShownReply},
    domain::{PageNumber, ReactionKind},
    error::AppResult,
    federation::objects::collections::PAGE_SIZE,
};

/// Faces shown per kind of reaction on a page; the count says how many there are in all.
pub const FACES: i64 = 40;

/// A post's interactions, ready to show.
#[derive(Debug, Clone, Default)]
pub struct Conversation {
    /// One page of replies in reading order: each one followed by its answers, with
    /// its level in the thread.
    pub replies: Vec<(ShownReply, usize)>,
    /// Visible replies in all.
    pub reply_count: i64,
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

/// Page `page` of a post's replies (`[limits.pages] replies_per_page`, the size the
/// `replies` collection pages by too), with who liked and boosted it.
pub async fn of_post(app: &App, post_id: i64, page: PageNumber) -> AppResult<Conversation> {
    let per_page = replies_per_page(app);
    let replies =
        db::replies::thread_page(app.db().read(), post_id, per_page, page.offset(per_page)).await?;
    Ok(Conversation {
        replies: replies
            .into_iter()
            .map(|r| (r.shown, usize::try_from(r.level).unwrap_or(0)))
            .collect(),
        reply_count: db::replies::count_visible(app.db().read(), post_id).await?,
        likes: db::reactions::of_post(app.db().read(), ReactionKind::Like, post_id, FACES, 0)
            .await?,
        like_count: db::reactions::count(app.db().read(), ReactionKind::Like, post_id).await?,
        boosts: db::reactions::of_post(app.db().read(), ReactionKind::Announce, post_id, FACES, 0)
            .await?,
        boost_count: db::reactions::count(app.db().read(), ReactionKind::Announce, post_id).await?,
    })
}

/// Replies a page holds, on the post's page and in its `replies` collection alike.
pub fn replies_per_page(app: &App) -> i64 {
    app.config().limits.pages.replies_per_page.get().into()
}

/// Totals for the post's ActivityPub object: replies, likes, shares.
pub async fn counts(app: &App, post_id: i64) -> AppResult<(i64, i64, i64)> {
    let replies = db::replies::count_visible(app.db().read(), post_id).await?;
    let likes = db::reactions::count(app.db().read(), ReactionKind::Like, post_id).await?;
    let shares = db::reactions::count(app.db().read(), ReactionKind::Announce, post_id).await?;
    Ok((replies, likes, shares))
}

/// Page `page` of a post's `replies` (reply ids, in the page's order), `likes` or
/// `shares` (actor ids); the total; and the page size.
pub async fn collection_page(
    app: &App,
    post_id: i64,
    which: Interaction,
    page: PageNumber,
) -> AppResult<(Vec<String>, i64, i64)> {
    Ok(match which {
        Interaction::Replies => {
            let per_page = replies_per_page(app);
            let offset = page.offset(per_page);
            let rows = db::replies::thread_page(app.db().read(), post_id, per_page, offset).await?;
            let total = db::replies::count_visible(app.db().read(), post_id).await?;
            let ids = rows.into_iter().map(|r| r.shown.reply.ap_id).collect();
            (ids, total, per_page)
        }
        _ => {
            let kind = which.reaction_kind();
            let offset = page.offset(PAGE_SIZE);
            let rows =
                db::reactions::of_post(app.db().read(), kind, post_id, PAGE_SIZE, offset).await?;
            let total = db::reactions::count(app.db().read(), kind, post_id).await?;
            (
                rows.into_iter().map(|r| r.actor_id).collect(),
                total,
                PAGE_SIZE,
            )
        }
    })
}

/// `@user@domain` for an actor: the handle WebFinger confirmed (which keeps a port and
/// names a split domain), else its username on its host, port included.
pub fn address(handle: Option<&str>, username: Option<&str>, actor_id: &str) -> String {
    if let Some(h) = handle {
        return format!("@{h}");
    }
    let host = Url::parse(actor_id)
        .ok()
        .filter(|u| u.host_str().is_some())
        .map(|u| crate::domain::host_key(&u))
        .unwrap_or_default();
    match username {
        Some(u) => format!("@{u}@{host}"),
        None => host,
    }
}
