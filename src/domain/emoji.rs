use std::fmt;

use super::ParseError;

/// Most Unicode scalars one emoji takes: the longest ZWJ sequences (a kiss with two
/// skin tones) take ten.
const MAX_UNICODE_CHARS: usize = 16;
/// Most characters of a custom emoji's name (Misskey's and Akkoma's names are shorter).
const MAX_SHORTCODE_CHARS: usize = 64;

/// The emoji of a reaction (Misskey's `_misskey_reaction`, an `EmojiReact`'s
/// `content`): one Unicode emoji as it is, or a custom emoji as its `:shortcode:`.
/// Custom emoji images are not fetched: the shortcode is what a page shows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Emoji(String);

impl Emoji {
    /// `:name:` (Misskey's `:name@host:` loses its host) with a name of letters, digits,
    /// `_`, `+` and `-`; or a short run of non-ASCII symbols with no letters, spaces,
    /// controls or direction marks (keycap digits, `#` and `*` allowed).
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        let bad = || {
            ParseError(format!(
                "`{}` is not an emoji",
                s.chars().take(32).collect::<String>()
            ))
        };
        if let Some(inner) = s.strip_prefix(':').and_then(|r| r.strip_suffix(':')) {
            let name = inner.split_once('@').map_or(inner, |(name, _host)| name);
            let ok = !name.is_empty()
                && name.chars().count() <= MAX_SHORTCODE_CHARS
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-'));
            return ok.then(|| Self(format!(":{name}:"))).ok_or_else(bad);
        }
        let count = s.chars().count();
        let ok = (1..=MAX_UNICODE_CHARS).contains(&count)
            && !s.is_ascii()
            && s.chars().all(unicode_emoji_part);
        ok.then(|| Self(s.to_owned())).ok_or_else(bad)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A custom emoji (`:name:`), not a Unicode one.
    pub fn is_custom(&self) -> bool {
        self.0.starts_with(':')
    }
}

/// Whether `c` may be part of a Unicode emoji as shown: symbols, joiners, variation
/// selectors, skin tones, tags and keycaps; never letters, spaces, controls or
/// direction overrides.
fn unicode_emoji_part(c: char) -> bool {
    match c {
        '0'..='9' | '#' | '*' => true,
        _ if c.is_ascii() => false,
        _ if c.is_alphabetic() || c.is_whitespace() || c.is_control() => false,
        // Direction marks and overrides, isolates, and the word joiner family.
        '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' => false,
        _ => true,
    }
}

impl fmt::Display for Emoji {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicode_and_custom_emoji_parse() {
        assert_eq!(Emoji::parse("🔥").unwrap().as_str(), "🔥");
        assert_eq!(Emoji::parse("👍🏽").unwrap().as_str(), "👍🏽");
        assert_eq!(Emoji::parse("❤️").unwrap().as_str(), "❤️");
        assert_eq!(Emoji::parse("👨‍👩‍👧‍👦").unwrap().as_str(), "👨‍👩‍👧‍👦");
        assert_eq!(Emoji::parse("1️⃣").unwrap().as_str(), "1️⃣");
        let custom = Emoji::parse(":blobcat_love:").unwrap();
        assert!(custom.is_custom());
        assert_eq!(custom.as_str(), ":blobcat_love:");
        assert_eq!(
            Emoji::parse(":blobcat@misskey.example:").unwrap().as_str(),
            ":blobcat:"
        );
    }

    #[test]
    fn hostile_reactions_are_refused() {
        for s in [
            "",
            "::",
            ":<script>:",
            ":a b:",
            "<b>hi</b>",
            "hello",
            "1",
            "🔥 🔥",
            "\u{202E}🔥",
            "🔥\u{0007}",
            "ä",
        ] {
            assert!(Emoji::parse(s).is_err(), "{s:?}");
        }
        assert!(Emoji::parse(&"🔥".repeat(17)).is_err());
        assert!(Emoji::parse(&format!(":{}:", "a".repeat(65))).is_err());
        assert!(Emoji::parse(&format!(":{}:", "a".repeat(64))).is_ok());
    }
}
