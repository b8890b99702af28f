//! The HTTP edge: connections accepted within bounds (in all, and per peer address),
//! a deadline for each request's headers, and a shutdown bounded in time. Bodies
//! have their deadline where they are read ([`body_in_time`]).

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::{Body, to_bytes},
    extract::{ConnectInfo, Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use hyper::server::conn::http1;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::Semaphore};
use tokio_util::sync::CancellationToken;
use tower_http::add_extension::AddExtension;

use crate::{app::App, config::HttpLimits, domain::PeerKey, metrics::Metrics};

/// Open files kept for all but client connections: the database, outgoing requests
/// (one pooled connection per server a fan-out reaches is bounded by delivery's own
/// limits), logs.
const RESERVED_FILES: u64 = 256;

/// Serves `router` on `listener` until `shutdown`; then stops accepting, lets each
/// connection finish its request for up to `shutdown_grace_seconds`, closes what is
/// left and returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &HttpLimits,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
) {
    let cap = connection_cap(limits.max_connections.get());
    let permits = Arc::new(Semaphore::new(cap as usize));
    let peers = Arc::new(Peers::new(limits.max_connections_per_peer.get()));
    let grace = seconds(limits.shutdown_grace_seconds.get());
    let mut http = http1::Builder::new();
    // hyper closes a connection whose request head is not complete in time; the wait
    // for a keep-alive connection's next request counts too.
    http.timer(TokioTimer::new())
        .header_read_timeout(seconds(limits.header_timeout_seconds.get()));
    loop {
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of open files, mostly: pause rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        // Over a cap, the connection is closed at once: it costs no file for long.
        let Some(share) = Peers::enter(&peers, peer.ip()) else {
            metrics.limit_tripped("limits.http.max_connections_per_peer");
            continue;
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            metrics.limit_tripped("limits.http.max_connections");
            continue;
        };
        let service =
            TowerToHyperService::new(AddExtension::new(router.clone(), ConnectInfo(peer)));
        // Upgrades: the client API's WebSocket streaming (bounded by its own counts).
        let conn = http
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let _held = (permit, share);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = stop.cancelled() => {}
            }
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(grace, conn).await;
        });
    }
    drop(listener);
    // Each connection gives its permit back when it ends, within `grace`.
    let all = permits.acquire_many(cap);
    if tokio::time::timeout(grace + Duration::from_secs(1), all)
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace");
    }
}

fn seconds(n: u16) -> Duration {
    Duration::from_secs(n.into())
}

/// `max_connections`, lowered to fit under the open-files limit with room to spare.
fn connection_cap(configured: u32) -> u32 {
    let Ok((soft, _)) = rlimit::getrlimit(rlimit::Resource::NOFILE) else {
        return configured;
    };
    let room = u32::try_from(soft.saturating_sub(RESERVED_FILES).max(16)).unwrap_or(u32::MAX);
    if room < configured {
        tracing::warn!(
            configured,
            used = room,
            open_files = soft,
            "[limits.http] max_connections lowered to fit the open files limit"
        );
    }
    configured.min(room)
}

/// Open connections per peer address. An address has an entry only while it has a
/// connection open, so the map holds at most `max_connections` entries.
struct Peers {
    max: u32,
    open: Mutex<HashMap<PeerKey, u32>>,
}

/// One connection's place in its peer's count, given back on drop.
struct Share {
    peers: Arc<Peers>,
    key: PeerKey,
}

impl Peers {
    fn new(max: u32) -> Self {
        Self {
            max,
            open: Mutex::new(HashMap::new()),
        }
    }

    /// A place for one more connection from `ip`, unless it has `max` already.
    fn enter(this: &Arc<Self>, ip: IpAddr) -> Option<Share> {
        let key = PeerKey::of(ip);
        let mut open = this.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(key).or_insert(0);
        if *n >= this.max {
            return None;
        }
        *n += 1;
        Some(Share {
            peers: this.clone(),
            key,
        })
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        let mut open = self.peers.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// Reads a request's body whole within `[limits.http] body_timeout_seconds` (408 past
/// it, and the connection closed) and at most `limit` bytes (413), so a body that
/// drips holds a connection for a bounded time.
pub async fn body_in_time(
    State((app, limit)): State<(App, usize)>,
    req: Request,
    next: Next,
) -> Response {
    let deadline = seconds(app.config().limits.http.body_timeout_seconds.get());
    let (parts, body) = req.into_parts();
    match tokio::time::timeout(deadline, to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(e)) if too_large(&e) => {
            (StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n").into_response()
        }
        Ok(Err(_)) => (StatusCode::BAD_REQUEST, "request body not read\n").into_response(),
        Err(_) => {
            app.metrics()
                .limit_tripped("limits.http.body_timeout_seconds");
            (
                StatusCode::REQUEST_TIMEOUT,
                [(header::CONNECTION, HeaderValue::from_static("close"))],
                "request body not received in time\n",
            )
                .into_response()
        }
    }
}

fn too_large(e: &axum::Error) -> bool {
    std::error::Error::source(e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_are_counted_by_address_and_forgotten_when_gone() {
        let peers = Arc::new(Peers::new(2));
        let a: IpAddr = "203.0.113.7".parse().unwrap();
        let first = Peers::enter(&peers, a).unwrap();
        let second = Peers::enter(&peers, a).unwrap();
        assert!(Peers::enter(&peers, a).is_none());
        assert!(Peers::enter(&peers, "203.0.113.8".parse().unwrap()).is_some());
        drop((first, second));
        assert!(peers.open.lock().unwrap().is_empty());
    }

    #[test]
    fn ipv6_peers_of_one_64_share_a_count() {
        let peers = Arc::new(Peers::new(1));
        let _held = Peers::enter(&peers, "2001:db8:1:2::1".parse().unwrap()).unwrap();
        assert!(Peers::enter(&peers, "2001:db8:1:2:ffff::9".parse().unwrap()).is_none());
        assert!(Peers::enter(&peers, "2001:db8:1:3::1".parse().unwrap()).is_some());
    }
}
