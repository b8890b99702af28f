//! `fedblog new`: a new post file with its front matter filled in.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use chrono::NaiveDate;

use super::ContentError;
use crate::domain::{Handle, Slug};

/// Writes `<root>/<handle>/<slug>.md` for a post titled `title`, dated `today`, with an
/// empty excerpt and tags, and returns its path. Never overwrites a file.
pub fn new_post(
    root: &Path,
    handle: &Handle,
    title: &str,
    today: NaiveDate,
) -> Result<PathBuf, ContentError> {
    let dir = root.join(handle.as_str());
    let err = |path: &Path, msg: String| ContentError::new(path, None, None, msg);
    if !dir.join("author.toml").is_file() {
        return Err(err(
            &dir,
            format!(
                "no author `{handle}`: create {}/author.toml first",
                dir.display()
            ),
        ));
    }
    let title = title.trim();
    let slug = Slug::from_text(title)
        .map_err(|e| err(&dir, format!("cannot make a file name from the title: {e}")))?;
    let path = dir.join(format!("{slug}.md"));
    // A JSON string is a valid YAML double-quoted scalar: quotes and backslashes stay safe.
    let quoted = serde_json::to_string(title).unwrap_or_else(|_| "\"\"".into());
    let text = format!(
        "---\ntitle: {quoted}\ndate: {}\nexcerpt: \"\"\ntags: []\n---\n\n",
        today.format("%Y-%m-%d")
    );
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => err(
                &path,
                "already exists; choose another title or edit that file".into(),
            ),
            _ => err(&path, format!("cannot create the file: {e}")),
        })?;
    file.write_all(text.as_bytes())
        .map_err(|e| err(&path, format!("cannot write the file: {e}")))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{ContentError, post};

    fn setup() -> (tempfile::TempDir, Handle) {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("mayank")).unwrap();
        std::fs::write(root.path().join("mayank/author.toml"), "name = \"M\"\n").unwrap();
        (root, Handle::parse("mayank").unwrap())
    }

    #[test]
    fn writes_front_matter_that_loads_as_a_post() {
        let (root, h) = setup();
        let day = NaiveDate::from_ymd_opt(2026, 3, 4).unwrap();
        let path = new_post(root.path(), &h, "Say \"hi\": a test", day).unwrap();
        assert_eq!(path, root.path().join("mayank/say-hi-a-test.md"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("date: 2026-03-04\n"), "{text}");
        assert!(text.contains("excerpt: \"\"\ntags: []\n"), "{text}");
        let profile = crate::content::Profile {
            name: "M".into(),
            bio_html: String::new(),
            fields: vec![],
            avatar: None,
            header: None,
            default_kind: None,
            also_known_as: vec![],
            quotes: None,
        };
        let post::Parsed::Post(p) = post::read_one(
            &path,
            "say-hi-a-test.md",
            &profile,
            "/",
            &|slug| format!("https://b.example/@m/{slug}"),
            &crate::domain::Lang::default(),
        )
        .map_err(|e: ContentError| e.to_string())
        .unwrap() else {
            panic!("not a post")
        };
        assert_eq!(p.title.as_deref(), Some("Say \"hi\": a test"));
        assert!(p.tags.is_empty() && p.excerpt.is_none());
    }

    #[test]
    fn refuses_to_overwrite_and_unknown_authors() {
        let (root, h) = setup();
        let day = NaiveDate::from_ymd_opt(2026, 3, 4).unwrap();
        new_post(root.path(), &h, "Once", day).unwrap();
        let e = new_post(root.path(), &h, "Once", day).unwrap_err();
        assert!(e.message.contains("already exists"), "{e}");
        let nobody = Handle::parse("nobody").unwrap();
        assert!(new_post(root.path(), &nobody, "X", day).is_err());
        assert!(new_post(root.path(), &h, "!!!", day).is_err());
    }
}
