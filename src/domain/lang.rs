use std::fmt;

use super::ParseError;

/// A language tag (BCP 47, e.g. `en`, `de`, `pt-BR`, `zh-Hant`): the key of a post's
/// `contentMap`, its page's `<html lang>` and its feeds' language.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lang(String);

impl Lang {
    /// A primary subtag of 2–3 letters, then subtags of 1–8 letters or digits, at most
    /// 35 characters in all (what the receivers' `lang` patterns accept).
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        let mut parts = s.split(['-', '_']);
        let primary = parts.next().unwrap_or_default();
        let ok = s.len() <= 35
            && (2..=3).contains(&primary.len())
            && primary.bytes().all(|b| b.is_ascii_alphabetic())
            && parts.all(|p| {
                (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric())
            });
        if !ok {
            return Err(ParseError(format!(
                "`{s}` is not a language tag: use one such as `en`, `de` or `pt-BR`"
            )));
        }
        let mut tag = primary.to_ascii_lowercase();
        for p in s.split(['-', '_']).skip(1) {
            tag.push('-');
            tag.push_str(p);
        }
        Ok(Self(tag))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Lang {
    /// English, which the pages declared before a language could be set.
    fn default() -> Self {
        Self("en".to_owned())
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_parse_and_bad_ones_do_not() {
        assert_eq!(Lang::parse("EN").unwrap().as_str(), "en");
        assert_eq!(Lang::parse("pt_BR").unwrap().as_str(), "pt-BR");
        assert_eq!(Lang::parse("zh-Hant").unwrap().as_str(), "zh-Hant");
        for bad in ["", "e", "english", "en-", "en-toolongsubtag", "<en>", "1a"] {
            assert!(Lang::parse(bad).is_err(), "{bad}");
        }
    }
}
