use std::fmt;

use super::ParseError;

/// A hashtag without its `#`, as it appears in a tag page's URL: `rust`, `system-design`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(String);

impl Tag {
    /// Accepts letters, digits, `_` and `-` (Unicode letters too); strips one leading `#`
    /// and lowercases.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let t = s.trim().trim_start_matches('#').to_lowercase();
        let ok = !t.is_empty()
            && t.chars().count() <= 100
            && t.chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
        if ok {
            Ok(Self(t))
        } else {
            Err(ParseError(format!(
                "`{s}` is not a valid tag: use letters, digits, `_` or `-`"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name Mastodon indexes. Hyphens are not part of a Mastodon hashtag,
    /// so `system-design` federates as `#systemdesign`, while the page URL keeps the hyphen.
    pub fn hashtag_name(&self) -> String {
        let name: String = self.0.chars().filter(|c| *c != '-').collect();
        format!("#{name}")
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_tags() {
        assert_eq!(Tag::parse("#Rust").unwrap().as_str(), "rust");
        assert_eq!(
            Tag::parse("system-design").unwrap().hashtag_name(),
            "#systemdesign"
        );
        assert!(Tag::parse("a b").is_err());
        assert!(Tag::parse("#").is_err());
    }
}
