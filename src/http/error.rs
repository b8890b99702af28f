//! The one mapping from [`AppError`] to an HTTP answer: a status, a message that is
//! safe to show (our own failures are logged here, once, inside the request's span,
//! and shown only as "internal server error"), and the headers some statuses need.
//! The answer is JSON (`{"error": …}`); [`html_for_browsers`] turns it into the
//! theme's message page when the request asked for HTML.

use axum::{
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::{negotiate, views};
use crate::{app::App, error::AppError};

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
        // Where a remote failure means something else (the door: an unauthenticated
        // signer), the caller has already said so.
        AppError::Remote { .. } => StatusCode::BAD_GATEWAY,
        AppError::Database(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The message of an error answer, kept on the response for [`html_for_browsers`].
#[derive(Debug, Clone)]
struct Shown(String);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = status(&self);
        let message = if status.is_server_error() {
            // Details stay in the log; the client learns only that it was our fault.
            tracing::error!(error = %self, "request failed");
            "internal server error".to_owned()
        } else {
            tracing::debug!(error = %self, %status, "request refused");
            self.to_string()
        };
        let mut res = (
            status,
            axum::Json(serde_json::json!({ "error": message.as_str() })),
        )
            .into_response();
        if let Self::TooManyRequests { retry_after, .. } = &self
            && let Ok(v) = HeaderValue::from_str(&retry_after.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if let Self::KeyUnavailable { retry_after, .. } = &self {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
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
        res.extensions_mut().insert(Shown(message));
        res
    }
}

/// The layer: an error answer to a request that asked for HTML (a browser) becomes
/// the theme's message page, with the same status and headers.
pub async fn html_for_browsers(State(app): State<App>, req: Request, next: Next) -> Response {
    let html = negotiate::asks_for_html(req.headers());
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
