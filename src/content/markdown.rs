use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};
use url::Url;

use super::{
    federated::federated_blocks,
    mentions::{self, Mentioned},
};

/// Rendered Markdown and the images it shows.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// As the page shows it.
    pub html: String,
    /// As it federates, one string per top-level block (see `federated.rs`); empty
    /// unless the page's URL was given.
    pub federated: Vec<String>,
    pub images: Vec<ImageRef>,
    /// `@user@server` mentions, marked in both HTMLs until sync resolves them (see
    /// `mentions.rs`); found only when the page's URL was given.
    pub mentions: Vec<Mentioned>,
}

/// An image in a post: its URL as rendered and its alt text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The `src` as the author wrote it.
    pub written: String,
    /// The `src` after rewriting (absolute URL for files beside the post).
    pub src: String,
    pub alt: String,
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_SMART_PUNCTUATION
}

/// Renders CommonMark with GitHub's extensions (tables, footnotes, strikethrough,
/// task lists) to HTML. Raw HTML in the source is kept: the author is trusted.
pub fn render_markdown(source: &str) -> String {
    render_markdown_with(source, |_| None).html
}

/// Like [`render_markdown`], and also collects the images, rewriting each image
/// `src` for which `rewrite` returns a new URL.
pub fn render_markdown_with(source: &str, rewrite: impl Fn(&str) -> Option<String>) -> Rendered {
    render(source, rewrite, None, 1)
}

/// Like [`render_markdown_with`], and also renders the federated HTML of the post at
/// `page` and marks its mentions (`first_line`: the file line `source` starts on).
pub fn render_post(
    source: &str,
    rewrite: impl Fn(&str) -> Option<String>,
    page: &Url,
    first_line: usize,
) -> Rendered {
    render(source, rewrite, Some(page), first_line)
}

fn render(
    source: &str,
    rewrite: impl Fn(&str) -> Option<String>,
    page: Option<&Url>,
    first_line: usize,
) -> Rendered {
    let mut images = Vec::new();
    let mut alt: Option<String> = None;
    let events: Vec<(Event<'_>, usize)> = Parser::new_ext(source, options())
        .into_offset_iter()
        .map(|(event, range)| (event, range.start))
        .map(|(event, offset)| {
            (
                match event {
                    Event::Start(Tag::Image {
                        link_type,
                        dest_url,
                        title,
                        id,
                    }) => {
                        let src = rewrite(&dest_url).unwrap_or_else(|| dest_url.to_string());
                        images.push(ImageRef {
                            written: dest_url.to_string(),
                            src: src.clone(),
                            alt: String::new(),
                        });
                        alt = Some(String::new());
                        Event::Start(Tag::Image {
                            link_type,
                            dest_url: CowStr::from(src),
                            title,
                            id,
                        })
                    }
                    Event::Text(t) | Event::Code(t) if alt.is_some() => {
                        if let Some(a) = alt.as_mut() {
                            a.push_str(&t);
                        }
                        Event::Text(t)
                    }
                    Event::End(TagEnd::Image) => {
                        if let (Some(a), Some(img)) = (alt.take(), images.last_mut()) {
                            img.alt = a;
                        }
                        Event::End(TagEnd::Image)
                    }
                    other => other,
                },
                offset,
            )
        })
        .collect();
    let line_of = |offset: usize| {
        let before = &source.as_bytes()[..offset.min(source.len())];
        first_line + before.iter().filter(|b| **b == b'\n').count()
    };
    let (events, mentions) = match page {
        Some(_) => mentions::mark(events, line_of),
        None => (events.into_iter().map(|(e, _)| e).collect(), Vec::new()),
    };
    let federated = match page {
        Some(page) => federated_blocks(events.clone(), page),
        None => Vec::new(),
    };
    let events = wrap_tables(super::highlight::highlight_code_blocks(events));
    let mut out = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut out, events.into_iter());
    Rendered {
        html: out,
        federated,
        images,
        mentions,
    }
}

/// Puts each table in a wrapper that scrolls sideways on narrow screens instead of the
/// page; `tabindex` lets keyboard users scroll it (axe: scrollable-region-focusable).
fn wrap_tables(events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    let mut out = Vec::with_capacity(events.len() + 2);
    for event in events {
        match event {
            Event::Start(Tag::Table(_)) => {
                out.push(Event::Html(CowStr::from(
                    "<div class=\"table-wrap\" tabindex=\"0\">\n",
                )));
                out.push(event);
            }
            Event::End(TagEnd::Table) => {
                out.push(event);
                out.push(Event::Html(CowStr::from("</div>\n")));
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_tables_footnotes_and_code_fences() {
        let html = render_markdown(
            "| a | b |\n|---|---|\n| 1 | 2 |\n\nNote[^1]\n\n[^1]: here\n\n```rust\nfn x() {}\n```\n",
        );
        assert!(
            html.contains("<div class=\"table-wrap\" tabindex=\"0\">\n<table>"),
            "{html}"
        );
        assert!(html.contains("</table>\n</div>"), "{html}");
        assert!(html.contains("footnote-definition"), "{html}");
        assert!(html.contains("<code class=\"language-rust\">"), "{html}");
    }

    #[test]
    fn collects_and_rewrites_images() {
        let r = render_markdown_with(
            "![A *red* dot](dot.png) and ![](https://x.example/a.jpg)",
            |src| {
                (!src.starts_with("http")).then(|| format!("https://blog.example/@a/media/{src}"))
            },
        );
        assert_eq!(r.images.len(), 2);
        assert_eq!(r.images[0].alt, "A red dot");
        assert_eq!(r.images[0].src, "https://blog.example/@a/media/dot.png");
        assert!(
            r.html
                .contains("src=\"https://blog.example/@a/media/dot.png\" alt=\"A red dot\""),
            "{}",
            r.html
        );
        assert_eq!(r.images[1].src, "https://x.example/a.jpg");
    }
}
