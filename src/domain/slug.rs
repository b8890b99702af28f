use std::fmt;

use super::ParseError;

/// The last path segment of a post's URL. Fixed when the post is first published.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

/// Names the author's own routes use; a post cannot take them.
const RESERVED: &[&str] = &[
    "inbox",
    "outbox",
    "followers",
    "following",
    "featured",
    "activities",
    "tags",
    "media",
    "feed",
    "avatar",
];

impl Slug {
    /// Accepts lowercase ASCII letters, digits and single hyphens.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let shaped = !s.is_empty()
            && s.len() <= 200
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--");
        if !shaped {
            return Err(ParseError(format!(
                "`{s}` is not a valid slug: use lowercase letters, digits and single hyphens"
            )));
        }
        if RESERVED.contains(&s) {
            return Err(ParseError(format!(
                "`{s}` is reserved; choose another slug"
            )));
        }
        Ok(Self(s.to_owned()))
    }

    /// Derives a slug from free text such as a file name: lowercases, keeps ASCII
    /// letters and digits, turns every other run of characters into one hyphen.
    pub fn from_text(text: &str) -> Result<Self, ParseError> {
        let mut out = String::with_capacity(text.len());
        for c in text.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        while out.ends_with('-') {
            out.pop();
        }
        Self::parse(&out)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The slug of the note an app posted as post number `id`: `note-<id>`.
    pub fn note(id: i64) -> Self {
        Self(format!("note-{id}"))
    }

    /// Whether this is a note's slug (`note-<digits>`): kept for app notes, so no
    /// content file may take one.
    pub fn is_note(&self) -> bool {
        self.0
            .strip_prefix("note-")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_slugs_from_file_names() {
        assert_eq!(
            Slug::from_text("Hello World!").unwrap().as_str(),
            "hello-world"
        );
        assert_eq!(
            Slug::from_text("2025-01-15_first post").unwrap().as_str(),
            "2025-01-15-first-post"
        );
        assert!(Slug::from_text("!!!").is_err());
    }

    #[test]
    fn rejects_reserved_and_malformed_slugs() {
        assert!(Slug::parse("inbox").is_err());
        assert!(Slug::parse("a--b").is_err());
        assert!(Slug::parse("-a").is_err());
        assert!(Slug::parse("ok-1").is_ok());
        assert!(Slug::note(12).is_note());
        assert!(!Slug::parse("note-about-x").unwrap().is_note());
    }
}
