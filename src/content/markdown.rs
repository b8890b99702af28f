use pulldown_cmark::{Options, Parser, html};

/// Renders CommonMark with GitHub's extensions (tables, footnotes, strikethrough,
/// task lists) to HTML. Raw HTML in the source is kept: the author is trusted.
pub fn render_markdown(source: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_SMART_PUNCTUATION;
    let mut out = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut out, Parser::new_ext(source, options));
    out
}

/// Escapes text for use in HTML content or a quoted attribute.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // pulldown-cmark's escaper is the one the renderer itself uses.
    let _ = pulldown_cmark_escape::escape_html(&mut out, text);
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
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("footnote-definition"), "{html}");
        assert!(html.contains("<code class=\"language-rust\">"), "{html}");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape_html("<a href=\"x\">&"),
            "&lt;a href=&quot;x&quot;&gt;&amp;"
        );
    }
}
