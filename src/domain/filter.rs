//! An author's content filters (Mastodon's v2 filters) and the one function that
//! judges a status by them: which filters match its text (keywords, with Mastodon's
//! whole-word rule) or its id, and whether it is hidden or shown with a warning.

use std::fmt;

use super::ParseError;

/// Where a filter applies, as Mastodon names the contexts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FilterContext {
    Home,
    Notifications,
    Public,
    Thread,
    Account,
}

const CONTEXTS: [(FilterContext, &str); 5] = [
    (FilterContext::Home, "home"),
    (FilterContext::Notifications, "notifications"),
    (FilterContext::Public, "public"),
    (FilterContext::Thread, "thread"),
    (FilterContext::Account, "account"),
];

impl FilterContext {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        CONTEXTS
            .iter()
            .find(|(_, n)| *n == s)
            .map(|(c, _)| *c)
            .ok_or_else(|| ParseError(format!("`{s}` is not a filter context")))
    }

    pub fn as_str(self) -> &'static str {
        CONTEXTS
            .iter()
            .find(|(c, _)| *c == self)
            .map_or("home", |(_, n)| n)
    }
}

impl fmt::Display for FilterContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a matching filter does: show the status behind a warning, or drop it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterAction {
    Warn,
    Hide,
}

impl FilterAction {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s {
            "warn" => Ok(Self::Warn),
            "hide" => Ok(Self::Hide),
            _ => Err(ParseError(format!("`{s}` is not a filter action"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warn => "warn",
            Self::Hide => "hide",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterKeyword {
    pub id: i64,
    pub keyword: String,
    pub whole_word: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterStatus {
    pub id: i64,
    pub status_id: String,
}

/// A filter with its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub id: i64,
    pub title: String,
    pub contexts: Vec<FilterContext>,
    pub action: FilterAction,
    /// Milliseconds since the epoch; past it the filter does nothing.
    pub expires_at: Option<i64>,
    pub keywords: Vec<FilterKeyword>,
    pub statuses: Vec<FilterStatus>,
}

/// One filter that matched, and by what.
#[derive(Debug, PartialEq, Eq)]
pub struct FilterMatch<'a> {
    pub filter: &'a Filter,
    pub keywords: Vec<&'a str>,
    pub statuses: Vec<&'a str>,
}

/// What the filters make of a status.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Verdict<'a> {
    /// A matching filter hides it.
    pub hidden: bool,
    /// Every matching filter (the warnings to show when it is not hidden).
    pub matches: Vec<FilterMatch<'a>>,
}

/// Judges a status, shown in `context` at `now_ms`, by its id and its plain text (the
/// content warning and the content, without markup). Filters that have expired or
/// are for other contexts are skipped.
pub fn verdict<'a>(
    filters: &'a [Filter],
    context: FilterContext,
    now_ms: i64,
    status_id: &str,
    text: &str,
) -> Verdict<'a> {
    let folded = text.to_lowercase();
    let mut out = Verdict::default();
    for f in filters {
        if !f.contexts.contains(&context) || f.expires_at.is_some_and(|t| t <= now_ms) {
            continue;
        }
        let keywords: Vec<&str> = f
            .keywords
            .iter()
            .filter(|k| keyword_matches(&k.keyword, k.whole_word, &folded))
            .map(|k| k.keyword.as_str())
            .collect();
        let statuses: Vec<&str> = f
            .statuses
            .iter()
            .filter(|s| s.status_id == status_id)
            .map(|s| s.status_id.as_str())
            .collect();
        if keywords.is_empty() && statuses.is_empty() {
            continue;
        }
        out.hidden |= f.action == FilterAction::Hide;
        out.matches.push(FilterMatch {
            filter: f,
            keywords,
            statuses,
        });
    }
    out
}

/// Mastodon's rule, case-insensitively: a keyword matches anywhere, or with
/// `whole_word` only where it is not part of a longer word — a word boundary is
/// required only at an end of the keyword that is a word character (so `#rust` or
/// `c++` match before or after punctuation). `text` is already lowercased.
pub fn keyword_matches(keyword: &str, whole_word: bool, text: &str) -> bool {
    let keyword = keyword.trim().to_lowercase();
    if keyword.is_empty() {
        return false;
    }
    if !whole_word {
        return text.contains(&keyword);
    }
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let first_is_word = keyword.chars().next().is_some_and(word);
    let last_is_word = keyword.chars().next_back().is_some_and(word);
    text.match_indices(&keyword).any(|(at, m)| {
        let before = text[..at].chars().next_back();
        let after = text[at + m.len()..].chars().next();
        (!first_is_word || !before.is_some_and(word)) && (!last_is_word || !after.is_some_and(word))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(id: i64, action: FilterAction, words: &[(&str, bool)]) -> Filter {
        Filter {
            id,
            title: format!("f{id}"),
            contexts: vec![FilterContext::Notifications, FilterContext::Home],
            action,
            expires_at: None,
            keywords: words
                .iter()
                .enumerate()
                .map(|(i, (k, w))| FilterKeyword {
                    id: i as i64,
                    keyword: (*k).to_owned(),
                    whole_word: *w,
                })
                .collect(),
            statuses: vec![],
        }
    }

    #[test]
    fn whole_words_match_only_whole_words() {
        let t = "i love rust, and trusty tools; c++ too. #rustlang";
        assert!(keyword_matches("Rust", true, t));
        assert!(!keyword_matches("rus", true, t));
        assert!(keyword_matches("rus", false, t));
        assert!(!keyword_matches("trust", true, t));
        assert!(keyword_matches("trust", false, t));
        assert!(
            keyword_matches("c++", true, t),
            "no boundary after a non-word end"
        );
        assert!(keyword_matches("#rustlang", true, t));
        assert!(!keyword_matches("#rust", true, t));
        assert!(keyword_matches("tools", true, t));
        assert!(keyword_matches("and trusty", true, t));
        assert!(!keyword_matches("  ", false, t));
        assert!(keyword_matches("café", true, "un café noir"));
        assert!(!keyword_matches("caf", true, "un café noir"));
    }

    #[test]
    fn hide_wins_and_every_match_is_listed() {
        let filters = [
            filter(1, FilterAction::Warn, &[("spoiler", true)]),
            filter(2, FilterAction::Hide, &[("politics", false)]),
        ];
        let v = verdict(
            &filters,
            FilterContext::Notifications,
            0,
            "1",
            "no spoilers here",
        );
        assert_eq!(
            v,
            Verdict::default(),
            "`spoilers` is not the word `spoiler`"
        );
        let v = verdict(
            &filters,
            FilterContext::Notifications,
            0,
            "1",
            "a spoiler about politics",
        );
        assert!(v.hidden);
        assert_eq!(v.matches.len(), 2);
        assert_eq!(v.matches[0].keywords, ["spoiler"]);
    }

    #[test]
    fn other_contexts_expired_filters_and_status_rules() {
        let mut f = filter(1, FilterAction::Hide, &[("x", false)]);
        assert!(!verdict(&[f.clone()], FilterContext::Public, 0, "1", "x").hidden);
        f.expires_at = Some(10);
        assert!(verdict(&[f.clone()], FilterContext::Home, 9, "1", "x").hidden);
        assert!(!verdict(&[f.clone()], FilterContext::Home, 10, "1", "x").hidden);
        f.expires_at = None;
        f.keywords.clear();
        f.statuses.push(FilterStatus {
            id: 1,
            status_id: "reply.7".into(),
        });
        let filters = [f];
        let v = verdict(&filters, FilterContext::Home, 0, "reply.7", "anything");
        assert_eq!(v.matches[0].statuses, ["reply.7"]);
    }
}
