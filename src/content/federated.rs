//! The HTML a post federates with: what reads well after the receivers' sanitisers
//! (Mastodon's and GoToSocial's allow lists, docs/PEERS.md §1), made from the same
//! Markdown events as the page. The page keeps its own rendering; here code blocks are
//! plain `<pre><code>` (no highlight spans), tables are a bold header line and a list
//! of rows, headings bold paragraphs, footnotes numbered text with absolute links,
//! every link absolute, and images (sent as attachments) leave no empty paragraph.

use std::collections::HashMap;

use pulldown_cmark::{CowStr, Event, LinkType, Tag, TagEnd, html};
use pulldown_cmark_escape::escape_href;
use url::Url;

use crate::domain::escape_html;

/// Between the cells of a table row, as text.
const CELL_SEPARATOR: &str = " — ";

/// Renders the events as federation-grade HTML, one string per top-level block of the
/// source (so a long post can send only its first blocks). `page` is the post's URL:
/// relative links and footnotes resolve against it.
pub(super) fn federated_blocks(events: Vec<Event<'_>>, page: &Url) -> Vec<String> {
    let mut rewriter = Rewriter {
        page,
        footnotes: Footnotes::default(),
        in_image: false,
        links: 0,
        table: TableState::default(),
        depth: 0,
        out: Vec::new(),
        blocks: Vec::new(),
    };
    for event in events {
        rewriter.event(event);
    }
    rewriter.finish();
    rewriter
        .blocks
        .into_iter()
        .filter_map(|block| {
            let mut html = String::new();
            html::push_html(&mut html, drop_empty_paragraphs(block).into_iter());
            (!html.trim().is_empty()).then_some(html)
        })
        .collect()
}

/// The rewriting pass: links absolute, images out, tables, headings, rules, task
/// markers and footnotes as plain markup; its output cut where the source's top-level
/// blocks end (the markup that replaces a table or heading has no events of its own).
struct Rewriter<'p, 'a> {
    page: &'p Url,
    footnotes: Footnotes,
    in_image: bool,
    /// How many links are open (an image inside one leaves its alt text).
    links: usize,
    table: TableState,
    /// Nesting in the source.
    depth: usize,
    out: Vec<Event<'a>>,
    blocks: Vec<Vec<Event<'a>>>,
}

impl<'a> Rewriter<'_, 'a> {
    fn event(&mut self, event: Event<'a>) {
        let nesting = match &event {
            Event::Start(_) => 1,
            Event::End(_) => -1,
            _ => 0,
        };
        self.rewrite(event);
        self.depth = self.depth.saturating_add_signed(nesting);
        if self.depth == 0 {
            self.cut();
        }
    }

    fn cut(&mut self) {
        if !self.out.is_empty() {
            self.blocks.push(std::mem::take(&mut self.out));
        }
    }

    fn finish(&mut self) {
        if let Some(number) = self.footnotes.pending.take() {
            self.out
                .push(Event::Html(format!("<p>[{number}]</p>\n").into()));
        }
        self.cut();
    }

    fn rewrite(&mut self, event: Event<'a>) {
        let out = &mut self.out;
        if self.in_image {
            match event {
                Event::End(TagEnd::Image) => self.in_image = false,
                // Inside a link the image's alt text keeps the link readable.
                Event::Text(t) | Event::Code(t) if self.links > 0 => out.push(Event::Text(t)),
                _ => {}
            }
            return;
        }
        if let Some(number) = self.footnotes.pending.take() {
            if let Event::Start(Tag::Paragraph) = &event {
                out.push(event);
                out.push(Event::Text(format!("[{number}] ").into()));
                return;
            }
            out.push(Event::Html(format!("<p>[{number}]</p>\n").into()));
        }
        match event {
            Event::Start(Tag::Image { .. }) => self.in_image = true,
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                self.links += 1;
                let dest_url = match link_type {
                    LinkType::Email => dest_url,
                    _ => absolute(self.page, &dest_url).map_or(dest_url, CowStr::from),
                };
                out.push(Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }));
            }
            Event::End(TagEnd::Link) => {
                self.links = self.links.saturating_sub(1);
                out.push(Event::End(TagEnd::Link));
            }
            Event::Start(Tag::Heading { .. }) => out.push(Event::Html("<p><strong>".into())),
            Event::End(TagEnd::Heading(_)) => out.push(Event::Html("</strong></p>\n".into())),
            Event::Rule => out.push(Event::Html("<p>⁂</p>\n".into())),
            Event::TaskListMarker(done) => {
                out.push(Event::Text(if done { "☑ " } else { "☐ " }.into()))
            }
            Event::FootnoteReference(name) => {
                let number = self.footnotes.number(&name);
                let href = format!(
                    "{}#{}",
                    escape_html(&without_fragment(self.page)),
                    href_part(&name)
                );
                out.push(Event::InlineHtml(
                    format!("<a href=\"{href}\">[{number}]</a>").into(),
                ));
            }
            Event::Start(Tag::FootnoteDefinition(name)) => {
                self.footnotes.pending = Some(self.footnotes.number(&name));
            }
            Event::End(TagEnd::FootnoteDefinition) => {}
            e @ (Event::Start(Tag::Table(_))
            | Event::End(TagEnd::Table)
            | Event::Start(Tag::TableHead)
            | Event::End(TagEnd::TableHead)
            | Event::Start(Tag::TableRow)
            | Event::End(TagEnd::TableRow)
            | Event::Start(Tag::TableCell)
            | Event::End(TagEnd::TableCell)) => self.table.event(&e, out),
            other => out.push(other),
        }
    }
}

/// Footnote numbers as the page shows them: in order of first mention, reference or
/// definition.
#[derive(Default)]
struct Footnotes {
    numbers: HashMap<String, usize>,
    /// A definition just opened: its number goes before its first paragraph.
    pending: Option<usize>,
}

impl Footnotes {
    fn number(&mut self, name: &str) -> usize {
        let next = self.numbers.len() + 1;
        *self.numbers.entry(name.to_owned()).or_insert(next)
    }
}

/// A table as text that survives sanitisers without table elements: the header row as
/// a bold paragraph, each body row an item of a list, cells separated by a dash.
#[derive(Default)]
struct TableState {
    /// Cells already written in the current row.
    cells: usize,
    /// Whether the list of body rows is open.
    list_open: bool,
}

impl TableState {
    fn event<'a>(&mut self, event: &Event<'a>, out: &mut Vec<Event<'a>>) {
        match event {
            Event::Start(Tag::Table(_)) => *self = Self::default(),
            Event::Start(Tag::TableHead) => {
                self.cells = 0;
                out.push(Event::Html("<p><strong>".into()));
            }
            Event::End(TagEnd::TableHead) => out.push(Event::Html("</strong></p>\n".into())),
            Event::Start(Tag::TableRow) => {
                self.cells = 0;
                if !self.list_open {
                    self.list_open = true;
                    out.push(Event::Html("<ul>\n".into()));
                }
                out.push(Event::Html("<li>".into()));
            }
            Event::End(TagEnd::TableRow) => out.push(Event::Html("</li>\n".into())),
            Event::Start(Tag::TableCell) => {
                if self.cells > 0 {
                    out.push(Event::Text(CELL_SEPARATOR.into()));
                }
                self.cells += 1;
            }
            Event::End(TagEnd::Table) if self.list_open => {
                out.push(Event::Html("</ul>\n".into()));
            }
            _ => {}
        }
    }
}

/// Drops paragraphs left with nothing to read (an image alone, once images are out).
fn drop_empty_paragraphs(events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    let mut out = Vec::with_capacity(events.len());
    let mut paragraph: Option<Vec<Event<'_>>> = None;
    for event in events {
        match (event, paragraph.as_mut()) {
            (Event::Start(Tag::Paragraph), None) => paragraph = Some(Vec::new()),
            (Event::End(TagEnd::Paragraph), Some(_)) => {
                let inner = paragraph.take().unwrap_or_default();
                if inner.iter().any(shows_something) {
                    out.push(Event::Start(Tag::Paragraph));
                    out.extend(inner);
                    out.push(Event::End(TagEnd::Paragraph));
                }
            }
            (event, Some(inner)) => inner.push(event),
            (event, None) => out.push(event),
        }
    }
    out
}

fn shows_something(event: &Event<'_>) -> bool {
    match event {
        Event::Text(t) => !t.trim().is_empty(),
        Event::Start(_) | Event::End(_) | Event::SoftBreak | Event::HardBreak => false,
        _ => true,
    }
}

/// `dest` resolved against the page, or `None` when it is absolute already or cannot
/// be resolved (then it is left as written).
fn absolute(page: &Url, dest: &str) -> Option<String> {
    if Url::parse(dest).is_ok() {
        return None;
    }
    page.join(dest).ok().map(String::from)
}

fn without_fragment(page: &Url) -> String {
    let mut page = page.clone();
    page.set_fragment(None);
    page.into()
}

/// A footnote name as it may stand in a URL fragment, escaped for an attribute.
fn href_part(name: &str) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = escape_href(&mut out, name);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::markdown::render_post;

    fn federated(source: &str) -> String {
        let page = Url::parse("https://blog.example/@ann/post").unwrap();
        render_post(source, |_| None, &page, 1).federated.concat()
    }

    #[test]
    fn code_is_plain_and_tables_read_as_text() {
        let html = federated(
            "```rust\nfn main() {}\n```\n\n| Name | Age |\n|---|---|\n| Ann | 3 |\n| Ben | `4` |\n",
        );
        assert!(!html.contains("<span"), "{html}");
        assert!(
            html.contains("<pre><code class=\"language-rust\">fn main() {}\n</code></pre>"),
            "{html}"
        );
        assert!(!html.contains("<table") && !html.contains("<td"), "{html}");
        assert!(
            html.contains("<p><strong>Name — Age</strong></p>"),
            "{html}"
        );
        assert!(html.contains("<li>Ann — 3</li>"), "{html}");
        assert!(html.contains("<li>Ben — <code>4</code></li>"), "{html}");
    }

    #[test]
    fn links_and_footnotes_are_absolute() {
        let html = federated(
            "See [the other](other), [a part](#part), [home](/) and [x](https://x.example/).[^n]\n\n[^n]: A note.\n",
        );
        assert!(
            html.contains("href=\"https://blog.example/@ann/other\""),
            "{html}"
        );
        assert!(
            html.contains("href=\"https://blog.example/@ann/post#part\""),
            "{html}"
        );
        assert!(html.contains("href=\"https://blog.example/\""), "{html}");
        assert!(html.contains("href=\"https://x.example/\""), "{html}");
        assert!(
            html.contains("<a href=\"https://blog.example/@ann/post#n\">[1]</a>"),
            "{html}"
        );
        assert!(html.contains("<p>[1] A note.</p>"), "{html}");
        assert!(
            !html.contains("<sup") && !html.contains("footnote"),
            "{html}"
        );
    }

    #[test]
    fn blocks_are_whole_tables_and_headings() {
        let page = Url::parse("https://blog.example/@ann/post").unwrap();
        let blocks = render_post(
            "# Head\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nEnd.\n",
            |_| None,
            &page,
            1,
        )
        .federated;
        assert_eq!(
            blocks,
            [
                "<p><strong>Head</strong></p>\n",
                "<p><strong>a — b</strong></p>\n<ul>\n<li>1 — 2</li>\n</ul>\n",
                "<p>End.</p>\n"
            ]
        );
    }

    #[test]
    fn images_leave_no_empty_paragraph() {
        let html = federated(
            "Before.\n\n![A dot](dot.png)\n\n[![Logo](logo.png)](https://x.example/)\n\n# Heading\n\n---\n\n- [x] done\n",
        );
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<p></p>"), "{html}");
        assert!(
            html.contains("<a href=\"https://x.example/\">Logo</a>"),
            "{html}"
        );
        assert!(html.contains("<p><strong>Heading</strong></p>"), "{html}");
        assert!(
            !html.contains("<h1") && !html.contains("<hr") && !html.contains("<input"),
            "{html}"
        );
        assert!(html.contains("☑ done"), "{html}");
    }
}
