//! Syntax highlighting of fenced code blocks, done once when a post is rendered.
//! Tokens get CSS classes (`hl-keyword`, `hl-string`, ...) rather than inline colours,
//! so the theme's stylesheet picks colours for light and dark mode.

use std::sync::OnceLock;

use pulldown_cmark::{CodeBlockKind, CowStr, Event, Tag, TagEnd};
use syntect::{
    html::{ClassStyle, ClassedHTMLGenerator},
    parsing::{SyntaxReference, SyntaxSet},
    util::LinesWithEndings,
};

use crate::domain::escape_html;

/// Class prefix of highlighted tokens; the stylesheet styles `.hl-*`.
const CLASS_STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: "hl-" };

fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

/// Replaces every fenced code block in a Markdown event stream with highlighted HTML.
/// Blocks in a language syntect does not know (or with none) stay plain, escaped text.
pub fn highlight_code_blocks(events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    let mut out = Vec::with_capacity(events.len());
    // The open block's language and the text collected so far.
    let mut open: Option<(String, String)> = None;
    for event in events {
        match (event, open.as_mut()) {
            (Event::Start(Tag::CodeBlock(kind)), None) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => info
                        .split(|c: char| c.is_whitespace() || c == ',')
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                    CodeBlockKind::Indented => String::new(),
                };
                open = Some((lang, String::new()));
            }
            (Event::Text(t), Some((_, code))) => code.push_str(&t),
            (Event::End(TagEnd::CodeBlock), Some(_)) => {
                if let Some((lang, code)) = open.take() {
                    out.push(Event::Html(CowStr::from(code_block_html(&lang, &code))));
                }
            }
            (other, _) => out.push(other),
        }
    }
    out
}

/// One code block as `<pre><code class="language-x">`, highlighted when the language is known.
/// `tabindex` lets keyboard users scroll a long line into view (axe: scrollable-region-focusable).
pub fn code_block_html(lang: &str, code: &str) -> String {
    let body = find_syntax(lang)
        .and_then(|syntax| highlight(syntax, code))
        .unwrap_or_else(|| escape_html(code));
    if lang.is_empty() {
        format!("<pre tabindex=\"0\"><code>{body}</code></pre>\n")
    } else {
        let lang = escape_html(lang);
        format!(
            "<pre tabindex=\"0\" data-lang=\"{lang}\"><code class=\"language-{lang}\">{body}</code></pre>\n"
        )
    }
}

fn find_syntax(lang: &str) -> Option<&'static SyntaxReference> {
    if lang.is_empty() {
        return None;
    }
    let set = syntaxes();
    set.find_syntax_by_token(lang)
        .or_else(|| set.find_syntax_by_extension(&lang.to_ascii_lowercase()))
        .filter(|s| s.name != "Plain Text")
}

fn highlight(syntax: &SyntaxReference, code: &str) -> Option<String> {
    let mut generator = ClassedHTMLGenerator::new_with_class_style(syntax, syntaxes(), CLASS_STYLE);
    for line in LinesWithEndings::from(code) {
        // A grammar error leaves the block plain rather than failing the post.
        generator
            .parse_html_for_line_which_includes_newline(line)
            .ok()?;
    }
    Some(generator.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_languages_get_token_classes() {
        let html = code_block_html("rust", "fn main() { let s = \"<hi>\"; }\n");
        assert!(
            html.starts_with(
                "<pre tabindex=\"0\" data-lang=\"rust\"><code class=\"language-rust\">"
            )
        );
        assert!(
            html.contains("hl-keyword") || html.contains("hl-storage"),
            "{html}"
        );
        assert!(html.contains("hl-string"), "{html}");
        assert!(html.contains("&lt;hi&gt;"), "{html}");
    }

    #[test]
    fn unknown_languages_stay_plain_and_escaped() {
        assert_eq!(
            code_block_html("nosuchlang", "<b>\n"),
            "<pre tabindex=\"0\" data-lang=\"nosuchlang\"><code class=\"language-nosuchlang\">&lt;b&gt;\n</code></pre>\n"
        );
        assert_eq!(
            code_block_html("", "x\n"),
            "<pre tabindex=\"0\"><code>x\n</code></pre>\n"
        );
    }

    #[test]
    fn aliases_resolve_by_extension() {
        assert!(code_block_html("py", "def f():\n  pass\n").contains("hl-"));
        assert!(code_block_html("go", "func f() {}\n").contains("hl-"));
    }
}
