//! Media attachments from apps: upload (processed by [`picture`] on a blocking
//! thread, a few at a time), describe, read, serve, claim for a post, prune. The bytes
//! live in the database (migration 0022), so any server sharing it can serve them.
//! Unattached media are the uploader's alone; once a post claims them their URLs
//! are public (as unguessable as before).

use std::time::Duration;

use tokio::sync::Semaphore;

use super::picture::{self, PictureError};
use crate::{
    app::App,
    db::{
        self,
        media::{MediaFile, MediaRow, NewMedia},
    },
    domain::{Attachment, Handle},
    error::{AppError, AppResult},
};

/// A post's media at most (Mastodon's).
pub const MAX_PER_POST: usize = 4;
/// Alt text's length at most, in characters (Mastodon's).
pub const MAX_DESCRIPTION: usize = 1500;

/// Images decoded at once in this process: each may take the pixel limit's memory
/// (decoded) and a core.
static PROCESSING: Semaphore = Semaphore::const_new(2);

/// Uploads being received or processed at once in this process: each holds up to
/// `media_max_bytes` in memory until it is stored.
static IN_FLIGHT: Semaphore = Semaphore::const_new(16);
/// What a client is told to wait when all of them are taken.
const BUSY_RETRY_SECONDS: u64 = 5;

/// A place for one more upload, held while it is read and processed; 429 when there
/// is none.
pub fn upload_slot(author: &Handle) -> AppResult<tokio::sync::SemaphorePermit<'static>> {
    IN_FLIGHT
        .try_acquire()
        .map_err(|_| AppError::TooManyRequests {
            host: author.to_string(),
            retry_after: BUSY_RETRY_SECONDS,
        })
}

/// An upload as the app sent it.
#[derive(Debug, Default)]
pub struct Upload {
    pub bytes: Vec<u8>,
    pub description: Option<String>,
    pub focus: Option<String>,
}

fn not_found() -> AppError {
    AppError::NotFound("Record not found".into())
}

/// Processes and stores an upload of `author`'s.
pub async fn upload(app: &App, author: &Handle, up: Upload) -> AppResult<MediaRow> {
    let description = description(up.description.as_deref())?.unwrap_or_default();
    let focus = focus(up.focus.as_deref())?.unwrap_or((0.0, 0.0));
    let limits = &app.config().limits.client_api;
    let max_pixels = u64::from(limits.media_max_pixels.get());
    let permit = PROCESSING
        .acquire()
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let bytes = up.bytes;
    let processed = tokio::task::spawn_blocking(move || picture::process(&bytes, max_pixels))
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    drop(permit);
    let p = processed.map_err(|e| match e {
        PictureError::Encode(_) => AppError::Internal(e.into()),
        PictureError::TooManyPixels { .. } => {
            app.metrics()
                .limit_tripped("limits.client_api.media_max_pixels");
            AppError::Unprocessable(e.to_string())
        }
        _ => AppError::Unprocessable(e.to_string()),
    })?;
    let token = token();
    let new = NewMedia {
        author,
        token: &token,
        media_type: p.media_type,
        original: &p.original.bytes,
        preview: &p.preview.bytes,
        width: p.original.width,
        height: p.original.height,
        preview_width: p.preview.width,
        preview_height: p.preview.height,
        blurhash: p.blurhash.as_deref(),
        description: &description,
        focus,
        created_at: db::now_ms(),
    };
    let max_count = i64::from(limits.unattached_media_per_author.get());
    let max_bytes = i64::from(limits.unattached_media_bytes_per_author.get());
    let Some(id) = db::media::insert_within(app.db().write(), &new, max_count, max_bytes).await?
    else {
        app.metrics()
            .limit_tripped("limits.client_api.unattached_media_per_author");
        return Err(AppError::Unprocessable(format!(
            "too many media not yet in a post: at most {max_count} files or {max_bytes} bytes; \
             post them or wait {} hours",
            limits.unattached_media_hours
        )));
    };
    get(app, author, &id.to_string()).await
}

/// The unguessable part of a media URL: 128 bits, hex (no `-` or `.`, which the
/// file names use).
fn token() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn description(d: Option<&str>) -> AppResult<Option<String>> {
    match d {
        Some(d) if d.chars().count() > MAX_DESCRIPTION => Err(AppError::Unprocessable(format!(
            "the description is too long: at most {MAX_DESCRIPTION} characters"
        ))),
        Some(d) => Ok(Some(d.trim().to_owned())),
        None => Ok(None),
    }
}

/// Mastodon's focal point: "x,y", each within -1.0..=1.0.
fn focus(f: Option<&str>) -> AppResult<Option<(f64, f64)>> {
    let Some(f) = f.map(str::trim).filter(|f| !f.is_empty()) else {
        return Ok(None);
    };
    let bad = || AppError::Unprocessable("focus must be \"x,y\", each from -1.0 to 1.0".into());
    let (x, y) = f.split_once(',').ok_or_else(bad)?;
    let parse = |v: &str| {
        v.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| (-1.0..=1.0).contains(v))
    };
    match (parse(x), parse(y)) {
        (Some(x), Some(y)) => Ok(Some((x, y))),
        _ => Err(bad()),
    }
}

fn id(id: &str) -> AppResult<i64> {
    id.parse().map_err(|_| not_found())
}

/// One of `author`'s media; another's or an unknown one is 404.
pub async fn get(app: &App, author: &Handle, media_id: &str) -> AppResult<MediaRow> {
    db::media::get(app.db().write(), author, id(media_id)?)
        .await?
        .ok_or_else(not_found)
}

/// Sets the alt text and focus of one of `author`'s media. Of attached media, a
/// post shows the change when it is next edited (it claims them again).
pub async fn describe(
    app: &App,
    author: &Handle,
    media_id: &str,
    new_description: Option<&str>,
    new_focus: Option<&str>,
) -> AppResult<MediaRow> {
    let d = description(new_description)?;
    let f = focus(new_focus)?;
    let id = id(media_id)?;
    match db::media::describe(app.db().write(), author, id, d.as_deref(), f).await? {
        true => get(app, author, media_id).await,
        false => Err(not_found()),
    }
}

/// A rendition to serve at `/media/{id}/{file}`: `<token>.<ext>` the original,
/// `<token>-small.<ext>` the preview. Unattached media are served to their uploader
/// only (`viewer`, from a bearer token); anything else is 404.
pub async fn file(
    app: &App,
    media_id: &str,
    name: &str,
    viewer: Option<&Handle>,
) -> AppResult<MediaFile> {
    let (stem, ext) = name.rsplit_once('.').ok_or_else(not_found)?;
    let (token, preview) = match stem.strip_suffix("-small") {
        Some(t) => (t, true),
        None => (stem, false),
    };
    let f = db::media::file(app.db().read(), id(media_id)?, preview)
        .await?
        .ok_or_else(not_found)?;
    let visible = f.attached || viewer == Some(&f.author);
    // The token is compared in time independent of where it differs.
    let same = f.token.len() == token.len()
        && f.token
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !(same && visible && picture::extension(&f.media_type) == ext) {
        return Err(not_found());
    }
    Ok(f)
}

/// The original's URL.
pub fn url(app: &App, m: &MediaRow) -> String {
    app.uris()
        .upload(m.id, &m.token, picture::extension(&m.media_type), false)
}

/// The preview's URL.
pub fn preview_url(app: &App, m: &MediaRow) -> String {
    app.uris()
        .upload(m.id, &m.token, picture::extension(&m.media_type), true)
}

/// How a post federates one of its media (`posts.attachments_json`).
pub fn attachment(app: &App, m: &MediaRow) -> Attachment {
    Attachment {
        url: url(app, m),
        media_type: Some(m.media_type.clone()),
        alt: m.description.clone(),
        width: u32::try_from(m.width).ok(),
        height: u32::try_from(m.height).ok(),
    }
}

/// Makes the media `ids` (as the app sent them, in order) the media of `post_id`,
/// inside the transaction that writes the post: each must be `author`'s and not in
/// another post, at most [`MAX_PER_POST`] (else 422, as Mastodon answers). Media the
/// post had and `ids` no longer name are detached. Returns what the post federates.
pub async fn claim(
    app: &App,
    tx: &mut db::Tx,
    author: &Handle,
    ids: &[String],
    post_id: i64,
) -> AppResult<Vec<Attachment>> {
    let wanted = wanted(ids)?;
    let rows = claimable(&mut *tx, author, &wanted, post_id).await?;
    db::media::attach(&mut *tx, &wanted, post_id).await?;
    Ok(rows.iter().map(|m| attachment(app, m)).collect())
}

/// What [`claim`] would give a post (`None`: one not yet written), checked the same
/// way, without attaching anything: for building the post before its transaction.
pub async fn check(
    app: &App,
    author: &Handle,
    ids: &[String],
    post_id: Option<i64>,
) -> AppResult<Vec<Attachment>> {
    let wanted = wanted(ids)?;
    // No post has id -1: only unattached media are free for a new one.
    let rows = claimable(app.db().read(), author, &wanted, post_id.unwrap_or(-1)).await?;
    Ok(rows.iter().map(|m| attachment(app, m)).collect())
}

/// The ids an app sent, parsed, without repeats, in order; at most [`MAX_PER_POST`].
fn wanted(ids: &[String]) -> AppResult<Vec<i64>> {
    let mut wanted: Vec<i64> = Vec::new();
    for raw in ids {
        let missing = || AppError::Unprocessable(format!("Media {raw} not found"));
        let id = raw.trim().parse::<i64>().map_err(|_| missing())?;
        if !wanted.contains(&id) {
            wanted.push(id);
        }
    }
    if wanted.len() > MAX_PER_POST {
        return Err(AppError::Unprocessable(format!(
            "too many media attachments: at most {MAX_PER_POST}"
        )));
    }
    Ok(wanted)
}

/// The rows of `wanted`, in its order, each `author`'s and free for `post_id`; 422
/// naming the first that is not.
async fn claimable(
    db: impl db::Executor<'_>,
    author: &Handle,
    wanted: &[i64],
    post_id: i64,
) -> AppResult<Vec<MediaRow>> {
    let mut rows = db::media::claimable(db, author, wanted, post_id).await?;
    if let Some(missing) = wanted.iter().find(|id| !rows.iter().any(|r| r.id == **id)) {
        return Err(AppError::Unprocessable(format!(
            "Media {missing} not found"
        )));
    }
    rows.sort_by_key(|r| wanted.iter().position(|id| *id == r.id));
    Ok(rows)
}

/// Removes media that waited for a post longer than `[limits.client_api]
/// unattached_media_hours`, and those of posts deleted as long ago (their URLs
/// answer 404 from the deletion on); the hourly pruner calls it.
pub async fn prune(app: &App) -> AppResult<u64> {
    let hours = i64::from(app.config().limits.client_api.unattached_media_hours.get());
    let before = db::now_ms() - hours * 3600 * 1000;
    let pruned = db::media::prune_unattached(app.db().write(), before).await?;
    if pruned > 0 {
        tracing::info!(pruned, "removed media no post claimed");
    }
    Ok(pruned)
}

/// How long an app has to send an upload.
pub fn upload_deadline(app: &App) -> Duration {
    Duration::from_secs(
        app.config()
            .limits
            .client_api
            .media_upload_seconds
            .get()
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn focus_is_two_numbers_within_one() {
        assert_eq!(focus(Some("0.5,-1")).unwrap(), Some((0.5, -1.0)));
        assert_eq!(focus(Some("")).unwrap(), None);
        assert!(focus(Some("2,0")).is_err());
        assert!(focus(Some("NaN,0")).is_err());
        assert!(focus(Some("0.1")).is_err());
    }
}
