use std::fmt;

use super::ParseError;

/// An author's local user name: `mayank` in `@mayank@blog.example`.
/// Lowercase ASCII letters, digits and `_`, 1 to 30 characters, as Mastodon accepts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle(String);

impl Handle {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let ok = !s.is_empty()
            && s.len() <= 30
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError(format!(
                "`{s}` is not a valid handle: use 1-30 lowercase letters, digits or `_`"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_mastodon_style_names_only() {
        assert!(Handle::parse("mayank").is_ok());
        assert!(Handle::parse("a_1").is_ok());
        assert!(Handle::parse("Mayank").is_err());
        assert!(Handle::parse("").is_err());
        assert!(Handle::parse("a-b").is_err());
        assert!(Handle::parse(&"a".repeat(31)).is_err());
    }
}
