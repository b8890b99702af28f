//! Reads the content folder: one folder per author (`content/<handle>/`) holding
//! `author.toml`, an avatar and Markdown posts with YAML front matter.
//! Pure reading and rendering; `service::sync` writes the result to the database.

mod federated;
mod highlight;
mod markdown;
mod mentions;
mod new_post;
mod post;
mod profile;
mod status_text;
mod text;

use std::{
    collections::{HashMap, HashSet},
    fmt,
    path::{Path, PathBuf},
};

pub use markdown::render_markdown;
pub use mentions::Mentioned;
pub use new_post::new_post;
pub use post::local_media;
pub use post::{FEDERATED_BODY_MAX_BYTES, PostSource};
pub use profile::Profile;
pub use profile::image_media_type;
pub use status_text::{StatusText, render as render_status_text};
pub use text::{plain_text, reading_minutes, summary};

use chrono::{DateTime, Utc};

use crate::{
    domain::{Handle, Lang},
    uris::Uris,
};

/// What rendering needs to know of the site: its URLs (images beside posts, links made
/// absolute in what federates) and the language of posts that name none.
#[derive(Debug, Clone, Copy)]
pub struct Site<'a> {
    pub uris: &'a Uris,
    pub language: &'a Lang,
}

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
    /// Source paths of stored posts whose files are unchanged: nothing to do.
    pub unchanged: Vec<String>,
    /// When only the watcher's changed files were read: their source paths (some may
    /// be gone); the folder's other files are then in none of these lists. `None` when
    /// the whole folder was compared.
    pub changed: Option<Vec<String>>,
}

/// What the database already holds, so a scan can skip unchanged files: for each
/// author, the file hash of every live post by source path.
pub type Known = HashMap<String, HashMap<String, String>>;

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

/// Who may quote, as `quotes` says it in author.toml and front matter.
fn quote_policy(value: &str) -> Result<crate::domain::QuotePolicy, String> {
    crate::domain::QuotePolicy::parse(value.trim()).map_err(|_| {
        format!("`{value}` is not who may quote the posts: use `anyone`, `followers` or `nobody`")
    })
}

/// Reads every author folder. A broken post or profile is reported and skipped;
/// the rest still loads.
pub fn scan(root: &Path, site: &Site<'_>) -> Scan {
    scan_changes(root, site, &Known::new(), None)
}

/// [`scan`] that skips what is already stored: files whose hash is in `known` are not
/// parsed again. With `changed` (the watcher's paths), only authors with a changed
/// file are read, and of those only the changed posts, unless a file other than a
/// post changed (a profile, an image): then all of that author's.
pub fn scan_changes(
    root: &Path,
    site: &Site<'_>,
    known: &Known,
    changed: Option<&HashSet<PathBuf>>,
) -> Scan {
    scan_at(root, site, known, changed, Utc::now())
}

/// [`scan`] as of `now`: posts dated later are scheduled, not published.
pub fn scan_at(
    root: &Path,
    site: &Site<'_>,
    known: &Known,
    changed: Option<&HashSet<PathBuf>>,
    now: DateTime<Utc>,
) -> Scan {
    let mut scan = Scan::default();
    let dirs = match std::fs::read_dir(root) {
        Ok(entries) => {
            let mut dirs: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect();
            dirs.sort();
            dirs
        }
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
    for dir in dirs {
        let hidden = dir
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        let Some(reading) = reading_of(&dir, changed) else {
            continue;
        };
        if let Some(author) = read_author(dir, reading, site, known, now, &mut scan.errors) {
            scan.authors.push(author);
        }
    }
    scan
}

/// Which files of an author's folder to read: all of them, or (a partial scan whose
/// changes there are all posts) only the changed ones; `None` when a partial scan has
/// nothing changed in it.
fn reading_of<'a>(dir: &Path, changed: Option<&'a HashSet<PathBuf>>) -> Option<post::Reading<'a>> {
    let Some(paths) = changed else {
        return Some(post::Reading::All);
    };
    let mut mine = paths.iter().filter(|p| p.starts_with(dir)).peekable();
    mine.peek()?;
    Some(
        match mine.all(|p| p.extension().is_some_and(|e| e == "md")) {
            true => post::Reading::Only(paths),
            false => post::Reading::All,
        },
    )
}

/// One author's folder: its handle (the folder's name), profile and posts. `None`
/// (and an error) when the name is not a handle or the profile does not load.
fn read_author(
    dir: PathBuf,
    reading: post::Reading<'_>,
    site: &Site<'_>,
    known: &Known,
    now: DateTime<Utc>,
    errors: &mut Vec<ContentError>,
) -> Option<AuthorContent> {
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let handle = match Handle::parse(name) {
        Ok(h) => h,
        Err(e) => {
            errors.push(ContentError::new(
                &dir,
                None,
                None,
                format!("author folder name: {e}"),
            ));
            return None;
        }
    };
    let profile = match profile::read(&dir.join("author.toml"), &dir) {
        Ok(p) => p,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    let no_posts = HashMap::new();
    let author = post::AuthorDir {
        dir: &dir,
        handle: &handle,
        profile: &profile,
    };
    let folder = post::read_all(
        author,
        site,
        now,
        known.get(handle.as_str()).unwrap_or(&no_posts),
        reading,
        errors,
    );
    let changed = match reading {
        post::Reading::All => None,
        post::Reading::Only(paths) => Some(
            paths
                .iter()
                .filter(|p| p.parent() == Some(dir.as_path()))
                .filter_map(|p| Some(p.file_name()?.to_str()?.to_owned()))
                .collect(),
        ),
    };
    Some(AuthorContent {
        handle,
        dir,
        profile,
        posts: folder.posts,
        unsettled: folder.unsettled,
        scheduled: folder.scheduled,
        unchanged: folder.unchanged,
        changed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_of(root: &Path, known: &Known, changed: Option<&HashSet<PathBuf>>) -> Scan {
        let uris = Uris::new("https", "b.example");
        let site = Site {
            uris: &uris,
            language: &Lang::default(),
        };
        scan_changes(root, &site, known, changed)
    }

    /// What a sync would store after this scan: the file hash of every post.
    fn known_after(scan: &Scan) -> Known {
        let mut known = Known::new();
        for a in &scan.authors {
            for p in &a.posts {
                known
                    .entry(a.handle.to_string())
                    .or_default()
                    .insert(p.source_path.clone(), p.file_hash.clone());
            }
        }
        known
    }

    #[test]
    fn unchanged_files_are_recognised_by_hash_and_not_parsed() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("ann");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("author.toml"), "name = \"Ann\"\n").unwrap();
        let post = |name: &str, body: &str| {
            std::fs::write(
                dir.join(name),
                format!("---\ntitle: \"{name}\"\ndate: 2025-01-01\n---\n{body}\n"),
            )
            .unwrap()
        };
        post("one.md", "One.");
        post("two.md", "Two.");
        let first = scan_of(root.path(), &Known::new(), None);
        assert_eq!(first.authors[0].posts.len(), 2);
        let known = known_after(&first);

        let again = scan_of(root.path(), &known, None);
        assert!(again.authors[0].posts.is_empty());
        assert_eq!(again.authors[0].unchanged, ["one.md", "two.md"]);

        post("two.md", "Two, edited.");
        let edited = scan_of(root.path(), &known, None);
        let parsed: Vec<&str> = edited.authors[0]
            .posts
            .iter()
            .map(|p| p.source_path.as_str())
            .collect();
        assert_eq!(parsed, ["two.md"]);

        // A new image may be one a post shows: every post is rendered again.
        std::fs::write(dir.join("pic.png"), b"not really a png").unwrap();
        let with_image = scan_of(root.path(), &known, None);
        assert_eq!(with_image.authors[0].posts.len(), 2);
    }

    #[test]
    fn a_scan_of_changed_files_reads_only_those() {
        let root = tempfile::tempdir().unwrap();
        for handle in ["ann", "ben"] {
            let dir = root.path().join(handle);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("author.toml"), "name = \"X\"\n").unwrap();
            std::fs::write(
                dir.join("a.md"),
                "---\ntitle: A\ndate: 2025-01-01\n---\nA.\n",
            )
            .unwrap();
        }
        let known = known_after(&scan_of(root.path(), &Known::new(), None));
        let ann = root.path().join("ann");
        std::fs::write(
            ann.join("a.md"),
            "---\ntitle: A\ndate: 2025-01-01\n---\nA, edited.\n",
        )
        .unwrap();
        // Broken, but not among the changed files: left alone.
        std::fs::write(ann.join("b.md"), "no front matter").unwrap();
        let changed = HashSet::from([ann.join("a.md")]);
        let partial = scan_of(root.path(), &known, Some(&changed));
        assert_eq!(partial.authors.len(), 1, "ben has no changed file");
        assert_eq!(partial.authors[0].posts.len(), 1);
        assert!(partial.errors.is_empty(), "{:?}", partial.errors);
        assert!(partial.authors[0].unsettled.is_empty(), "b.md is not read");
        // A changed profile reads the author's whole folder.
        let changed = HashSet::from([ann.join("author.toml")]);
        let whole = scan_of(root.path(), &known, Some(&changed));
        assert_eq!(whole.errors.len(), 1);
    }
}
