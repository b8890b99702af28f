//! Reads the content folder: one folder per author (`content/<handle>/`) holding
//! `author.toml`, an avatar and Markdown posts with YAML front matter.
//! Pure reading and rendering; `service::sync` writes the result to the database.

mod highlight;
mod markdown;
mod new_post;
mod post;
mod profile;
mod text;

use std::{
    fmt,
    path::{Path, PathBuf},
};

pub use markdown::{escape_html, render_markdown};
pub use new_post::new_post;
pub use post::PostSource;
pub use post::local_media;
pub use profile::image_media_type;
pub use profile::{Profile, ProfileField};
pub use text::{plain_text, reading_minutes, summary};

use chrono::{DateTime, Utc};

use crate::domain::Handle;

/// A problem in one content file, pointing at the line and field to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for ContentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(": ")?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ContentError {}

impl ContentError {
    pub(crate) fn new(
        file: &Path,
        line: Option<usize>,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: file.to_owned(),
            line,
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }
}

/// An image a post shows, as federated in `attachment`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    pub url: String,
    pub media_type: Option<String>,
    /// Alt text.
    pub alt: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// One author's folder, read and rendered.
#[derive(Debug)]
pub struct AuthorContent {
    pub handle: Handle,
    pub dir: PathBuf,
    pub profile: Profile,
    /// Published posts; drafts are left out.
    pub posts: Vec<PostSource>,
    /// Source paths (relative to `dir`) of drafts, scheduled posts and posts that
    /// failed to load. Sync leaves their stored versions alone instead of deleting them.
    pub unsettled: Vec<String>,
    /// Posts dated in the future (source path, date): published when the date comes.
    pub scheduled: Vec<(String, DateTime<Utc>)>,
}

/// Everything found in the content folder, and every problem met on the way.
#[derive(Debug, Default)]
pub struct Scan {
    pub authors: Vec<AuthorContent>,
    pub errors: Vec<ContentError>,
}

impl Scan {
    /// The earliest date of a scheduled post: when the next sync must run.
    pub fn next_scheduled(&self) -> Option<DateTime<Utc>> {
        self.authors
            .iter()
            .flat_map(|a| a.scheduled.iter().map(|(_, date)| *date))
            .min()
    }
}

/// Reads every author folder. A broken post or profile is reported and skipped;
/// the rest still loads. `media_base` gives the URL (ending in `/`) under which an
/// author's folder is served, for images placed beside posts.
pub fn scan(root: &Path, media_base: &dyn Fn(&Handle) -> String) -> Scan {
    scan_at(root, media_base, Utc::now())
}

/// [`scan`] as of `now`: posts dated later are scheduled, not published.
pub fn scan_at(root: &Path, media_base: &dyn Fn(&Handle) -> String, now: DateTime<Utc>) -> Scan {
    let mut scan = Scan::default();
    let entries = match std::fs::read_dir(root) {
        Ok(e) => e,
        Err(e) => {
            scan.errors.push(ContentError::new(
                root,
                None,
                None,
                format!("cannot read the content folder: {e}"),
            ));
            return scan;
        }
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if name.starts_with('.') {
            continue;
        }
        let handle = match Handle::parse(&name) {
            Ok(h) => h,
            Err(e) => {
                scan.errors.push(ContentError::new(
                    &dir,
                    None,
                    None,
                    format!("author folder name: {e}"),
                ));
                continue;
            }
        };
        let profile_path = dir.join("author.toml");
        let profile = match profile::read(&profile_path, &dir) {
            Ok(p) => p,
            Err(e) => {
                scan.errors.push(e);
                continue;
            }
        };
        let folder = post::read_all(&dir, &profile, &media_base(&handle), now, &mut scan.errors);
        scan.authors.push(AuthorContent {
            handle,
            dir,
            profile,
            posts: folder.posts,
            unsettled: folder.unsettled,
            scheduled: folder.scheduled,
        });
    }
    scan
}

/// Hex SHA-256 of some bytes: how content changes are recognised.
pub fn hash_hex(parts: &[&[u8]]) -> String {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for p in parts {
        ctx.update(&(p.len() as u64).to_le_bytes());
        ctx.update(p);
    }
    ctx.finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
