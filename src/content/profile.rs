use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::{ContentError, render_markdown};
use crate::domain::{PostKind, ProfileField, QuotePolicy, escape_html};

/// An author's profile, from `content/<handle>/author.toml`.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub bio_html: String,
    pub fields: Vec<ProfileField>,
    /// File name of the avatar inside the author's folder, and its media type.
    pub avatar: Option<(String, &'static str)>,
    /// The banner shown atop the author's page (the actor's `image`), likewise.
    pub header: Option<(String, &'static str)>,
    /// Overrides the title-based choice of Article or Note for every post.
    pub default_kind: Option<PostKind>,
    /// Actor ids of the author's other accounts (`alsoKnownAs`): a Mastodon account
    /// whose followers may move here lists this author, and this lists it.
    pub also_known_as: Vec<String>,
    /// Who may quote the author's posts unless a post says otherwise (`quotes`).
    pub quotes: Option<QuotePolicy>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: Spanned<String>,
    #[serde(default)]
    bio: String,
    avatar: Option<Spanned<String>>,
    header: Option<Spanned<String>>,
    default_type: Option<Spanned<String>>,
    #[serde(default)]
    fields: Vec<RawField>,
    #[serde(default)]
    also_known_as: Vec<Spanned<String>>,
    quotes: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    name: String,
    value: String,
}

pub(super) fn read(path: &Path, dir: &Path) -> Result<Profile, ContentError> {
    let text = read_text(path, dir)?;
    let at = Spans { path, text: &text };
    let raw: RawProfile = toml::from_str(&text).map_err(|e| {
        let line = e.span().map(|s| at.line(s.start));
        ContentError::new(path, line, None, e.message().to_owned())
    })?;
    if raw.name.get_ref().trim().is_empty() {
        return Err(at.err(raw.name.span(), "name", "must not be empty".into()));
    }
    let default_kind = match &raw.default_type {
        Some(t) => {
            Some(PostKind::parse(t.get_ref()).map_err(|e| at.err(t.span(), "default_type", e.0))?)
        }
        None => None,
    };
    let also_known_as = aliases(&raw.also_known_as, &at)?;
    let quotes = match &raw.quotes {
        Some(q) => {
            Some(super::quote_policy(q.get_ref()).map_err(|e| at.err(q.span(), "quotes", e))?)
        }
        None => None,
    };
    let avatar = image(&raw.avatar, "avatar", dir, &at)?;
    let header = image(&raw.header, "header", dir, &at)?;
    let fields = raw
        .fields
        .iter()
        .map(|f| ProfileField {
            name: f.name.clone(),
            value_html: field_value_html(&f.value),
        })
        .collect();
    Ok(Profile {
        name: raw.name.into_inner().trim().to_owned(),
        bio_html: render_markdown(&raw.bio),
        fields,
        avatar,
        header,
        default_kind,
        also_known_as,
        quotes,
    })
}

/// The text of author.toml, or an error that says what to do.
fn read_text(path: &Path, dir: &Path) -> Result<String, ContentError> {
    std::fs::read_to_string(path).map_err(|e| {
        let message = match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "unknown author `{}`: the folder has no author.toml; create it with at least `name = \"...\"`, or move the posts into a known author's folder",
                dir.file_name().unwrap_or_default().to_string_lossy()
            ),
            _ => format!(
                "cannot read the author profile ({e}); every author folder needs an author.toml"
            ),
        };
        ContentError::new(path, None, None, message)
    })
}

/// Errors that name author.toml, the line of a span and the field.
struct Spans<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Spans<'_> {
    fn line(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .lines()
            .count()
            .max(1)
    }

    fn err(&self, span: std::ops::Range<usize>, field: &str, msg: String) -> ContentError {
        ContentError::new(self.path, Some(self.line(span.start)), Some(field), msg)
    }
}

/// An image file beside author.toml, of a type Mastodon accepts, and its media type.
fn image(
    value: &Option<Spanned<String>>,
    field: &str,
    dir: &Path,
    at: &Spans<'_>,
) -> Result<Option<(String, &'static str)>, ContentError> {
    let Some(a) = value else {
        return Ok(None);
    };
    let file = a.get_ref();
    let media_type = image_media_type(file).ok_or_else(|| {
        at.err(
            a.span(),
            field,
            format!("`{file}` must be a PNG, JPEG, GIF or WebP image (Mastodon rejects SVG)"),
        )
    })?;
    if file.contains('/') || file.contains('\\') || !dir.join(file).is_file() {
        return Err(at.err(
            a.span(),
            field,
            format!("`{file}` is not a file in {}", dir.display()),
        ));
    }
    Ok(Some((file.clone(), media_type)))
}

/// The author's other accounts (`also_known_as`): actor URLs.
fn aliases(values: &[Spanned<String>], at: &Spans<'_>) -> Result<Vec<String>, ContentError> {
    values
        .iter()
        .map(|a| match url::Url::parse(a.get_ref()) {
            Ok(u) if matches!(u.scheme(), "https" | "http") && u.host_str().is_some() => {
                Ok(u.to_string())
            }
            _ => Err(at.err(
                a.span(),
                "also_known_as",
                format!(
                    "`{}` is not an actor URL such as https://mastodon.example/users/you (open the profile with ?format=json or search it to see it)",
                    a.get_ref()
                ),
            )),
        })
        .collect()
}

/// Media type of an image file by its extension.
pub fn image_media_type(file: &str) -> Option<&'static str> {
    let ext = file.rsplit_once('.')?.1.to_ascii_lowercase();
    match ext.as_str() {
        "png" => Some("image/png"),
        "jpg" | "jpeg" => Some("image/jpeg"),
        "gif" => Some("image/gif"),
        "webp" => Some("image/webp"),
        _ => None,
    }
}

/// A field value that is a URL becomes a `rel="me"` link, as Mastodon renders
/// verified profile links; anything else is escaped text.
fn field_value_html(value: &str) -> String {
    let v = value.trim();
    if (v.starts_with("https://") || v.starts_with("http://")) && url::Url::parse(v).is_ok() {
        let shown = v
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/');
        format!(
            "<a href=\"{}\" rel=\"me nofollow noopener noreferrer\" target=\"_blank\">{}</a>",
            escape_html(v),
            escape_html(shown)
        )
    } else {
        escape_html(v)
    }
}
