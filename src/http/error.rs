//! The one mapping from [`AppError`] to an HTTP answer: a status, a message that is
//! safe to show (our own failures are logged here, once, inside the request's span,
//! and shown only as a fixed sentence; no cause text reaches a body), and the headers
//! some statuses need. The answer is JSON (`{"error": …}`); [`html_for_browsers`]
//! turns it into the theme's message page when the request asked for HTML.

use axum::{
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::{negotiate, views};
use crate::{
    app::App,
    error::{AppError, OAuthError},
    federation::fetch::FetchError,
};

/// How long a client should wait after a 503 for our database: a full disk or a
/// read-only file heals when the operator acts, and writes resume by themselves.
const UNAVAILABLE_RETRY_AFTER_SECONDS: u64 = 30;

/// The status of each kind of failure.
pub fn status(e: &AppError) -> StatusCode {
    match e {
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Gone(_) => StatusCode::GONE,
        AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
        AppError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::KeyUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Misdirected(_) => StatusCode::MISDIRECTED_REQUEST,
        AppError::InvalidToken(_) => StatusCode::UNAUTHORIZED,
        AppError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::OAuth {
            error: OAuthError::InvalidClient,
            ..
        } => StatusCode::UNAUTHORIZED,
        AppError::OAuth {
            error: OAuthError::UnauthorizedClient,
            ..
        } => StatusCode::FORBIDDEN,
        AppError::OAuth { .. } => StatusCode::BAD_REQUEST,
        AppError::TooManySignIns { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::TooManyStreams(_) => StatusCode::TOO_MANY_REQUESTS,
        // Where a remote failure means something else (the door: an unauthenticated
        // signer), the caller has already said so.
        AppError::Remote { .. } => StatusCode::BAD_GATEWAY,
        // Our own storage failing (disk full, read-only): nothing was stored, and
        // asking again later will work (senders treat 4xx as permanent, 5xx not).
        AppError::Database(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// `Retry-After` in seconds, for the answers that mean "later".
fn retry_after(e: &AppError) -> Option<u64> {
    match e {
        AppError::TooManyRequests { retry_after, .. }
        | AppError::TooManySignIns { retry_after } => Some(*retry_after),
        AppError::Database(_) => Some(UNAVAILABLE_RETRY_AFTER_SECONDS),
        _ => None,
    }
}

/// What the client is told: for our failures a fixed sentence per status, for the
/// client's the error's own message, except cause text of ours (network errors of a
/// fetch we made on its behalf).
fn shown(e: &AppError, status: StatusCode) -> String {
    if status == StatusCode::SERVICE_UNAVAILABLE {
        return "temporarily unavailable; retry later".to_owned();
    }
    if status.is_server_error() {
        return "internal server error".to_owned();
    }
    let fetch = match e {
        AppError::Unauthorized {
            source: Some(source),
            ..
        } => source.downcast_ref::<FetchError>(),
        _ => None,
    };
    match fetch {
        Some(FetchError::Network { url, .. }) => {
            format!("cannot authenticate the signer: {url} did not answer")
        }
        Some(f) => format!("cannot authenticate the signer: {f}"),
        None => e.to_string(),
    }
}

/// The message of an error answer, kept on the response for [`html_for_browsers`].
#[derive(Debug, Clone)]
struct Shown(String);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = status(&self);
        if status.is_server_error() {
            // Details stay in the log; the client learns only that it was our fault.
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::debug!(error = %self, %status, "request refused");
        }
        let message = shown(&self, status);
        // OAuth errors carry their code, and the message as its description.
        let body = match &self {
            Self::OAuth { error, .. } => serde_json::json!({
                "error": error.as_str(),
                "error_description": message.as_str(),
            }),
            _ => serde_json::json!({ "error": message.as_str() }),
        };
        let mut res = (status, axum::Json(body)).into_response();
        if let Some(secs) = retry_after(&self) {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Self::KeyUnavailable { retry_after, .. } = &self {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
        }
        if matches!(self, Self::InvalidToken(_) | Self::OAuth { .. }) {
            if status == StatusCode::UNAUTHORIZED {
                res.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"fedblog\", error=\"invalid_token\""),
                );
            }
        } else if status == StatusCode::UNAUTHORIZED {
            // Tell senders which signature scheme we verify (RFC 9421 senders fall back on 401).
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    "Signature realm=\"fedblog\",headers=\"(request-target) host date digest\"",
                ),
            );
        }
        res.extensions_mut().insert(Shown(message));
        res
    }
}

/// The layer: an error answer to a request that asked for HTML (a browser) becomes
/// the theme's message page, with the same status and headers.
pub async fn html_for_browsers(State(app): State<App>, req: Request, next: Next) -> Response {
    // The client API and the token endpoints answer apps: JSON always.
    let html = negotiate::asks_for_html(req.headers())
        && !super::client_api::always_json(req.uri().path());
    let res = next.run(req).await;
    let Some(Shown(message)) = res.extensions().get::<Shown>().cloned() else {
        return res;
    };
    if !html {
        return res;
    }
    let status = res.status();
    let mut page = match status {
        StatusCode::NOT_FOUND => views::not_found_page(&app),
        _ => views::message_page(
            &app,
            status,
            status.canonical_reason().unwrap_or("Error"),
            &message,
        ),
    };
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            page.headers_mut().insert(name, value.clone());
        }
    }
    page
}
