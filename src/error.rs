//! One error type for everything a request or command can fail with, and its single
//! mapping to an HTTP status and a message that is safe to show.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::federation::{fetch::FetchError, signatures::SignatureError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0} was deleted")]
    Gone(String),
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("database error: {0}")]
    Database(#[from] crate::db::Error),
    #[error("federation error: {0}")]
    Federation(#[from] activitypub_federation::error::Error),
    /// A remote document (e.g. the signer's actor and key) could not be had.
    #[error("cannot fetch a remote document: {0}")]
    Fetch(#[from] FetchError),
    /// A remote host sent more than its share; it should retry after this many seconds.
    #[error("too many requests from {host}; retry after {retry_after} seconds")]
    TooManyRequests { host: String, retry_after: u64 },
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Gone(_) => StatusCode::GONE,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            // Without the signer's actor and key the request is not authenticated.
            Self::Signature(_) | Self::Unauthorized(_) | Self::Fetch(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Federation(e) => federation_status(e),
        }
    }
}

/// Errors from fetching remote objects: the sender's actor could not be had.
fn federation_status(e: &activitypub_federation::error::Error) -> StatusCode {
    use activitypub_federation::error::Error as E;
    match e {
        E::ParseReceivedActivity { .. } => StatusCode::BAD_REQUEST,
        // A bad signature, or the signer's actor or key could not be fetched or used:
        // the request is not authenticated.
        _ => StatusCode::UNAUTHORIZED,
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status.is_server_error() {
            // Details stay in the log; the client learns only that it was our fault.
            tracing::error!(error = %self, "request failed");
            "internal server error".to_owned()
        } else {
            tracing::debug!(error = %self, %status, "request refused");
            self.to_string()
        };
        let mut res = (status, axum::Json(serde_json::json!({ "error": message }))).into_response();
        if let Self::TooManyRequests { retry_after, .. } = &self
            && let Ok(v) = HeaderValue::from_str(&retry_after.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if status == StatusCode::UNAUTHORIZED {
            // Tell senders which signature scheme we verify (RFC 9421 senders fall back on 401).
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    "Signature realm=\"fedblog\",headers=\"(request-target) host date digest\"",
                ),
            );
        }
        res
    }
}

/// A value from outside that does not parse is the sender's mistake.
impl From<crate::domain::ParseError> for AppError {
    fn from(e: crate::domain::ParseError) -> Self {
        Self::BadRequest(e.0)
    }
}

pub type AppResult<T> = Result<T, AppError>;
