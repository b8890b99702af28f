//! Every GET fedblog sends to another server goes through here: signed by the
//! instance actor (so servers in secure mode answer), only http(s), each hop's URL
//! checked against the address policy (IP literals and loopback names here, resolved
//! addresses at connect time by the client's resolver), at most [`MAX_REDIRECTS`]
//! redirects, one deadline for the whole fetch, and a body cap enforced while
//! streaming, so an oversized document is refused without being held in memory.

use std::{sync::Arc, time::Duration};

use axum::http::{HeaderValue, StatusCode, header};
use url::Url;

use super::{
    client::{AddressPolicy, error_chain},
    keys::KeyStore,
    signatures::{
        SigningKey,
        knock::{self, Knocks},
    },
};
use crate::error::AppError;

/// Largest document we read (activitypub_federation uses the same bound).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 3;
/// What we ask for: ActivityStreams JSON, as Mastodon does.
const ACCEPT_AP: &str = "application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";

/// Why a fetch failed. Messages name the URL and say what was wrong.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Refused(String),
    #[error("{0} is on this server; local documents are not fetched")]
    Local(Url),
    #[error("{0}: more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects(Url),
    #[error("{0}: a redirect without a usable Location")]
    BadRedirect(Url),
    #[error("{0}: the document is larger than {1} bytes")]
    TooLarge(Url, usize),
    #[error("{0}: no complete answer within {1} seconds")]
    Timeout(Url, f64),
    #[error("{0} is gone (410)")]
    Gone(Url),
    #[error("{url} answered {status}")]
    Status { url: Url, status: StatusCode },
    #[error("{url}: {reason}")]
    Network { url: Url, reason: String },
    #[error("{url}: not ActivityPub JSON (Content-Type `{content_type}`)")]
    ContentType { url: Url, content_type: String },
    #[error("{url}: malformed JSON: {reason}")]
    Json { url: Url, reason: String },
    #[error("{url}: the document's id `{id}` is missing or not on the host that served it")]
    ForeignId { url: Url, id: String },
    #[error("cannot sign the request: {0}")]
    Signing(String),
}

impl FetchError {
    /// Whether asking again later may succeed: no answer in time, a network error,
    /// 429 or a 5xx.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Timeout(..) | Self::Network { .. } => true,
            Self::Status { status, .. } => {
                status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS
            }
            _ => false,
        }
    }
}

/// What a failed fetch is to the caller: another server failed us. Where that means
/// more (the door: the signer cannot be authenticated) the caller says so.
impl From<FetchError> for AppError {
    fn from(e: FetchError) -> Self {
        // Our instance key is read from, or created in, our database: that failing is
        // ours to fix (503), not the remote's.
        if let FetchError::Signing(_) = e {
            return AppError::Database(Box::new(e));
        }
        AppError::Remote {
            message: format!("cannot fetch a remote document: {e}"),
            transient: e.is_transient(),
            source: Box::new(e),
        }
    }
}

/// A fetched body and where it was finally found.
#[derive(Debug)]
pub struct Fetched {
    /// The URL after redirects.
    pub url: Url,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// Every GET we send, under one policy. Cheap to clone.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
    /// The instance actor signs every GET.
    keys: KeyStore,
    /// This server's `host[:port]`: its documents are read from the database instead.
    local: String,
    /// `[federation] fetch_timeout_seconds`: the deadline of a whole fetch.
    timeout_seconds: f64,
    /// Which signature scheme each host accepts (double-knocking).
    knocks: Knocks,
}

impl Fetcher {
    pub fn new(
        client: reqwest::Client,
        policy: Arc<AddressPolicy>,
        keys: KeyStore,
        local: &str,
        timeout_seconds: f64,
        knocks: Knocks,
    ) -> Self {
        Self {
            client,
            policy,
            keys,
            local: local.to_owned(),
            timeout_seconds,
            knocks,
        }
    }

    /// The address policy every outgoing request obeys (deliveries too).
    pub fn policy(&self) -> &Arc<AddressPolicy> {
        &self.policy
    }

    /// Fetches an ActivityStreams document. It must be served as
    /// `application/activity+json` or `application/ld+json`, and its `id` must be on
    /// the origin that finally served it (so a host cannot speak for another); callers
    /// compare that id with what they expected.
    pub async fn get_json(&self, url: &Url) -> Result<serde_json::Value, FetchError> {
        self.get_json_within(url, MAX_BODY_BYTES).await
    }

    /// [`Self::get_json`] with a smaller body cap (`max_bytes`, at most
    /// [`MAX_BODY_BYTES`]): what is read to verify a signature is bounded tighter.
    pub async fn get_json_within(
        &self,
        url: &Url,
        max_bytes: usize,
    ) -> Result<serde_json::Value, FetchError> {
        let fetched = self.get_within(url, ACCEPT_AP, max_bytes).await?;
        let media_type = fetched
            .content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if media_type != "application/activity+json" && media_type != "application/ld+json" {
            return Err(FetchError::ContentType {
                url: fetched.url,
                content_type: fetched.content_type,
            });
        }
        let json: serde_json::Value =
            serde_json::from_slice(&fetched.body).map_err(|e| FetchError::Json {
                url: fetched.url.clone(),
                reason: e.to_string(),
            })?;
        let id = json.get("id").and_then(|v| v.as_str()).unwrap_or_default();
        match Url::parse(id) {
            Ok(id) if id.origin() == fetched.url.origin() => Ok(json),
            _ => Err(FetchError::ForeignId {
                url: fetched.url,
                id: id.to_owned(),
            }),
        }
    }

    /// A signed GET with `accept`, following redirects, within one deadline and the
    /// body cap.
    pub async fn get(&self, url: &Url, accept: &str) -> Result<Fetched, FetchError> {
        self.get_within(url, accept, MAX_BODY_BYTES).await
    }

    /// [`Self::get`] with a smaller body cap (WebFinger documents are small).
    pub async fn get_within(
        &self,
        url: &Url,
        accept: &str,
        max_bytes: usize,
    ) -> Result<Fetched, FetchError> {
        let secs = self.timeout_seconds;
        let max_bytes = max_bytes.min(MAX_BODY_BYTES);
        let fetch = self.follow(url, accept, max_bytes);
        tokio::time::timeout(Duration::from_secs_f64(secs), fetch)
            .await
            .unwrap_or_else(|_| Err(FetchError::Timeout(url.clone(), secs)))
    }

    async fn follow(
        &self,
        url: &Url,
        accept: &str,
        max_bytes: usize,
    ) -> Result<Fetched, FetchError> {
        let key = self
            .keys
            .instance()
            .await
            .map_err(|e| FetchError::Signing(e.to_string()))?;
        let mut current = url.clone();
        for _ in 0..=MAX_REDIRECTS {
            self.policy
                .check_url(&current)
                .map_err(FetchError::Refused)?;
            if self.is_local(&current) {
                return Err(FetchError::Local(current));
            }
            let network = |e: reqwest::Error, url: &Url| FetchError::Network {
                url: url.clone(),
                reason: error_chain(&e),
            };
            let knocked = self
                .knock(&key, &current, accept)
                .await
                .map_err(|e| network(e, &current))?;
            let mut res = match knocked {
                Ok(res) => res,
                Err(status) => {
                    return Err(FetchError::Status {
                        url: current,
                        status,
                    });
                }
            };
            let status = res.status();
            if status.is_redirection() {
                let next = res
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| current.join(l).ok())
                    .ok_or_else(|| FetchError::BadRedirect(current.clone()))?;
                tracing::debug!(from = %current, to = %next, "following a redirect");
                current = next;
                continue;
            }
            if status == StatusCode::GONE {
                return Err(FetchError::Gone(current));
            }
            if !status.is_success() {
                return Err(FetchError::Status {
                    url: current,
                    status,
                });
            }
            // A declared length over the cap is refused before reading anything.
            if res.content_length().is_some_and(|n| n > max_bytes as u64) {
                return Err(FetchError::TooLarge(current, max_bytes));
            }
            let content_type = res
                .headers()
                .get(header::CONTENT_TYPE)
                .map(HeaderValue::as_bytes)
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            let mut body = Vec::new();
            while let Some(chunk) = res.chunk().await.map_err(|e| network(e, &current))? {
                if body.len() + chunk.len() > max_bytes {
                    return Err(FetchError::TooLarge(current, max_bytes));
                }
                body.extend_from_slice(&chunk);
            }
            return Ok(Fetched {
                url: current,
                content_type,
                body,
            });
        }
        Err(FetchError::TooManyRedirects(url.clone()))
    }

    /// One signed GET, double-knocking: the scheme the host is remembered to accept
    /// first (RFC 9421 when unknown), the other at once if the host refuses the
    /// signature (401, or a 400 naming it). A 400 comes back as its status alone (its
    /// body was read to judge it).
    async fn knock(
        &self,
        key: &SigningKey,
        url: &Url,
        accept: &str,
    ) -> Result<Result<reqwest::Response, StatusCode>, reqwest::Error> {
        let host = crate::domain::host_key(url);
        let (memory, first) = self.knocks.first(&host).await;
        let mut scheme = first;
        loop {
            let mut req = self.client.get(url.clone()).header(header::ACCEPT, accept);
            for (name, value) in key.sign_get_as(scheme, url) {
                // reqwest sets Host from the URL, to the value we signed.
                if name != "host" {
                    req = req.header(name, value);
                }
            }
            let res = req.send().await?;
            let status = res.status();
            // Only a 400's body is read to judge it; any other answer is kept whole.
            let (refused, res) = match status.as_u16() {
                401 => (true, Some(res)),
                400 => (knock::refused(400, &knock::refusal_body(res).await), None),
                _ => (false, Some(res)),
            };
            self.knocks
                .answered(&host, memory, first, scheme, status.as_u16(), refused)
                .await;
            if refused && scheme == first {
                scheme = knock::other(first);
                continue;
            }
            return Ok(res.ok_or(status));
        }
    }

    /// Whether `url` names this server    /// Whether `url` names this server (its documents are read from the database
    /// instead).
    fn is_local(&self, url: &Url) -> bool {
        let host = url.host_str().unwrap_or_default();
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        };
        authority.eq_ignore_ascii_case(&self.local)
    }
}
