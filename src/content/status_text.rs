//! A status typed in an app (plain text) as HTML, the way Mastodon renders one:
//! paragraphs at blank lines, `<br>` at line breaks, links made of URLs, `#hashtags`
//! linked to our tag pages and `@user@server` mentions marked for the one resolver
//! (`service::mentions`), then linked by [`StatusText::link`].

use crate::domain::{Acct, Mention, Tag, escape_html};

use super::mentions;

/// A rendered status: HTML with its mentions still marked, the accounts they name
/// and the tags it carries.
#[derive(Debug, Clone, Default)]
pub struct StatusText {
    marked: String,
    pub mentioned: Vec<Acct>,
    pub tags: Vec<Tag>,
}

impl StatusText {
    /// The HTML with each mention linked where `resolved` knows the account (as
    /// text otherwise), and the accounts linked, each once.
    pub fn link(&self, resolved: &dyn Fn(&Acct) -> Option<Mention>) -> (String, Vec<Mention>) {
        let mut found: Vec<Mention> = Vec::new();
        for a in &self.mentioned {
            if let Some(m) = resolved(a).filter(|m| !found.contains(m)) {
                found.push(m);
            }
        }
        (mentions::link(&self.marked, resolved), found)
    }
}

/// Renders `text`; `tag_url` is a tag page's address.
pub fn render(text: &str, tag_url: &dyn Fn(&Tag) -> String) -> StatusText {
    let mut out = StatusText::default();
    let text = text.replace("\r\n", "\n");
    let paragraphs = text
        .split("\n\n")
        .map(|p| p.trim_matches('\n'))
        .filter(|p| !p.trim().is_empty());
    for p in paragraphs {
        out.marked.push_str("<p>");
        for (i, line) in p.split('\n').enumerate() {
            if i > 0 {
                out.marked.push_str("<br>");
            }
            line_html(line, tag_url, &mut out);
        }
        out.marked.push_str("</p>");
    }
    out
}

/// One line: its URLs as links, the rest as text with tags and mentions.
fn line_html(line: &str, tag_url: &dyn Fn(&Tag) -> String, out: &mut StatusText) {
    let mut rest = line;
    while let Some((start, end)) = next_url(rest) {
        words_html(&rest[..start], tag_url, out);
        let url = &rest[start..end];
        let shown = url.split_once("://").map_or(url, |(_, r)| r);
        out.marked.push_str(&format!(
            "<a href=\"{}\" rel=\"nofollow noopener noreferrer\" target=\"_blank\">{}</a>",
            escape_html(url),
            escape_html(shown)
        ));
        rest = &rest[end..];
    }
    words_html(rest, tag_url, out);
}

/// Where the next `http(s)://` URL is (at the start or after a space or bracket), up
/// to white space, without trailing punctuation.
fn next_url(s: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    loop {
        let found = ["https://", "http://"]
            .iter()
            .filter_map(|p| s[from..].find(p).map(|i| i + from))
            .min()?;
        let after_boundary = s[..found]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || matches!(c, '(' | '[' | '<' | '"' | '\''));
        let len = s[found..]
            .find(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
            .unwrap_or(s.len() - found);
        let url = s[found..found + len].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '\'']);
        if after_boundary && url.len() > "https://".len() && url::Url::parse(url).is_ok() {
            return Some((found, found + url.len()));
        }
        from = found + 1;
    }
}

/// Text with `#tags` linked and mentions marked.
fn words_html(s: &str, tag_url: &dyn Fn(&Tag) -> String, out: &mut StatusText) {
    let mut plain = String::new();
    let mut prev: Option<char> = None;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let boundary = prev.is_none_or(|p| !(p.is_alphanumeric() || p == '_' || p == '&'));
        if c == '#' && boundary {
            let name_len = s[i + 1..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(s.len() - i - 1);
            let name = &s[i + 1..i + 1 + name_len];
            // Mastodon wants a letter in a tag (`#1` is no tag).
            if let Some(tag) = Tag::parse(name)
                .ok()
                .filter(|_| name.chars().any(char::is_alphabetic))
            {
                flush(&mut plain, out);
                out.marked.push_str(&format!(
                    "<a href=\"{}\" class=\"mention hashtag\" rel=\"tag\">#<span>{}</span></a>",
                    escape_html(&tag_url(&tag)),
                    escape_html(name)
                ));
                if !out.tags.contains(&tag) {
                    out.tags.push(tag);
                }
                while chars.peek().is_some_and(|(j, _)| *j < i + 1 + name_len) {
                    chars.next();
                }
                prev = name.chars().next_back();
                continue;
            }
        }
        plain.push(c);
        prev = Some(c);
    }
    flush(&mut plain, out);
}

fn flush(plain: &mut String, out: &mut StatusText) {
    if plain.is_empty() {
        return;
    }
    let (marked, accts) = mentions::mark_text(&escape_html(plain));
    out.marked.push_str(&marked);
    for a in accts {
        if !out.mentioned.contains(&a) {
            out.mentioned.push(a);
        }
    }
    plain.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag_url(t: &Tag) -> String {
        format!("https://blog.example/tags/{t}")
    }

    #[test]
    fn paragraphs_breaks_links_tags_and_mentions() {
        let r = render(
            "Hello <b>@bob@social.example</b> & #Rust!\nsee https://x.example/a?b=1&c=2.\n\n\nbye #1 mail a@b.example",
            &tag_url,
        );
        assert_eq!(r.tags, [Tag::parse("rust").unwrap()]);
        assert_eq!(r.mentioned.len(), 1, "{:?}", r.mentioned);
        let (html, found) = r.link(&|a: &Acct| {
            Some(Mention {
                actor: format!("https://social.example/users/{}", a.user()),
                name: format!("@{a}"),
                url: format!("https://social.example/@{}", a.user()),
            })
        });
        assert_eq!(found.len(), 1);
        assert!(
            html.starts_with("<p>Hello &lt;b&gt;<span class=\"h-card\""),
            "{html}"
        );
        assert!(html.contains("&amp; <a href=\"https://blog.example/tags/rust\" class=\"mention hashtag\" rel=\"tag\">#<span>Rust</span></a>!<br>see <a href=\"https://x.example/a?b=1&amp;c=2\""), "{html}");
        assert!(
            html.contains(">x.example/a?b=1&amp;c=2</a>.</p><p>bye #1 mail a@b.example</p>"),
            "{html}"
        );
    }

    #[test]
    fn escaped_apostrophes_are_no_tags() {
        let r = render("it's fine", &tag_url);
        assert!(r.tags.is_empty());
        assert!(r.link(&|_| None).0.starts_with("<p>it"));
    }
}
