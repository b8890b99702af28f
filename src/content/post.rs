use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::mentions::{self, Mentioned};
use super::{
    ContentError, Profile, Site, markdown::render_post, profile::image_media_type, text::summary,
};
use crate::domain::{
    Acct, Attachment, Handle, Lang, Mention, PostKind, QuotePolicy, Slug, Tag, escape_html,
    hash_hex,
};

/// The largest federated body sent whole, in bytes. Misskey refuses inbox bodies over
/// 64 KiB (docs/RENDERING.md), and a Create carries the body twice (`content` and
/// `contentMap`) besides the envelope, tags and attachments; a longer post federates as
/// its excerpt (or lead) and a link to the page.
pub const FEDERATED_BODY_MAX_BYTES: usize = 24 * 1024;
/// How much of a long post's beginning federates when it has no excerpt, in bytes.
const LEAD_BYTES: usize = 1_500;

/// A post read from a Markdown file and rendered, ready to be stored.
#[derive(Debug, Clone)]
pub struct PostSource {
    /// Path relative to the author's folder: the post's identity across syncs.
    pub source_path: String,
    pub slug: Slug,
    /// The type the front matter asks for, if it does.
    pub declared_kind: Option<PostKind>,
    /// The type of a post published for the first time without `type`: the author's
    /// `default_type`, else Note.
    pub default_kind: PostKind,
    pub title: Option<String>,
    pub excerpt: Option<String>,
    /// As the page shows it.
    pub content_html: String,
    /// As it federates (see `federated.rs`), the title not included.
    pub federated_html: String,
    /// Whether `federated_html` is only the excerpt or lead of a long post.
    pub federated_shortened: bool,
    /// The front matter's `lang`, else the site's language.
    pub lang: Lang,
    /// The front matter's `lang`, if any (only that is part of the hash: a change of
    /// the site's language is not worth an Update of every post).
    pub declared_lang: Option<Lang>,
    pub tags: Vec<Tag>,
    pub date: DateTime<Utc>,
    /// Images the post shows, sent as `attachment` (Mastodon drops inline images).
    pub attachments: Vec<Attachment>,
    /// Hash of the file and of what its rendering depends on (see [`Known`]): equal
    /// hashes mean the file need not be read again.
    pub file_hash: String,
    /// Who may quote it: the front matter's `quotes`, else the author's, else anyone.
    pub quote_policy: QuotePolicy,
    /// `@user@server` as written, marked in the HTML until [`Self::link_mentions`].
    pub mentioned: Vec<Mentioned>,
    /// The accounts the post mentions, once linked.
    pub mentions: Vec<Mention>,
}

#[derive(Deserialize)]
struct FrontMatter {
    title: Option<Spanned<String>>,
    date: Option<Spanned<String>>,
    excerpt: Option<String>,
    #[serde(default)]
    tags: Vec<Spanned<String>>,
    slug: Option<Spanned<String>>,
    #[serde(default)]
    draft: bool,
    #[serde(rename = "type")]
    kind: Option<Spanned<String>>,
    lang: Option<Spanned<String>>,
    quotes: Option<Spanned<String>>,
}

/// Where a post is in its life, as its file says.
pub(super) enum Parsed {
    Post(Box<PostSource>),
    Draft,
}

/// What an author's folder holds, sorted by what sync does with it.
#[derive(Debug, Default)]
pub(super) struct Folder {
    /// Posts to publish now.
    pub posts: Vec<PostSource>,
    /// Source paths of drafts, scheduled posts and broken files: sync must not
    /// delete their stored versions.
    pub unsettled: Vec<String>,
    /// Posts dated after `now`, with their dates: published when the date comes.
    pub scheduled: Vec<(String, DateTime<Utc>)>,
    /// Source paths of stored posts whose files did not change: left unread.
    pub unchanged: Vec<String>,
}

/// Which files of an author's folder a scan reads.
#[derive(Debug, Clone, Copy)]
pub(super) enum Reading<'a> {
    /// Every `*.md`, skipping those whose hash matches the stored one.
    All,
    /// Only these (the watcher's changed files); the others are left as they are.
    Only(&'a HashSet<PathBuf>),
}

/// An author's folder, whose posts [`read_all`] reads.
#[derive(Clone, Copy)]
pub(super) struct AuthorDir<'a> {
    pub dir: &'a Path,
    pub handle: &'a Handle,
    pub profile: &'a Profile,
}

/// Reads the `*.md` files of an author's folder (all, or only the changed ones). A post
/// dated after `now` is scheduled. `known` maps source paths of live stored posts to
/// their file hashes.
pub(super) fn read_all(
    author: AuthorDir<'_>,
    site: &Site<'_>,
    now: DateTime<Utc>,
    known: &HashMap<String, String>,
    reading: Reading<'_>,
    errors: &mut Vec<ContentError>,
) -> Folder {
    let AuthorDir {
        dir,
        handle,
        profile,
    } = author;
    let Some(files) = post_files(dir, reading, errors) else {
        return Folder::default();
    };
    let media_base = site.uris.media_base(handle);
    let context = rendering_context(dir, profile, &media_base, site.language);
    let mut folder = Folder::default();
    let mut slugs: HashMap<String, String> = HashMap::new();
    for path in files {
        let rel = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let file_hash = match std::fs::read(&path) {
            Ok(bytes) => hash_hex(&[context.as_bytes(), &bytes]),
            Err(e) => {
                errors.push(ContentError::new(
                    &path,
                    None,
                    None,
                    format!("cannot read the file: {e}"),
                ));
                folder.unsettled.push(rel);
                continue;
            }
        };
        if known.get(&rel) == Some(&file_hash) {
            folder.unchanged.push(rel);
            continue;
        }
        let page = |slug: &Slug| site.uris.post(handle, slug);
        match read_one(&path, &rel, profile, &media_base, &page, site.language) {
            Ok(Parsed::Post(p)) if p.date > now => {
                folder.scheduled.push((rel.clone(), p.date));
                folder.unsettled.push(rel);
            }
            Ok(Parsed::Post(p)) => {
                let p = PostSource { file_hash, ..*p };
                if let Some(other) = slugs.get(p.slug.as_str()) {
                    errors.push(ContentError::new(
                        &path,
                        None,
                        Some("slug"),
                        format!(
                            "slug `{}` is already used by {other}; give this post another `slug`",
                            p.slug
                        ),
                    ));
                    folder.unsettled.push(rel);
                    continue;
                }
                slugs.insert(p.slug.as_str().to_owned(), rel);
                folder.posts.push(p);
            }
            Ok(Parsed::Draft) => folder.unsettled.push(rel),
            Err(e) => {
                errors.push(e);
                folder.unsettled.push(rel);
            }
        }
    }
    folder
}

/// The post files a scan reads, sorted; `None` (and an error) if the folder cannot
/// be listed.
fn post_files(
    dir: &Path,
    reading: Reading<'_>,
    errors: &mut Vec<ContentError>,
) -> Option<Vec<PathBuf>> {
    let is_post = |p: &Path| p.is_file() && p.extension().is_some_and(|e| e == "md");
    let mut files: Vec<PathBuf> = match reading {
        // The others are left unlisted: listing and testing 10,000 files would cost a
        // one-file sync more than the file itself.
        Reading::Only(changed) => changed
            .iter()
            .filter(|p| p.parent() == Some(dir) && is_post(p))
            .cloned()
            .collect(),
        Reading::All => match std::fs::read_dir(dir) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| is_post(p))
                .collect(),
            Err(e) => {
                errors.push(ContentError::new(
                    dir,
                    None,
                    None,
                    format!("cannot read the author folder: {e}"),
                ));
                return None;
            }
        },
    };
    files.sort();
    Some(files)
}

/// Parses one post file: its front matter, the fields that make the post, the
/// rendered body and its images, and the hash of what federates.
/// `media_base` is the URL under which files in the author's folder are served.
pub(super) fn read_one(
    path: &Path,
    rel: &str,
    profile: &Profile,
    media_base: &str,
    page: &dyn Fn(&Slug) -> String,
    site_language: &Lang,
) -> Result<Parsed, ContentError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ContentError::new(path, None, None, format!("cannot read the file: {e}")))?;
    let (fm, body) = front_matter(path, &text)?;
    if fm.draft {
        return Ok(Parsed::Draft);
    }
    let fields = Fields::of(path, rel, &fm, profile)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let body = strip_title_heading(body, fields.title.as_deref());
    let page = url::Url::parse(&page(&fields.slug)).map_err(|e| {
        ContentError::new(
            path,
            None,
            None,
            format!("the post's URL is not valid: {e}"),
        )
    })?;
    // The file line the body starts on, for warnings about its mentions.
    let first_line = text
        .len()
        .checked_sub(body.len())
        .and_then(|start| text.get(..start))
        .map_or(1, |before| before.matches('\n').count() + 1);
    let body = render_body(dir, body, media_base, &page, first_line);
    if body.html.trim().is_empty() && fields.title.is_none() {
        return Err(ContentError::new(
            path,
            None,
            None,
            "the post has neither a title nor a body",
        ));
    }
    let (federated_html, federated_shortened) =
        federated_body(&body.federated, fields.excerpt.as_deref(), page.as_str());
    Ok(Parsed::Post(Box::new(PostSource {
        source_path: rel.to_owned(),
        slug: fields.slug,
        declared_kind: fields.declared_kind,
        default_kind: fields.default_kind,
        title: fields.title,
        excerpt: fields.excerpt,
        content_html: body.html,
        federated_html,
        federated_shortened,
        lang: fields.lang.clone().unwrap_or_else(|| site_language.clone()),
        declared_lang: fields.lang,
        tags: fields.tags,
        date: fields.date,
        attachments: body.attachments,
        file_hash: String::new(),
        quote_policy: fields.quote_policy,
        mentioned: body.mentioned,
        mentions: Vec::new(),
    })))
}

/// The YAML front matter and the Markdown body after it.
fn front_matter<'t>(path: &Path, text: &'t str) -> Result<(FrontMatter, &'t str), ContentError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (yaml, body) = split_front_matter(text).ok_or_else(|| {
        ContentError::new(path, Some(1), None, "a post starts with YAML front matter between two `---` lines (title, date, excerpt, tags)")
    })?;
    let fm = serde_saphyr::from_str(yaml).map_err(|e| {
        let line = e.location().and_then(|l| file_line(l.line()));
        let message = e.without_snippet().to_string();
        let message = message.lines().next().unwrap_or("invalid YAML").to_owned();
        ContentError::new(path, line, None, message)
    })?;
    Ok((fm, body))
}

/// The file line of a front-matter line: the YAML starts on the file's second line.
fn file_line(yaml_line: u64) -> Option<usize> {
    Some(yaml_line as usize + 1)
}

/// What the front matter (and the file name) say about a post.
struct Fields {
    date: DateTime<Utc>,
    title: Option<String>,
    declared_kind: Option<PostKind>,
    default_kind: PostKind,
    lang: Option<Lang>,
    tags: Vec<Tag>,
    slug: Slug,
    excerpt: Option<String>,
    quote_policy: QuotePolicy,
}

impl Fields {
    /// Checks each field; an error names its line and field.
    fn of(
        path: &Path,
        rel: &str,
        fm: &FrontMatter,
        profile: &Profile,
    ) -> Result<Self, ContentError> {
        let err = |line: Option<usize>, field: &str, msg: String| {
            ContentError::new(path, line, Some(field), msg)
        };
        let at = |s: &Spanned<String>| file_line(s.referenced.line());
        let date = match &fm.date {
            Some(d) => parse_date(&d.value).ok_or_else(|| {
                err(
                    at(d),
                    "date",
                    format!(
                        "`{}` is not a date: use YYYY-MM-DD or RFC 3339 (2025-01-15T09:30:00Z)",
                        d.value
                    ),
                )
            })?,
            None => {
                return Err(err(
                    Some(1),
                    "date",
                    "missing: every post needs a `date`".into(),
                ));
            }
        };
        let title = fm
            .title
            .as_ref()
            .map(|t| t.value.trim().to_owned())
            .filter(|t| !t.is_empty());
        let declared_kind = match &fm.kind {
            Some(k) => Some(PostKind::parse(&k.value).map_err(|e| err(at(k), "type", e.0))?),
            None => None,
        };
        // A Note reads well on every server (docs/RENDERING.md); an Article only where
        // the author asks for one.
        let default_kind = profile.default_kind.unwrap_or(PostKind::Note);
        // Mastodon shows an Article as its title and excerpt only: without a title it
        // is blank.
        if declared_kind.unwrap_or(default_kind) == PostKind::Article && title.is_none() {
            return Err(err(
                fm.title.as_ref().map_or(Some(1), at),
                "title",
                "missing: an Article needs a `title` (Mastodon shows only the title and excerpt); add one, or set `type: Note`".into(),
            ));
        }
        let mut tags = Vec::with_capacity(fm.tags.len());
        for t in &fm.tags {
            let tag = Tag::parse(&t.value).map_err(|e| err(at(t), "tags", e.0))?;
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        let slug = match &fm.slug {
            Some(s) => Slug::parse(&s.value).map_err(|e| err(at(s), "slug", e.0))?,
            None => Slug::from_text(rel.trim_end_matches(".md")).map_err(|e| {
                err(
                    None,
                    "slug",
                    format!("cannot derive a slug from the file name: {e}; add a `slug`"),
                )
            })?,
        };
        // `note-<n>` is the URL of a note posted from an app.
        if slug.is_note() {
            let at_slug = fm.slug.as_ref().and_then(at);
            return Err(err(
                at_slug,
                "slug",
                format!("`{slug}` is kept for notes posted from apps; choose another `slug`"),
            ));
        }
        let lang = match &fm.lang {
            Some(l) => Some(Lang::parse(&l.value).map_err(|e| err(at(l), "lang", e.0))?),
            None => None,
        };
        let quote_policy = match &fm.quotes {
            Some(q) => super::quote_policy(&q.value).map_err(|e| err(at(q), "quotes", e))?,
            None => profile.quotes.unwrap_or(QuotePolicy::Anyone),
        };
        let excerpt = fm
            .excerpt
            .as_ref()
            .map(|e| e.trim().to_owned())
            .filter(|e| !e.is_empty());
        Ok(Self {
            date,
            title,
            declared_kind,
            default_kind,
            lang,
            tags,
            slug,
            excerpt,
            quote_policy,
        })
    }
}

/// A post's body rendered for the page and for federation, and its images.
struct Body {
    html: String,
    federated: Vec<String>,
    attachments: Vec<Attachment>,
    mentioned: Vec<Mentioned>,
}

/// The body as HTML, with images beside the post served under `media_base`, and the
/// images it shows as attachments (local ones with their dimensions).
fn render_body(
    dir: &Path,
    body: &str,
    media_base: &str,
    page: &url::Url,
    first_line: usize,
) -> Body {
    let rendered = render_post(
        body,
        |src| local_media(dir, src).map(|file| format!("{media_base}{file}")),
        page,
        first_line,
    );
    let attachments = rendered
        .images
        .iter()
        .filter_map(|img| {
            let local = local_media(dir, &img.written);
            if local.is_none()
                && !img.src.starts_with("https://")
                && !img.src.starts_with("http://")
            {
                return None;
            }
            let (width, height) = local
                .as_ref()
                .and_then(|f| imagesize::size(dir.join(f)).ok())
                .map_or((None, None), |s| {
                    (Some(s.width as u32), Some(s.height as u32))
                });
            Some(Attachment {
                url: img.src.clone(),
                media_type: image_media_type(&img.src).map(str::to_owned),
                alt: img.alt.clone(),
                width,
                height,
            })
        })
        .collect();
    Body {
        html: rendered.html,
        federated: rendered.federated,
        attachments,
        mentioned: rendered.mentions,
    }
}

/// The federated body: every block, or, past [`FEDERATED_BODY_MAX_BYTES`], the excerpt
/// (else the first blocks) and a link to the page; and whether it was shortened.
fn federated_body(blocks: &[String], excerpt: Option<&str>, page: &str) -> (String, bool) {
    let whole: usize = blocks.iter().map(String::len).sum();
    if whole <= FEDERATED_BODY_MAX_BYTES {
        return (blocks.concat(), false);
    }
    let mut out = match excerpt {
        Some(e) => format!("<p>{}</p>\n", escape_html(e)),
        None => {
            let mut lead = String::new();
            for block in blocks {
                if lead.len() + block.len() > LEAD_BYTES {
                    break;
                }
                lead.push_str(block);
            }
            if lead.is_empty() {
                // The first block alone is too long (a huge table or code block).
                let text = summary(&blocks.concat(), 500);
                lead = format!("<p>{}</p>\n", escape_html(&text));
            }
            lead
        }
    };
    out.push_str(&format!(
        "<p><a href=\"{}\">Continue reading</a></p>\n",
        escape_html(page)
    ));
    (out, true)
}

impl PostSource {
    /// Turns each marked mention into a link to the account `resolved` finds (kept in
    /// [`Self::mentions`]), or back into its text; returns the mentions not found.
    pub fn link_mentions(&mut self, resolved: &dyn Fn(&Acct) -> Option<Mention>) -> Vec<Mentioned> {
        let mut linked: Vec<Mention> = Vec::new();
        let mut missing = Vec::new();
        for m in &self.mentioned {
            match resolved(&m.acct) {
                Some(found) if !linked.contains(&found) => linked.push(found),
                Some(_) => {}
                None => missing.push(m.clone()),
            }
        }
        self.content_html = mentions::link(&self.content_html, resolved);
        self.federated_html = mentions::link(&self.federated_html, resolved);
        self.mentions = linked;
        missing
    }

    /// The type this post federates as, given the type it was stored with (if it was):
    /// the front matter's `type`, else the stored one (a post keeps the shape it was
    /// first federated with when the default changes), else the default. A stored
    /// Article that lost its title becomes the default.
    pub fn kind(&self, stored: Option<PostKind>) -> PostKind {
        let titled = self.title.is_some();
        self.declared_kind
            .or(stored.filter(|k| *k != PostKind::Article || titled))
            .unwrap_or(self.default_kind)
    }

    /// The hash of everything about the post that federates when it is of `kind`:
    /// equal hashes, nothing to send. The federated HTML is not in it (it follows from
    /// the same Markdown as the page's, and a better rendering of it is not worth an
    /// Update of every post); a declared language is, only when there is one (so posts
    /// stored before languages keep their hashes).
    pub fn source_hash(&self, kind: PostKind) -> String {
        let tag_names: Vec<&str> = self.tags.iter().map(Tag::as_str).collect();
        let tag_names = tag_names.join(",");
        let attachments = serde_json::to_string(&self.attachments).unwrap_or_default();
        let date = self.date.timestamp_millis().to_le_bytes();
        let mut hashed: Vec<&[u8]> = vec![
            kind.as_str().as_bytes(),
            self.title.as_deref().unwrap_or_default().as_bytes(),
            self.excerpt.as_deref().unwrap_or_default().as_bytes(),
            self.content_html.as_bytes(),
            tag_names.as_bytes(),
            &date,
            attachments.as_bytes(),
        ];
        if let Some(lang) = &self.declared_lang {
            hashed.push(lang.as_str().as_bytes());
        }
        // Only when not the default, so posts stored before quote policies keep their
        // hashes; a change reaches followers as an Update (the document's policy).
        if self.quote_policy != QuotePolicy::Anyone {
            hashed.push(self.quote_policy.as_str().as_bytes());
        }
        hash_hex(&hashed)
    }
}

/// Bumped when rendering changes, so every post is rendered anew once.
const RENDERER_VERSION: &str = "2";

/// What a post's rendering depends on besides its file: the program, the author's
/// default post type, the media URL and the other files in the folder (images whose
/// sizes go into attachments). Part of every file hash.
fn rendering_context(dir: &Path, profile: &Profile, media_base: &str, language: &Lang) -> String {
    let mut others: Vec<(String, u64, u128)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            !(name.ends_with(".md") || name.starts_with('.') || name == "author.toml")
        })
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            let mtime = meta
                .modified()
                .ok()?
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?
                .as_nanos();
            Some((
                e.file_name().to_string_lossy().into_owned(),
                meta.len(),
                mtime,
            ))
        })
        .collect();
    others.sort();
    let listing = format!("{others:?}");
    let mut parts: Vec<&[u8]> = vec![
        RENDERER_VERSION.as_bytes(),
        env!("CARGO_PKG_VERSION").as_bytes(),
        profile
            .default_kind
            .map(|k| k.as_str())
            .unwrap_or_default()
            .as_bytes(),
        media_base.as_bytes(),
        listing.as_bytes(),
        language.as_str().as_bytes(),
    ];
    // The author's `quotes` decides posts that name none: a change re-reads them. Only
    // when set, so an upgrade re-reads no folder.
    if let Some(q) = profile.quotes {
        parts.push(q.as_str().as_bytes());
    }
    hash_hex(&parts)
}

/// A relative image path that names an image file inside the author's folder.
pub fn local_media(dir: &Path, src: &str) -> Option<String> {
    let clean = src.strip_prefix("./").unwrap_or(src);
    let safe = !clean.is_empty()
        && !clean.contains("://")
        && !clean.starts_with('/')
        && clean
            .split('/')
            .all(|part| !part.is_empty() && part != ".." && part != ".");
    (safe && image_media_type(clean).is_some() && dir.join(clean).is_file())
        .then(|| clean.to_owned())
}

/// Splits `---\n<yaml>\n---\n<body>`.
fn split_front_matter(text: &str) -> Option<(&str, &str)> {
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            return Some((&rest[..offset], &rest[offset + line.len()..]));
        }
        offset += line.len();
    }
    None
}

/// Drops a leading `# Title` line when it repeats the front matter's title:
/// the page and the federated object show the title already.
fn strip_title_heading<'a>(body: &'a str, title: Option<&str>) -> &'a str {
    let trimmed = body.trim_start();
    let Some(title) = title else { return body };
    let (first, rest) = trimmed.split_once('\n').unwrap_or((trimmed, ""));
    match first.strip_prefix("# ") {
        Some(h) if h.trim() == title => rest,
        _ => body,
    }
}

fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S") {
        return Some(d.and_utc());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()?
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> Profile {
        Profile {
            name: "A".into(),
            bio_html: String::new(),
            fields: vec![],
            avatar: None,
            header: None,
            default_kind: None,
            also_known_as: vec![],
            quotes: None,
        }
    }

    fn parse(text: &str) -> Result<Parsed, ContentError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("my-post.md");
        std::fs::write(&path, text).unwrap();
        read_one(
            &path,
            "my-post.md",
            &profile(),
            "https://b.example/@a/media/",
            &|slug| format!("https://b.example/@a/{slug}"),
            &Lang::default(),
        )
    }

    #[test]
    fn titled_post_is_a_note_by_default_and_drops_its_repeated_heading() {
        let Parsed::Post(p) = parse("---\ntitle: \"Hi there\"\ndate: 2025-01-15\nexcerpt: e\ntags: [Rust, web]\n---\n\n# Hi there\n\nBody\n").unwrap() else { panic!() };
        assert_eq!(p.kind(None), PostKind::Note);
        assert_eq!(p.kind(Some(PostKind::Article)), PostKind::Article, "pinned");
        assert_eq!(p.slug.as_str(), "my-post");
        assert_eq!(p.content_html.trim(), "<p>Body</p>");
        assert_eq!(
            p.tags.iter().map(Tag::as_str).collect::<Vec<_>>(),
            ["rust", "web"]
        );
    }

    #[test]
    fn untitled_post_is_a_note() {
        let Parsed::Post(p) = parse("---\ndate: 2025-01-15\n---\nJust a thought.\n").unwrap()
        else {
            panic!()
        };
        assert_eq!(p.kind(None), PostKind::Note);
        // A stored Article without a title cannot stay one.
        assert_eq!(p.kind(Some(PostKind::Article)), PostKind::Note);
    }

    #[test]
    fn errors_name_line_and_field() {
        let e = parse("---\ntitle: x\ndate: yesterday\n---\nb\n")
            .err()
            .unwrap();
        assert_eq!((e.line, e.field.as_deref()), (Some(3), Some("date")));
        let e = parse("---\ntitle: x\ndate: 2025-01-01\ntype: Essay\n---\nb\n")
            .err()
            .unwrap();
        assert_eq!((e.line, e.field.as_deref()), (Some(4), Some("type")));
        let e = parse("---\ntitle: x\n---\nb\n").err().unwrap();
        assert_eq!(e.field.as_deref(), Some("date"));
        let e = parse("no front matter").err().unwrap();
        assert_eq!(e.line, Some(1));
    }

    #[test]
    fn drafts_are_not_posts() {
        assert!(matches!(
            parse("---\ntitle: x\ndate: 2025-01-01\ndraft: true\n---\nb\n").unwrap(),
            Parsed::Draft
        ));
    }
}
