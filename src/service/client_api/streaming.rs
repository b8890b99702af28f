//! Streaming (`/api/v1/streaming`): who may open which stream, the bounds on
//! connections, and which of the hub's events a connection is shown. The events come
//! from the database through [`crate::streaming`], so every server process sees every
//! change; the HTTP side renders them (WebSocket or server-sent events).

use std::sync::Arc;

use tokio::sync::broadcast::{self, error::RecvError};

use crate::{
    app::App,
    db::{self, notifications::NotificationRow, status_events::StatusEventRow, timeline::Window},
    domain::{Access, FilterContext, Handle, Resource, Scope, Tag},
    error::{AppError, AppResult},
    service::client_api::{direct, oauth::Grant, tags, timeline},
    streaming::{Event, Refused, Ticket},
};

/// Subscriptions one WebSocket may hold at once.
pub const MAX_SUBSCRIPTIONS: usize = 32;

/// A stream a client subscribes to, as Mastodon names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stream {
    /// The author's home timeline and notifications.
    User,
    /// The author's notifications only.
    UserNotification,
    /// Public statuses (ours are all local: `public` and `public:local` are the same).
    Public { local: bool },
    /// Public statuses with a tag.
    Hashtag { tag: Tag, local: bool },
    /// The author's conversations (direct messages), each time one gets a status.
    Direct,
}

impl Stream {
    /// `stream` (and `tag` for hashtags) from a query or a subscribe message.
    pub fn parse(stream: &str, tag: Option<&str>) -> AppResult<Self> {
        let tag = || {
            tag.and_then(|t| Tag::parse(t.trim_start_matches('#')).ok())
                .ok_or_else(|| AppError::BadRequest("No tag for stream provided".into()))
        };
        Ok(match stream {
            "user" => Self::User,
            "user:notification" => Self::UserNotification,
            "direct" => Self::Direct,
            "public" | "public:media" | "public:remote" => Self::Public { local: false },
            "public:local" | "public:local:media" => Self::Public { local: true },
            "hashtag" => Self::Hashtag {
                tag: tag()?,
                local: false,
            },
            "hashtag:local" => Self::Hashtag {
                tag: tag()?,
                local: true,
            },
            _ => return Err(AppError::BadRequest("Unknown stream type".into())),
        })
    }

    /// The `stream` array of an event: the name, and the tag for hashtags.
    pub fn names(&self) -> Vec<String> {
        match self {
            Self::User => vec!["user".into()],
            Self::UserNotification => vec!["user:notification".into()],
            Self::Direct => vec!["direct".into()],
            Self::Public { local: false } => vec!["public".into()],
            Self::Public { local: true } => vec!["public:local".into()],
            Self::Hashtag { tag, local } => {
                let name = if *local { "hashtag:local" } else { "hashtag" };
                vec![name.into(), tag.as_str().to_owned()]
            }
        }
    }

    /// The scope a token needs, as Mastodon's streaming server asks: `read`, or
    /// `read:notifications` for the notification stream, `read:statuses` for others.
    fn scope(&self) -> Scope {
        match self {
            Self::UserNotification => Scope::One(Access::Read, Resource::Notifications),
            _ => Scope::One(Access::Read, Resource::Statuses),
        }
    }
}

/// What a connection is sent: an event of one of its streams, for the HTTP side to
/// render.
pub enum Item {
    Notification {
        stream: Vec<String>,
        row: Box<NotificationRow>,
    },
    /// `update` (`edited` false) or `status.update`: the status as the home timeline
    /// has it, to be judged by the author's filters of `context`.
    Status {
        stream: Vec<String>,
        edited: bool,
        status: Arc<timeline::Item>,
        context: FilterContext,
    },
    /// `delete`: the status's id.
    Delete { stream: Vec<String>, id: String },
    /// `conversation`: the conversation as `GET /api/v1/conversations` lists it.
    Conversation {
        stream: Vec<String>,
        conversation: Box<direct::Conversation>,
    },
}

/// One open streaming connection: its author, place in the bounds, streams, and
/// receiver. Dropping it gives the place back.
pub struct Connection {
    author: Handle,
    grant: Grant,
    streams: Vec<Stream>,
    events: broadcast::Receiver<Arc<Event>>,
    _ticket: Ticket,
}

/// Why a connection ends.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// It fell more than `stream_buffer_events` behind: a slow reader.
    Lagged,
    /// The server is shutting down.
    Closed,
}

/// Admits a connection of the grant's author with its first streams (a WebSocket may
/// start with none); 401/403/422 for the token, 429 over the bounds.
pub fn open(app: &App, grant: Grant, streams: Vec<Stream>) -> AppResult<Connection> {
    let author = grant.author()?.clone();
    for s in &streams {
        grant.require(s.scope())?;
    }
    let ticket = app.streams().admit(&author).map_err(|r| {
        app.metrics().limit_tripped(match r {
            Refused::Author => "limits.client_api.streams_per_author",
            Refused::Total => "limits.client_api.streams_total",
        });
        AppError::TooManyStreams("Too many streaming connections".into())
    })?;
    Ok(Connection {
        author,
        grant,
        streams,
        events: app.streams().subscribe(),
        _ticket: ticket,
    })
}

impl Connection {
    /// Adds a stream (a WebSocket `subscribe`); a second time changes nothing.
    pub fn subscribe(&mut self, stream: Stream) -> AppResult<()> {
        self.grant.require(stream.scope())?;
        if self.streams.contains(&stream) {
            return Ok(());
        }
        if self.streams.len() >= MAX_SUBSCRIPTIONS {
            return Err(AppError::BadRequest("Too many subscriptions".into()));
        }
        self.streams.push(stream);
        Ok(())
    }

    pub fn unsubscribe(&mut self, stream: &Stream) {
        self.streams.retain(|s| s != stream);
    }

    /// The next event from the hub (cancel-safe: nothing is lost if the wait is
    /// dropped). Pass it to [`Connection::items`].
    pub async fn next_event(&mut self) -> Result<Arc<Event>, Ended> {
        match self.events.recv().await {
            Ok(e) => Ok(e),
            Err(RecvError::Lagged(_)) => Err(Ended::Lagged),
            Err(RecvError::Closed) => Err(Ended::Closed),
        }
    }

    /// What `event` means for this connection: one item per stream it belongs to.
    pub async fn items(&self, app: &App, event: &Event) -> AppResult<Vec<Item>> {
        match event {
            Event::Notification { author, id } => {
                if *author != self.author || !self.may_see_notifications() {
                    return Ok(vec![]);
                }
                let Some(row) = db::notifications::get(app.db().read(), author, *id).await? else {
                    return Ok(vec![]);
                };
                Ok(self
                    .streams
                    .iter()
                    .filter(|s| matches!(s, Stream::User | Stream::UserNotification))
                    .map(|s| Item::Notification {
                        stream: s.names(),
                        row: Box::new(row.clone()),
                    })
                    .collect())
            }
            Event::Status(e) => self.status_items(app, e).await,
            Event::Conversation { author, id } => {
                if *author != self.author || !self.streams.contains(&Stream::Direct) {
                    return Ok(vec![]);
                }
                let Some(c) = direct::one(app, author, *id).await? else {
                    return Ok(vec![]);
                };
                Ok(vec![Item::Conversation {
                    stream: Stream::Direct.names(),
                    conversation: Box::new(c),
                }])
            }
        }
    }

    /// A status event on each stream that shows the status: `user` what the author's
    /// home has (their own, and followed accounts' unless muted); `public` and
    /// `hashtag` public statuses only (the local timeline's, and for `hashtag` also
    /// stored remote ones, as the tag timeline).
    async fn status_items(&self, app: &App, e: &StatusEventRow) -> AppResult<Vec<Item>> {
        let public = e.visibility == "public";
        let ours = e.post_id.is_some();
        let tagged = |tag: &Tag| {
            let want = tags::normal(tag.as_str());
            e.tags
                .iter()
                .any(|t| want.is_some() && tags::normal(t) == want)
        };
        let mut home = None;
        let mut shown = Vec::new();
        for s in &self.streams {
            let context = match s {
                Stream::User if ours => {
                    (e.author.as_ref() == Some(&self.author)).then_some(FilterContext::Home)
                }
                Stream::User => {
                    if home.is_none() {
                        let actor = e.actor_id.as_deref().unwrap_or_default();
                        let db = app.db().read();
                        home = Some(db::status_events::in_home(db, &self.author, actor).await?);
                    }
                    (home == Some(true)).then_some(FilterContext::Home)
                }
                // Direct statuses stream as conversations only.
                Stream::UserNotification | Stream::Direct => None,
                Stream::Public { .. } => (public && ours).then_some(FilterContext::Public),
                Stream::Hashtag { tag, local } => {
                    (public && (ours || !local) && tagged(tag)).then_some(FilterContext::Public)
                }
            };
            shown.extend(context.map(|c| (s.names(), c)));
        }
        if shown.is_empty() {
            return Ok(vec![]);
        }
        if e.kind == "delete" {
            let id = match (e.post_id, e.remote_id) {
                (Some(n), _) => n.to_string(),
                (_, n) => format!("s.{}", n.unwrap_or_default()),
            };
            let items = shown.into_iter().map(|(stream, _)| Item::Delete {
                stream,
                id: id.clone(),
            });
            return Ok(items.collect());
        }
        let Some(status) = status_now(app, e).await? else {
            return Ok(vec![]);
        };
        let (status, edited) = (Arc::new(status), e.kind == "status.update");
        Ok(shown
            .into_iter()
            .map(|(stream, context)| Item::Status {
                stream,
                edited,
                status: status.clone(),
                context,
            })
            .collect())
    }

    /// Mastodon sends notifications on `user` only to tokens that may read them.
    fn may_see_notifications(&self) -> bool {
        self.grant
            .scopes
            .permit(Scope::One(Access::Read, Resource::Notifications))
    }

    pub fn author(&self) -> &Handle {
        &self.author
    }
}

/// The status an event names as it is now (read when sent), as the home timeline's
/// one path from rows to items makes it; None if it is gone since.
async fn status_now(app: &App, e: &StatusEventRow) -> AppResult<Option<timeline::Item>> {
    let db = app.db().read();
    let mut posts = Vec::new();
    let mut remote = Vec::new();
    if let Some(id) = e.post_id {
        posts.extend(
            db::posts::by_id(db, id)
                .await?
                .filter(|p| p.deleted_at.is_none()),
        );
    } else if let Some(id) = e.remote_id {
        remote.extend(db::timeline::get(db, id).await?);
    }
    let w = Window {
        limit: 1,
        ..Window::default()
    };
    Ok(timeline::merge(app, posts, remote, &w).await?.pop())
}
