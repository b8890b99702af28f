use std::fmt;

use super::ParseError;

/// The ActivityStreams type a post is published as.
///
/// Mastodon shows an Article as title + summary + link and drops its content;
/// a Note carries the whole post. See INTEROP.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostKind {
    Article,
    Note,
}

impl PostKind {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s {
            "Article" | "article" => Ok(Self::Article),
            "Note" | "note" => Ok(Self::Note),
            other => Err(ParseError(format!(
                "`{other}` is not a post type: use `Article` or `Note`"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Article => "Article",
            Self::Note => "Note",
        }
    }
}

impl fmt::Display for PostKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
