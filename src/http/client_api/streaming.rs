//! `/api/v1/streaming`: Mastodon's streaming API, as a WebSocket (`?stream=…`,
//! `subscribe`/`unsubscribe` messages) and as server-sent events (one path per
//! stream). The token comes in the query (`access_token`), the `Authorization` header
//! or the `Sec-WebSocket-Protocol` header, and is checked before the upgrade. Each
//! event is `{"stream": [...], "event": "notification", "payload": "<JSON text>"}`
//! (`update`, `status.update`: a Status; `delete`: the bare id; `conversation`: a
//! Conversation).

use std::{convert::Infallible, time::Duration};

use axum::{
    extract::{
        RawQuery, State,
        ws::{
            Message, Utf8Bytes, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection,
        },
    },
    http::{HeaderMap, header},
    response::{
        IntoResponse, Response,
        sse::{Event as SseEvent, KeepAlive, Sse},
    },
};
use serde_json::{Value, json};

use crate::{
    app::App,
    error::{AppError, AppResult},
    service::client_api::{
        filters, oauth,
        streaming::{self, Connection, Ended, Item, Stream},
    },
};

/// What an event says, as text: (event name, payload).
type Rendered = (&'static str, String);

/// `GET /api/v1/streaming/health`.
pub async fn health() -> &'static str {
    "OK"
}

fn query_value(raw: Option<&str>, key: &str) -> Option<String> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// The token: `access_token` in the query, a bearer `Authorization`, or (browsers
/// cannot set headers on a WebSocket) `Sec-WebSocket-Protocol`.
fn token(raw: Option<&str>, headers: &HeaderMap) -> Option<String> {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    query_value(raw, "access_token")
        .or_else(|| {
            let (scheme, t) = header(header::AUTHORIZATION)?.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| t.trim().to_owned())
        })
        .or_else(|| header(header::SEC_WEBSOCKET_PROTOCOL).map(|t| t.trim().to_owned()))
        .filter(|t| !t.is_empty())
}

/// Authenticates and admits a connection with `streams`.
async fn connect(
    app: &App,
    raw: Option<&str>,
    headers: &HeaderMap,
    streams: Vec<Stream>,
) -> AppResult<Connection> {
    let token =
        token(raw, headers).ok_or_else(|| AppError::InvalidToken("Missing access token".into()))?;
    let grant = oauth::authenticate(app, &token).await?;
    streaming::open(app, grant, streams)
}

/// Renders an item: the event's name, its `stream` and its payload.
async fn render(app: &App, conn: &Connection, item: Item) -> AppResult<(Vec<String>, Rendered)> {
    match item {
        Item::Notification { stream, row } => {
            let handle = conn.author();
            // The notifications' filters apply here as in the list: hidden, not sent.
            let filters = filters::active(app, handle).await?;
            let payload =
                super::status_json::notifications(app, handle, std::slice::from_ref(&*row))
                    .await?
                    .pop()
                    .flatten()
                    .and_then(|n| super::filters::judge_notification(&filters, n))
                    .map_or_else(String::new, |v| v.to_string());
            Ok((stream, ("notification", payload)))
        }
        Item::Status {
            stream,
            edited,
            status,
            context,
        } => {
            // The same Status the home and tag timelines draw; `hide` drops the event.
            let mut shown =
                super::graph_json::items(app, Some(conn.author()), std::slice::from_ref(&*status))
                    .await?;
            let filters = filters::active(app, conn.author()).await?;
            let payload = shown
                .pop()
                .and_then(|mut v| {
                    super::filters::judge_status(&filters, context, &mut v).then_some(v)
                })
                .map_or_else(String::new, |v| v.to_string());
            let name = if edited { "status.update" } else { "update" };
            Ok((stream, (name, payload)))
        }
        Item::Delete { stream, id } => Ok((stream, ("delete", id))),
        Item::Conversation {
            stream,
            conversation,
        } => {
            let mut accounts = super::status_json::Accounts::default();
            let v = super::conversations::entity(app, conn.author(), *conversation, &mut accounts)
                .await?;
            Ok((stream, ("conversation", v.to_string())))
        }
    }
}

/// The items an event makes for this connection, rendered (an empty payload: what
/// it was about is gone, nothing is sent).
async fn rendered(
    app: &App,
    conn: &Connection,
    event: &crate::streaming::Event,
) -> Vec<(Vec<String>, Rendered)> {
    let items = match conn.items(app, event).await {
        Ok(items) => items,
        Err(e) => {
            tracing::warn!(error = %e, "a streaming event could not be read");
            return vec![];
        }
    };
    let mut out = Vec::new();
    for item in items {
        match render(app, conn, item).await {
            Ok(r) if !r.1.1.is_empty() => out.push(r),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "a streaming event could not be rendered"),
        }
    }
    out
}

fn heartbeat(app: &App) -> Duration {
    Duration::from_secs(
        app.config()
            .limits
            .client_api
            .stream_heartbeat_seconds
            .get()
            .into(),
    )
}

// ---- WebSocket ----

/// `GET /api/v1/streaming?stream=user&access_token=…` (WebSocket).
pub async fn websocket(
    State(app): State<App>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> AppResult<Response> {
    let first = match query_value(raw.as_deref(), "stream") {
        Some(s) => vec![Stream::parse(
            &s,
            query_value(raw.as_deref(), "tag").as_deref(),
        )?],
        None => vec![],
    };
    let conn = connect(&app, raw.as_deref(), &headers, first).await?;
    let upgrade = upgrade.map_err(|e| AppError::BadRequest(e.body_text()))?;
    // A token sent as the subprotocol is the protocol the browser expects back.
    let upgrade = match headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
    {
        Some(p) => upgrade.protocols([p.trim().to_owned()]),
        None => upgrade,
    };
    Ok(upgrade
        .on_upgrade(move |socket| run_websocket(app, conn, socket))
        .into_response())
}

/// Sends the connection's events and answers its messages until either side ends,
/// the client falls behind, stops answering pings, or the server shuts down.
async fn run_websocket(app: App, mut conn: Connection, mut socket: WebSocket) {
    let every = heartbeat(&app);
    let closed = app.streams().closed();
    let mut ticker = tokio::time::interval(every);
    ticker.reset();
    let mut heard = tokio::time::Instant::now();
    loop {
        tokio::select! {
            _ = closed.cancelled() => break,
            event = conn.next_event() => {
                let Ok(event) = event else { break };
                for (stream, (name, payload)) in rendered(&app, &conn, &event).await {
                    let text = json!({ "stream": stream, "event": name, "payload": payload });
                    if !send(&mut socket, Message::Text(text.to_string().into()), every).await {
                        return;
                    }
                }
            }
            msg = socket.recv() => {
                let Some(Ok(msg)) = msg else { break };
                heard = tokio::time::Instant::now();
                match msg {
                    Message::Text(text) => {
                        let reply = command(&mut conn, &text);
                        if let Some(reply) = reply
                            && !send(&mut socket, Message::Text(reply), every).await
                        {
                            return;
                        }
                    }
                    Message::Close(_) => break,
                    _ => {}
                }
            }
            _ = ticker.tick() => {
                if heard.elapsed() > every * 3 {
                    break;
                }
                if !send(&mut socket, Message::Ping(Default::default()), every).await {
                    return;
                }
            }
        }
    }
    let _ = tokio::time::timeout(every, socket.send(Message::Close(None))).await;
}

/// Sends within the heartbeat's time; false if the client is gone or does not read.
async fn send(socket: &mut WebSocket, msg: Message, within: Duration) -> bool {
    matches!(
        tokio::time::timeout(within, socket.send(msg)).await,
        Ok(Ok(()))
    )
}

/// A client's message: `{"type": "subscribe"|"unsubscribe", "stream": …, "tag": …}`.
/// An error is answered as Mastodon does (`{"error": …, "status": …}`).
fn command(conn: &mut Connection, text: &Utf8Bytes) -> Option<Utf8Bytes> {
    let msg: Value = serde_json::from_str(text.as_str()).ok()?;
    let stream = msg.get("stream").and_then(Value::as_str)?;
    let tag = msg.get("tag").and_then(Value::as_str);
    let result =
        Stream::parse(stream, tag).and_then(|s| match msg.get("type").and_then(Value::as_str) {
            Some("subscribe") => conn.subscribe(s),
            Some("unsubscribe") => {
                conn.unsubscribe(&s);
                Ok(())
            }
            _ => Err(AppError::BadRequest("Unknown message type".into())),
        });
    let e = result.err()?;
    let status = super::super::error::status(&e).as_u16();
    Some(
        json!({ "error": e.to_string(), "status": status })
            .to_string()
            .into(),
    )
}

// ---- Server-sent events ----

async fn sse(
    app: App,
    raw: Option<String>,
    headers: HeaderMap,
    stream: AppResult<Stream>,
) -> AppResult<Response> {
    // The token first, as Mastodon: a stranger learns nothing about the stream asked.
    let mut conn = connect(&app, raw.as_deref(), &headers, vec![]).await?;
    conn.subscribe(stream?)?;
    let keep_alive = KeepAlive::new().interval(heartbeat(&app)).text("thump");
    let closed = app.streams().closed();
    // Mastodon opens with a comment, so clients know the stream is up.
    let hello = vec![SseEvent::default().comment(")")];
    let events = futures_util::stream::unfold(
        (app, conn, closed, hello),
        |(app, mut conn, closed, mut ready)| async move {
            loop {
                if let Some(e) = ready.pop() {
                    return Some((Ok::<_, Infallible>(e), (app, conn, closed, ready)));
                }
                let event = tokio::select! {
                    _ = closed.cancelled() => return None,
                    event = conn.next_event() => event,
                };
                let event = match event {
                    Ok(e) => e,
                    Err(Ended::Lagged | Ended::Closed) => return None,
                };
                for (_, (name, payload)) in rendered(&app, &conn, &event).await.into_iter().rev() {
                    ready.push(SseEvent::default().event(name).data(payload));
                }
            }
        },
    );
    Ok(Sse::new(events).keep_alive(keep_alive).into_response())
}

/// `GET /api/v1/streaming/user`.
pub async fn sse_user(
    State(app): State<App>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> AppResult<Response> {
    sse(app, raw, headers, Ok(Stream::User)).await
}

/// `GET /api/v1/streaming/user/notification`.
pub async fn sse_notification(
    State(app): State<App>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> AppResult<Response> {
    sse(app, raw, headers, Ok(Stream::UserNotification)).await
}

/// `GET /api/v1/streaming/direct`.
pub async fn sse_direct(
    State(app): State<App>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> AppResult<Response> {
    sse(app, raw, headers, Ok(Stream::Direct)).await
}

/// `GET /api/v1/streaming/public` and `/public/local`.
pub async fn sse_public(
    State(app): State<App>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> AppResult<Response> {
    sse(app, raw, headers, Ok(Stream::Public { local: true })).await
}

/// `GET /api/v1/streaming/hashtag?tag=…` and `/hashtag/local`.
pub async fn sse_hashtag(
    State(app): State<App>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> AppResult<Response> {
    let stream = Stream::parse("hashtag", query_value(raw.as_deref(), "tag").as_deref());
    sse(app, raw, headers, stream).await
}
