//! Media uploads (`POST /api/v2/media`, `/api/v1/media`; multipart `file`,
//! `description`, `focus`), `GET`/`PUT /api/v1/media/{id}`, and the files themselves
//! at `/media/{id}/{token}[-small].{ext}`.

use axum::{
    Json,
    body::Body,
    extract::{FromRequest, FromRequestParts, Multipart, Path, Request, State, multipart::Field},
    http::{HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::Value;

use super::{
    extract::{Auth, FormOrJson},
    media_json,
};
use crate::{
    app::App,
    domain::{Access, Resource, Scope},
    error::{AppError, AppResult},
    service::client_api::media::{self, Upload},
};

/// Room for the multipart framing and the text fields beside the file.
const FORM_SLACK: usize = 64 * 1024;

const SCOPE: Scope = Scope::One(Access::Write, Resource::Media);

/// `POST /api/v2/media` (and v1): processed before it answers, so always 200 with
/// `url` set (Mastodon answers 202 while it processes in the background).
pub async fn upload(State(app): State<App>, Auth(grant): Auth, req: Request) -> Response {
    let result = async {
        grant.require(SCOPE)?;
        let author = grant.author()?.clone();
        let _slot = media::upload_slot(&author)?;
        let deadline = media::upload_deadline(&app);
        let Ok(read) = tokio::time::timeout(deadline, read_upload(&app, req)).await else {
            app.metrics()
                .limit_tripped("limits.client_api.media_upload_seconds");
            return Ok(None);
        };
        let row = media::upload(&app, &author, read?).await?;
        AppResult::Ok(Some(media_json::media_attachment(&app, &row)))
    };
    match result.await {
        Ok(Some(v)) => Json(v).into_response(),
        Ok(None) => (
            StatusCode::REQUEST_TIMEOUT,
            [(header::CONNECTION, HeaderValue::from_static("close"))],
            Json(serde_json::json!({"error": "the upload was not received in time"})),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// Reads the form, counting the file's bytes as they arrive: past
/// `[limits.client_api] media_max_bytes`, 413 naming the limit, and nothing more is read.
async fn read_upload(app: &App, req: Request) -> AppResult<Upload> {
    let max = app.config().limits.client_api.media_max_bytes.get() as usize;
    let too_large = || {
        app.metrics()
            .limit_tripped("limits.client_api.media_max_bytes");
        AppError::PayloadTooLarge(max)
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max + FORM_SLACK) {
        return Err(too_large());
    }
    // The whole body is bounded too (the route has no default limit), so neither many
    // fields nor a long text field can grow without end.
    let (parts, body) = req.into_parts();
    let body = Body::new(http_body_util::Limited::new(body, max + FORM_SLACK));
    let mut form = Multipart::from_request(Request::from_parts(parts, body), app)
        .await
        .map_err(|e| {
            AppError::Unprocessable(format!("cannot read the upload: {}", e.body_text()))
        })?;
    let fail = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            AppError::Unprocessable(format!("cannot read the upload: {}", e.body_text()))
        }
    };
    let mut up = Upload::default();
    let mut has_file = false;
    while let Some(mut field) = form.next_field().await.map_err(fail)? {
        match field.name() {
            Some("file") => {
                up.bytes = read_file(&mut field, max).await.map_err(|e| match e {
                    None => too_large(),
                    Some(e) => fail(e),
                })?;
                has_file = true;
            }
            Some("description") => up.description = Some(field.text().await.map_err(fail)?),
            Some("focus") => up.focus = Some(field.text().await.map_err(fail)?),
            // Others (`thumbnail`, for audio and video) are skipped as they stream by.
            _ => {}
        }
    }
    if !has_file {
        return Err(AppError::Unprocessable("file is missing".into()));
    }
    Ok(up)
}

/// A file field's bytes; `Err(None)` past `max`.
async fn read_file(
    field: &mut Field<'_>,
    max: usize,
) -> Result<Vec<u8>, Option<axum::extract::multipart::MultipartError>> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(Some)? {
        if bytes.len() + chunk.len() > max {
            return Err(None);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

pub async fn get(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    grant.require(SCOPE)?;
    let row = media::get(&app, grant.author()?, &id).await?;
    Ok(Json(media_json::media_attachment(&app, &row)))
}

/// `PUT /api/v1/media/{id}`: form or JSON.
#[derive(Debug, Deserialize)]
pub struct Describe {
    description: Option<String>,
    focus: Option<String>,
}

pub async fn update(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
    FormOrJson(d): FormOrJson<Describe>,
) -> AppResult<Json<Value>> {
    grant.require(SCOPE)?;
    let author = grant.author()?;
    let row = media::describe(
        &app,
        author,
        &id,
        d.description.as_deref(),
        d.focus.as_deref(),
    )
    .await?;
    Ok(Json(media_json::media_attachment(&app, &row)))
}

/// `GET /media/{id}/{file}`: the bytes we encoded, with their type and never sniffed.
/// Attached media are public and immutable; unattached ones only for their
/// uploader's bearer token (an app showing what it just uploaded), and not cached.
pub async fn serve(
    State(app): State<App>,
    Path((id, name)): Path<(String, String)>,
    mut parts: Parts,
) -> AppResult<Response> {
    // A missing or bad token is no error here: the file is public or it is not found.
    let viewer = Auth::from_request_parts(&mut parts, &app).await.ok();
    let viewer = viewer.as_ref().and_then(|Auth(g)| g.author().ok());
    let f = media::file(&app, &id, &name, viewer).await?;
    let cache = if f.attached {
        "public, max-age=31536000, immutable"
    } else {
        "private, no-store"
    };
    let content_type =
        HeaderValue::from_str(&f.media_type).map_err(|e| AppError::Internal(e.into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        f.bytes,
    )
        .into_response())
}
