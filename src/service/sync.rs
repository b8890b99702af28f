//! Content sync: makes the database match the content folder. A new post is published
//! (Create), a changed one updated (Update), a removed one deleted (Delete); each change
//! and its deliveries are written in one transaction, so a crash loses nothing.

use anyhow::Context;
use std::{
    collections::{HashMap, HashSet},
    path::PathBuf,
};

use chrono::{DateTime, Utc};

use crate::{
    app::App,
    content::{self, AuthorContent, ContentError, PostSource},
    db::{
        self,
        authors::ProfileValues,
        outbox::{Audience, Outgoing},
        posts::{PostIndexRow, PostRow, PostValues},
    },
    domain::{Handle, PostKind, Slug},
    error::{AppError, AppResult},
    federation::{activities::outgoing, signatures},
};

/// Mastodon puts a post on home timelines only if `published` is under 6 hours old.
const HOME_TIMELINE_WINDOW_MS: i64 = 6 * 3600 * 1000;
/// Set once the first sync of a database has run; that sync sends nothing.
const FIRST_SYNC_DONE: &str = "first_sync_done";

/// What a sync did.
#[derive(Debug, Default)]
pub struct SyncReport {
    pub authors_added: usize,
    pub published: usize,
    pub updated: usize,
    pub deleted: usize,
    pub unchanged: usize,
    pub deliveries_queued: u64,
    /// Row ids of the activities queued, to follow their fan-out.
    pub activities: Vec<i64>,
    pub errors: Vec<ContentError>,
    /// What publishes anyway but deserves a look: mentions of accounts not found.
    pub warnings: Vec<ContentError>,
    /// When the next scheduled post is due: the server syncs again then.
    pub next_scheduled: Option<DateTime<Utc>>,
}

/// Reads the content folder and applies every change. Files unchanged since the last
/// sync (same hash) are not parsed again.
pub async fn sync(app: &App) -> AppResult<SyncReport> {
    run(app, None).await
}

/// Applies the changes of these files (the watcher's paths) and leaves the rest of
/// the folder unread.
pub async fn sync_files(app: &App, changed: HashSet<PathBuf>) -> AppResult<SyncReport> {
    run(app, Some(changed)).await
}

#[tracing::instrument(name = "sync", skip_all, fields(files = changed.as_ref().map(HashSet::len)))]
async fn run(app: &App, changed: Option<HashSet<PathBuf>>) -> AppResult<SyncReport> {
    let mut known: content::Known = HashMap::new();
    let rows = match &changed {
        None => db::posts::file_hashes(app.db().write()).await?,
        Some(paths) => known_of_changed(app, paths).await?,
    };
    for (author, path, hash) in rows {
        known.entry(author).or_default().insert(path, hash);
    }
    let root = app.config().content.clone();
    let authors: Vec<String> = match &changed {
        None => known.keys().cloned().collect(),
        Some(_) => {
            let mut all: Vec<String> = db::posts::file_hashes(app.db().write())
                .await?
                .into_iter()
                .map(|(author, _, _)| author)
                .collect();
            all.dedup();
            all
        }
    };
    refuse_missing_folders(&root, authors).await?;
    let uris = app.uris().clone();
    let language = app.config().site_language.clone();
    let partial = changed.is_some();
    let mut scan = tokio::task::spawn_blocking(move || {
        let site = content::Site {
            uris: &uris,
            language: &language,
        };
        content::scan_changes(&root, &site, &known, changed.as_ref())
    })
    .await
    .context("the content scan panicked")?;
    let first_sync = db::meta::get(app.db().write(), FIRST_SYNC_DONE)
        .await?
        .is_none();
    // A partial scan sees only the scheduled posts among the changed files.
    let next_scheduled = match partial {
        false => scan.next_scheduled(),
        true => [next_due(app).await?, scan.next_scheduled()]
            .into_iter()
            .flatten()
            .min(),
    };
    let warnings = super::mentions::link(app, &mut scan).await?;
    let mut report = SyncReport {
        next_scheduled,
        errors: std::mem::take(&mut scan.errors),
        warnings,
        ..SyncReport::default()
    };
    note_next_scheduled(app, report.next_scheduled).await?;
    for author in &scan.authors {
        sync_author(app, author, first_sync, &mut report).await?;
    }
    if first_sync {
        db::meta::set(app.db().write(), FIRST_SYNC_DONE, &db::now_ms().to_string()).await?;
    }
    // Serve the new versions from the next request on.
    app.cache().catch_up(app.db().write()).await?;
    for e in report.errors.iter().chain(&report.warnings) {
        tracing::warn!("{e}");
    }
    Ok(report)
}

/// Refuses to sync when an author with live posts has a missing or empty folder: an
/// unmounted share, an empty or partial checkout on another node. Such a folder is
/// never what the writer meant (deleting posts leaves `author.toml`), and a sync from
/// it would at best leave the site silently out of step with the files.
async fn refuse_missing_folders(root: &std::path::Path, authors: Vec<String>) -> AppResult<()> {
    let root = root.to_owned();
    let empty = tokio::task::spawn_blocking(move || {
        authors
            .into_iter()
            .map(|a| (root.join(&a), a))
            .filter(|(dir, _)| !has_files(dir))
            .collect::<Vec<_>>()
    })
    .await
    .context("the content folder check panicked")?;
    if empty.is_empty() {
        return Ok(());
    }
    let list = empty
        .iter()
        .map(|(dir, a)| format!("`{a}` ({})", dir.display()))
        .collect::<Vec<_>>()
        .join(", ");
    Err(AppError::Unprocessable(format!(
        "{REFUSAL} the folder of {list} is missing or empty, but the site has \
         published posts of theirs. Check that the content \
         folder is the right one and complete (on a node with a stale or empty checkout, \
         leave syncing to the node that has it)"
    )))
}

/// How a refusal of [`refuse_missing_folders`] starts.
const REFUSAL: &str = "not syncing:";

/// Whether a sync failed because it refused to run (an author's folder missing or
/// empty), not because something broke.
pub fn is_refusal(e: &AppError) -> bool {
    matches!(e, AppError::Unprocessable(m) if m.starts_with(REFUSAL))
}

/// Whether `dir` exists and holds anything but hidden files. An author folder with
/// only `author.toml` left is someone who deleted their posts, and syncs.
fn has_files(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|e| !e.file_name().to_string_lossy().starts_with('.'))
    })
}

/// Notes when the next scheduled post is due (`None`: nothing is scheduled), where
/// every process reads it, and wakes this process's schedule task if that changed.
async fn note_next_scheduled(app: &App, next: Option<DateTime<Utc>>) -> AppResult<()> {
    if next_due(app).await? == next {
        return Ok(());
    }
    db::meta::set_next_scheduled(app.db().write(), next.map(|d| d.timestamp_millis())).await?;
    app.schedule_changed().notify_one();
    Ok(())
}

/// When the next scheduled post is due, as the last sync (of any process) noted.
pub async fn next_due(app: &App) -> AppResult<Option<DateTime<Utc>>> {
    Ok(db::meta::next_scheduled(app.db().write())
        .await?
        .and_then(DateTime::from_timestamp_millis))
}

/// Stores an author from the content folder (profile and a new key pair) without
/// publishing anything: what `fedblog password` needs on a site never synced. Their
/// posts wait for the next sync, as ever.
pub async fn add_author(app: &App, handle: &Handle) -> AppResult<()> {
    let root = app.config().content.clone();
    let uris = app.uris().clone();
    let language = app.config().site_language.clone();
    let toml = root.join(handle.as_str()).join("author.toml");
    let scan = tokio::task::spawn_blocking(move || {
        let site = content::Site {
            uris: &uris,
            language: &language,
        };
        let changed = HashSet::from([toml]);
        content::scan_changes(&root, &site, &HashMap::new(), Some(&changed))
    })
    .await
    .context("the content scan panicked")?;
    let Some(author) = scan.authors.iter().find(|a| &a.handle == handle) else {
        let why = scan
            .errors
            .first()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        return Err(AppError::NotFound(format!(
            "no author `{handle}` on this server or in the content folder{why}: \
             create {handle}/author.toml there (`fedblog init` writes one)"
        )));
    };
    sync_profile(app, author, &mut SyncReport::default()).await
}

#[tracing::instrument(skip_all, fields(author = %author.handle))]
async fn sync_author(
    app: &App,
    author: &AuthorContent,
    first_sync: bool,
    report: &mut SyncReport,
) -> AppResult<()> {
    sync_profile(app, author, report).await?;
    let stored = stored_rows(app, author).await?;
    let present = present_paths(author, &stored);
    let matched = sync_posts(app, author, &stored, &present, first_sync, report).await?;
    // A stored post whose file is gone (and not renamed) is deleted.
    for row in stored.iter().filter(|r| {
        r.deleted_at.is_none()
            && !matched.contains(&r.id)
            && !present.contains(r.source_path.as_str())
    }) {
        remove(app, &author.handle, row.id, report).await?;
    }
    Ok(())
}

/// Creates the author with a new key pair, or, when what followers see of the
/// profile changed, updates it and queues `Update{Person}` in the same transaction.
async fn sync_profile(app: &App, author: &AuthorContent, report: &mut SyncReport) -> AppResult<()> {
    let handle = &author.handle;
    let p = &author.profile;
    let profile_hash = profile_hash(author)?;
    let values = ProfileValues {
        name: &p.name,
        bio_html: &p.bio_html,
        fields: &p.fields,
        avatar_file: p.avatar.as_ref().map(|(f, _)| f.as_str()),
        avatar_media_type: p.avatar.as_ref().map(|(_, m)| *m),
        header_file: p.header.as_ref().map(|(f, _)| f.as_str()),
        header_media_type: p.header.as_ref().map(|(_, m)| *m),
        default_kind: p.default_kind,
        also_known_as: &p.also_known_as,
        profile_hash: &profile_hash,
    };
    let now = db::now_ms();
    match db::authors::get(app.db().write(), handle).await? {
        None => {
            // Key generation is CPU work; keep it off the async workers.
            let (public, private) = tokio::task::spawn_blocking(signatures::generate_keypair)
                .await
                .context("generating a key pair")??;
            db::authors::insert(app.db().write(), handle, &values, &public, &private, now).await?;
            report.authors_added += 1;
            tracing::info!(author = %handle, "author created with a new key pair");
        }
        Some(row) if row.profile_hash != profile_hash => {
            // Followers' servers show the new name, bio and images after an Update.
            let mut tx = app.db().begin().await?;
            db::authors::update_profile(&mut tx, handle, &values, now).await?;
            let (id, queued) =
                crate::service::identity::announce_profile(&mut tx, app, handle, now).await?;
            tx.commit().await?;
            report.deliveries_queued += queued;
            report.activities.push(id);
            tracing::info!(author = %handle, "profile updated");
        }
        Some(_) => {}
    }
    Ok(())
}

/// The hash of everything followers see of a profile, the images' bytes included
/// (replacing one must reach followers).
fn profile_hash(author: &AuthorContent) -> AppResult<String> {
    let p = &author.profile;
    let fields_json = serde_json::to_string(&p.fields).context("profile fields as JSON")?;
    let also_known_as_json =
        serde_json::to_string(&p.also_known_as).context("profile aliases as JSON")?;
    let kind = p.default_kind.map(|k| k.as_str());
    let avatar_file = p.avatar.as_ref().map(|(f, _)| f.as_str());
    let header_file = p.header.as_ref().map(|(f, _)| f.as_str());
    let read = |f: Option<&str>| {
        f.and_then(|f| std::fs::read(author.dir.join(f)).ok())
            .unwrap_or_default()
    };
    let (avatar_bytes, header_bytes) = (read(avatar_file), read(header_file));
    let mut hashed: Vec<&[u8]> = vec![
        p.name.as_bytes(),
        p.bio_html.as_bytes(),
        fields_json.as_bytes(),
        kind.unwrap_or_default().as_bytes(),
        avatar_file.unwrap_or_default().as_bytes(),
        &avatar_bytes,
        header_file.unwrap_or_default().as_bytes(),
        &header_bytes,
    ];
    // Only when set, so profiles stored before aliases existed keep their hash and an
    // upgrade does not send every follower an Update.
    if !p.also_known_as.is_empty() {
        hashed.push(also_known_as_json.as_bytes());
    }
    Ok(crate::domain::hash_hex(&hashed))
}

/// The stored rows the folder is compared against: all of the author's, or, when only
/// the watcher's changed files were read, only theirs and the rows whose slugs they
/// take (for renames).
async fn stored_rows(app: &App, author: &AuthorContent) -> AppResult<Vec<PostIndexRow>> {
    Ok(match &author.changed {
        None => db::posts::index_of_author(app.db().write(), &author.handle).await?,
        Some(paths) => {
            let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
            let slugs: Vec<&Slug> = author.posts.iter().map(|p| &p.slug).collect();
            db::posts::index_of_files(app.db().write(), &author.handle, &paths, &slugs).await?
        }
    })
}

/// Source paths present in the folder now, loadable or not. A scan of changed files
/// listed only those: the few stored rows compared against are looked for on disk.
fn present_paths<'a>(author: &'a AuthorContent, stored: &'a [PostIndexRow]) -> HashSet<&'a str> {
    let mut present: HashSet<&str> = author
        .posts
        .iter()
        .map(|p| p.source_path.as_str())
        .chain(author.unsettled.iter().map(String::as_str))
        .chain(author.unchanged.iter().map(String::as_str))
        .collect();
    if author.changed.is_some() {
        present.extend(
            stored
                .iter()
                .filter(|r| author.dir.join(&r.source_path).is_file())
                .map(|r| r.source_path.as_str()),
        );
    }
    present
}

/// Publishes new posts and posts back from deletion, edits changed ones, and notes
/// re-saved ones; returns the ids of the stored rows matched to a file (by path, or by
/// slug after a rename).
async fn sync_posts(
    app: &App,
    author: &AuthorContent,
    stored: &[PostIndexRow],
    present: &HashSet<&str>,
    first_sync: bool,
    report: &mut SyncReport,
) -> AppResult<HashSet<i64>> {
    let handle = &author.handle;
    // Looked up once per file: scanning the list would be quadratic in the posts.
    let unchanged: HashSet<&str> = author.unchanged.iter().map(String::as_str).collect();
    let by_path: HashMap<&str, &PostIndexRow> =
        stored.iter().map(|r| (r.source_path.as_str(), r)).collect();
    let by_slug: HashMap<&str, &PostIndexRow> =
        stored.iter().map(|r| (r.slug.as_str(), r)).collect();
    let mut matched: HashSet<i64> = stored
        .iter()
        .filter(|r| unchanged.contains(r.source_path.as_str()))
        .map(|r| r.id)
        .collect();
    report.unchanged += author.unchanged.len();
    for post in &author.posts {
        let existing = match by_path.get(post.source_path.as_str()) {
            Some(row) => Some((*row).clone()),
            None => match by_slug.get(post.slug.as_str()) {
                // The file was renamed (its slug kept): the post keeps its identity.
                Some(other) if !present.contains(other.source_path.as_str()) => {
                    db::posts::set_source_path(app.db().write(), other.id, &post.source_path)
                        .await?;
                    Some(PostIndexRow {
                        source_path: post.source_path.clone(),
                        ..(*other).clone()
                    })
                }
                Some(other) => {
                    report.errors.push(slug_taken(author, post, other));
                    continue;
                }
                None => None,
            },
        };
        let Some(row) = existing else {
            let kind = post.kind(None);
            let hash = post.source_hash(kind);
            let v = values(post, kind, &hash);
            publish(app, handle, post, &v, None, first_sync, report).await?;
            continue;
        };
        matched.insert(row.id);
        // A stored post keeps the type it was federated as unless its file names one.
        let kind = post.kind(Some(row.kind));
        let hash = post.source_hash(kind);
        let v = values(post, kind, &hash);
        if row.deleted_at.is_some() {
            publish(app, handle, post, &v, Some(row.id), first_sync, report).await?;
        } else if row.source_hash != hash {
            edit(app, handle, &v, &post.mentions, row.id, report).await?;
        } else {
            // Re-saved, or rendered anew, without a change that shows: skip the file
            // next time.
            let (html, lang) = (&post.federated_html, &post.lang);
            db::posts::set_file_hash(app.db().write(), row.id, &post.file_hash, html, lang).await?;
            report.unchanged += 1;
        }
    }
    Ok(matched)
}

/// A post whose slug another file's post already has: URLs never change.
fn slug_taken(author: &AuthorContent, post: &PostSource, other: &PostIndexRow) -> ContentError {
    ContentError::new(
        &author.dir.join(&post.source_path),
        None,
        Some("slug"),
        format!(
            "slug `{}` already belongs to {}; post URLs never change, so give this post another `slug`",
            post.slug, other.source_path
        ),
    )
}

/// The stored file hashes a sync of `changed` needs: of the changed posts, or of a
/// whole author when a profile or image of theirs changed (then their folder is read).
async fn known_of_changed(
    app: &App,
    changed: &HashSet<PathBuf>,
) -> AppResult<Vec<(String, String, String)>> {
    let root = &app.config().content;
    let mut by_author: HashMap<String, Option<Vec<String>>> = HashMap::new();
    for path in changed {
        let Ok(rel) = path.strip_prefix(root) else {
            continue;
        };
        let parts: Vec<&str> = rel.iter().filter_map(|p| p.to_str()).collect();
        let Some(author) = parts.first() else {
            continue;
        };
        let entry = by_author
            .entry((*author).to_owned())
            .or_insert_with(|| Some(Vec::new()));
        match (parts.as_slice(), entry.as_mut()) {
            ([_, file], Some(files)) if file.ends_with(".md") => files.push((*file).to_owned()),
            _ => *entry = None,
        }
    }
    let mut rows = Vec::new();
    for (author, files) in by_author {
        // A folder that is not a handle holds no posts.
        let Ok(author) = Handle::parse(&author) else {
            continue;
        };
        let files: Option<Vec<&str>> = files
            .as_ref()
            .map(|f| f.iter().map(String::as_str).collect());
        rows.extend(db::posts::file_hashes_of(app.db().write(), &author, files.as_deref()).await?);
    }
    Ok(rows)
}

/// What is stored of a post federating as `kind`, with its source hash as that kind.
fn values<'a>(post: &'a PostSource, kind: PostKind, hash: &'a str) -> PostValues<'a> {
    PostValues {
        kind,
        title: post.title.as_deref(),
        excerpt: post.excerpt.as_deref(),
        content_html: &post.content_html,
        federated_html: &post.federated_html,
        lang: &post.lang,
        tags: &post.tags,
        attachments: &post.attachments,
        written_at: post.date.timestamp_millis(),
        source_hash: hash,
        file_hash: &post.file_hash,
        quote_policy: post.quote_policy,
    }
}

/// Publishes a new post, or one coming back after deletion, and queues its Create.
async fn publish(
    app: &App,
    handle: &Handle,
    post: &PostSource,
    v: &PostValues<'_>,
    returning: Option<i64>,
    first_sync: bool,
    report: &mut SyncReport,
) -> AppResult<()> {
    let now = db::now_ms();
    let written = post.date.timestamp_millis();
    // An old date would keep the post off followers' home timelines; it federates as
    // published now, while the page keeps the written date. The first sync sends
    // nothing, so there the written date stands.
    let published_at = if !first_sync && written < now - HOME_TIMELINE_WINDOW_MS {
        now
    } else {
        written.min(now)
    };
    let mut tx = app.db().begin().await?;
    let id = match returning {
        Some(id) => {
            db::posts::update(&mut tx, id, v, published_at, None).await?;
            id
        }
        None => {
            db::posts::insert(
                &mut tx,
                handle,
                &post.source_path,
                &post.slug,
                v,
                published_at,
            )
            .await?
        }
    };
    db::posts::set_mentions(&mut tx, id, &post.mentions).await?;
    if !first_sync {
        let row = stored_post(&mut tx, id).await?;
        fan_out(
            &mut tx,
            &outgoing::create(app.uris(), &row),
            &row,
            now,
            report,
        )
        .await?;
    }
    tx.commit().await?;
    report.published += 1;
    tracing::info!(author = %handle, slug = %post.slug, "published");
    Ok(())
}

/// Queues an activity about `post` to every follower and every account the post
/// mentions, inside the change's transaction.
async fn fan_out(
    tx: &mut db::Tx,
    activity: &Outgoing,
    post: &PostRow,
    now: i64,
    report: &mut SyncReport,
) -> AppResult<()> {
    let inboxes = mention_inboxes(tx, &post.mentions).await?;
    let audience = Audience::FollowersAnd(&inboxes);
    let (id, queued) = db::outbox::queue(tx, activity, audience, now).await?;
    report.deliveries_queued += queued;
    report.activities.push(id);
    Ok(())
}

/// The inboxes of the remote accounts `mentions` names (app notes use it too).
pub async fn mention_inboxes(
    tx: &mut db::Tx,
    mentions: &[crate::domain::Mention],
) -> AppResult<Vec<url::Url>> {
    let mut inboxes = Vec::new();
    for m in mentions {
        let Ok(actor) = url::Url::parse(&m.actor) else {
            continue;
        };
        // Our own authors are mentioned without a delivery.
        if let Some(a) = db::remote_actors::get(&mut *tx, &actor).await? {
            let a: crate::federation::remote_actor::RemoteActor = a.into();
            inboxes.push(a.delivery_inbox().clone());
        }
    }
    Ok(inboxes)
}

/// A post row read inside the change's transaction.
async fn stored_post(tx: &mut db::Tx, id: i64) -> AppResult<PostRow> {
    db::posts::by_id(&mut *tx, id).await?.ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!("post {id} vanished inside its transaction"))
    })
}

/// Applies an edit and queues its Update.
async fn edit(
    app: &App,
    handle: &Handle,
    v: &PostValues<'_>,
    mentions: &[crate::domain::Mention],
    id: i64,
    report: &mut SyncReport,
) -> AppResult<()> {
    let now = db::now_ms();
    let mut tx = app.db().begin().await?;
    let row = stored_post(&mut tx, id).await?;
    db::posts::update(&mut tx, row.id, v, row.published_at, Some(now)).await?;
    db::posts::set_mentions(&mut tx, row.id, mentions).await?;
    let updated = stored_post(&mut tx, id).await?;
    fan_out(
        &mut tx,
        &outgoing::update(app.uris(), &updated),
        &updated,
        now,
        report,
    )
    .await?;
    tx.commit().await?;
    report.updated += 1;
    tracing::info!(author = %handle, slug = %row.slug, "updated");
    Ok(())
}

/// Marks a post deleted (its URL answers 410 from now on) and queues its Delete.
async fn remove(app: &App, handle: &Handle, id: i64, report: &mut SyncReport) -> AppResult<()> {
    let now = db::now_ms();
    let mut tx = app.db().begin().await?;
    let row = stored_post(&mut tx, id).await?;
    db::posts::mark_deleted(&mut tx, row.id, now).await?;
    let deleted = PostRow {
        deleted_at: Some(now),
        ..row.clone()
    };
    fan_out(
        &mut tx,
        &outgoing::delete(app.uris(), &deleted),
        &deleted,
        now,
        report,
    )
    .await?;
    tx.commit().await?;
    report.deleted += 1;
    tracing::info!(author = %handle, slug = %row.slug, "deleted");
    Ok(())
}
