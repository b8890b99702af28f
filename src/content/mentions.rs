//! `@user@server` in a post's Markdown. Rendering marks each mention found in plain
//! text (not in code spans or blocks, not in links or images, not an e-mail address)
//! with a marker both the page's and the federated HTML carry; sync resolves the
//! accounts and [`PostSource::link_mentions`](super::PostSource::link_mentions) turns
//! each marker into a link, or back into the text when the account was not found.

use pulldown_cmark::{CowStr, Event, Tag, TagEnd};

use crate::domain::{Acct, Mention, escape_html};

/// Brackets a mention in rendered HTML until it is resolved: a private-use character
/// no Markdown renders from anything but itself.
const MARK: char = '\u{F8FF}';

/// A mention as written: the account and its line in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mentioned {
    pub acct: Acct,
    pub line: usize,
}

/// Marks the mentions in `events` (each with the byte offset of its source, whose
/// line `line_of` gives) and returns them.
pub(super) fn mark<'a>(
    events: Vec<(Event<'a>, usize)>,
    line_of: impl Fn(usize) -> usize,
) -> (Vec<Event<'a>>, Vec<Mentioned>) {
    let mut out = Vec::with_capacity(events.len());
    let mut found = Vec::new();
    // Inside a link or image: its text is the author's, left alone.
    let mut in_link = 0usize;
    let mut in_code_block = false;
    for (event, offset) in events {
        match &event {
            Event::Start(Tag::Link { .. } | Tag::Image { .. }) => in_link += 1,
            Event::End(TagEnd::Link | TagEnd::Image) => in_link = in_link.saturating_sub(1),
            Event::Start(Tag::CodeBlock(_)) => in_code_block = true,
            Event::End(TagEnd::CodeBlock) => in_code_block = false,
            _ => {}
        }
        match event {
            Event::Text(text) if in_link == 0 && !in_code_block && text.contains('@') => {
                let (marked, accts) = mark_text(&text);
                let line = line_of(offset);
                found.extend(accts.into_iter().map(|acct| Mentioned { acct, line }));
                out.push(Event::Text(CowStr::from(marked)));
            }
            other => out.push(other),
        }
    }
    (out, found)
}

fn is_user_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-')
}

fn is_domain_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '-' | ':')
}

/// The text with each `@user@domain` (not preceded by a word character, so not an
/// e-mail address) bracketed by markers, and the accounts found.
pub(super) fn mark_text(text: &str) -> (String, Vec<Acct>) {
    let mut out = String::with_capacity(text.len());
    let mut found = Vec::new();
    let mut rest = text;
    let mut prev: Option<char> = None;
    while let Some(at) = rest.find('@') {
        let before = &rest[..at];
        let prev_char = before.chars().next_back().or(prev);
        out.push_str(before);
        let after = &rest[at + 1..];
        let candidate = (!prev_char.is_some_and(|c| is_user_char(c) || c == '@'))
            .then(|| mention_at(after))
            .flatten();
        match candidate {
            Some((len, acct)) => {
                out.push(MARK);
                out.push('@');
                out.push_str(&after[..len]);
                out.push(MARK);
                found.push(acct);
                prev = after[..len].chars().next_back();
                rest = &after[len..];
            }
            None => {
                out.push('@');
                prev = Some('@');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    (out, found)
}

/// The length of `user@domain[:port]` at the start of `s`, and the account.
fn mention_at(s: &str) -> Option<(usize, Acct)> {
    let user_len = s.find(|c: char| !is_user_char(c)).unwrap_or(s.len());
    if user_len == 0 || !s[user_len..].starts_with('@') {
        return None;
    }
    let domain_start = user_len + 1;
    let tail = &s[domain_start..];
    let mut domain_len = tail
        .find(|c: char| !is_domain_char(c))
        .unwrap_or(tail.len());
    // A sentence's full stop or colon is not part of the domain.
    while domain_len > 0 && matches!(tail.as_bytes()[domain_len - 1], b'.' | b':' | b'-') {
        domain_len -= 1;
    }
    // `@user@domain@more` is no mention.
    if tail[domain_len..].starts_with('@') {
        return None;
    }
    let len = domain_start + domain_len;
    Acct::parse(&s[..len]).map(|acct| (len, acct))
}

/// Replaces each marked mention in `html`: a link (as Mastodon writes one) where
/// `resolved` has the account, else the text as written.
pub(super) fn link(html: &str, resolved: &dyn Fn(&Acct) -> Option<Mention>) -> String {
    let mut out = String::with_capacity(html.len());
    let mut parts = html.split(MARK);
    out.push_str(parts.next().unwrap_or_default());
    let mut inside = true;
    for part in parts {
        if inside {
            let target = part
                .strip_prefix('@')
                .and_then(Acct::parse)
                .and_then(|a| resolved(&a).map(|m| (a, m)));
            match target {
                Some((acct, m)) => out.push_str(&format!(
                    "<span class=\"h-card\" translate=\"no\"><a href=\"{}\" class=\"u-url mention\" title=\"{}\">@<span>{}</span></a></span>",
                    escape_html(&m.url),
                    escape_html(&m.name),
                    escape_html(acct.user()),
                )),
                None => out.push_str(part),
            }
        } else {
            out.push_str(part);
        }
        inside = !inside;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_found_but_not_email_addresses() {
        let (marked, found) =
            mark_text("Hi @bob@social.example, mail joe@mail.example or @ann@x.example:8443.");
        let found: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(found, ["bob@social.example", "ann@x.example:8443"]);
        assert!(marked.contains("joe@mail.example"), "{marked}");
        let linked = link(&marked, &|a: &Acct| {
            (a.user() == "bob").then(|| Mention {
                actor: "https://social.example/users/bob".into(),
                name: "@bob@social.example".into(),
                url: "https://social.example/@bob".into(),
            })
        });
        assert!(linked.starts_with("Hi <span class=\"h-card\""), "{linked}");
        assert!(linked.contains("or @ann@x.example:8443."), "{linked}");
        assert!(!linked.contains(MARK));
    }
}
