//! The fediverse conversation around a post, as pages and collections show it:
//! visible replies in thread order, and who liked and boosted it.

use url::Url;

use crate::{
    app::App,
    db::{self, quotes::ShownQuote, reactions::Reactor, replies::ShownReply},
    domain::{Emoji, PageNumber, ReactionKind},
    error::AppResult,
    federation::objects::collections::{self, PAGE_SIZE, PagedCollection},
};

/// Faces shown per kind of reaction on a page; the count says how many there are in all.
pub const FACES: i64 = 40;

/// Different emoji shown with a post's likes, the most chosen first.
pub const EMOJI_SHOWN: i64 = 20;

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
    /// The likes' emoji (Misskey's reactions, `EmojiReact`) and how many chose each.
    pub emoji: Vec<(Emoji, i64)>,
    pub boosts: Vec<Reactor>,
    pub boost_count: i64,
    /// Quotes of the post (approved or listed), newest first.
    pub quotes: Vec<ShownQuote>,
    pub quote_count: i64,
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
        emoji: db::reactions::emoji_counts(app.db().read(), post_id, EMOJI_SHOWN).await?,
        boosts: db::reactions::of_post(app.db().read(), ReactionKind::Announce, post_id, FACES, 0)
            .await?,
        boost_count: db::reactions::count(app.db().read(), ReactionKind::Announce, post_id).await?,
        quotes: db::quotes::shown_of_post(app.db().read(), post_id, FACES).await?,
        quote_count: db::quotes::count_shown(app.db().read(), post_id).await?,
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

/// The post's `replies` collection (`id`) with its first page inside: the page's
/// first replies in its order, by id.
pub async fn replies_collection(app: &App, post_id: i64, id: String) -> AppResult<PagedCollection> {
    let (items, total, per_page) =
        collection_page(app, post_id, Interaction::Replies, PageNumber::FIRST).await?;
    let items = items.into_iter().map(serde_json::Value::String).collect();
    Ok(collections::with_first_page(id, total, per_page, items))
}

/// Page `page` of a post's FEP-7888 context: the post (`post_ap_id`) first, then
/// every visible reply in the page's thread order, `[limits.pages] replies_per_page`
/// items a page; the total and the page size.
pub async fn context_page(
    app: &App,
    post_id: i64,
    post_ap_id: String,
    page: PageNumber,
) -> AppResult<(Vec<String>, i64, i64)> {
    let per_page = replies_per_page(app);
    // Item 0 is the post, so reply n is item n + 1.
    let start = page.offset(per_page);
    let (mut items, offset, limit) = match start {
        0 => (vec![post_ap_id], 0, per_page - 1),
        _ => (Vec::new(), start - 1, per_page),
    };
    let rows = db::replies::thread_page(app.db().read(), post_id, limit, offset).await?;
    items.extend(rows.into_iter().map(|r| r.shown.reply.ap_id));
    let total = db::replies::count_visible(app.db().read(), post_id).await? + 1;
    Ok((items, total, per_page))
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
