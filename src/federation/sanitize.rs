//! Remote HTML (replies from other servers) is cleaned with an allow list before it is
//! stored, so no script, style, event attribute or `javascript:` link can reach a page.

use std::{collections::HashSet, sync::LazyLock};

/// The most HTML a remote reply may carry; more is refused, not truncated mid-tag.
pub const MAX_REMOTE_HTML: usize = 64 * 1024;

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::empty();
    b.add_tags([
        "p",
        "br",
        "a",
        "span",
        "strong",
        "b",
        "em",
        "i",
        "u",
        "s",
        "del",
        "blockquote",
        "code",
        "pre",
        "ul",
        "ol",
        "li",
    ])
    .add_tag_attributes("a", ["href"])
    // Mastodon marks mentions and hashtags with these classes and hides URL parts
    // with `invisible`/`ellipsis`; the theme styles exactly these.
    .allowed_classes(
        [
            ("a", HashSet::from(["mention", "hashtag", "u-url"])),
            ("span", HashSet::from(["h-card", "invisible", "ellipsis"])),
        ]
        .into_iter()
        .collect(),
    )
    .url_schemes(HashSet::from(["http", "https"]))
    .link_rel(Some("nofollow noopener noreferrer ugc"))
    .strip_comments(true);
    b
});

/// Cleans remote HTML for display on our pages.
pub fn remote_html(html: &str) -> String {
    CLEANER.clean(html).to_string()
}

/// A remote plain-text field (a content warning), bounded; pages escape it.
pub fn short_text(text: &str, max_chars: usize) -> String {
    text.trim().chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_scripts_styles_and_handlers() {
        let dirty = r#"<p onclick="x()">Hi <script>alert(1)</script><style>p{}</style>
            <img src=x onerror="alert(1)"><a href="javascript:alert(1)">j</a>
            <a href="https://ok.example/" style="color:red" target="_blank">ok</a></p>"#;
        let clean = remote_html(dirty);
        for bad in [
            "script",
            "onclick",
            "onerror",
            "style",
            "javascript:",
            "<img",
            "target",
        ] {
            assert!(!clean.contains(bad), "{bad} survived in {clean}");
        }
        assert!(
            clean.contains(
                r#"<a href="https://ok.example/" rel="nofollow noopener noreferrer ugc">ok</a>"#
            ),
            "{clean}"
        );
    }

    #[test]
    fn keeps_mastodon_mentions() {
        let html = r#"<p><span class="h-card"><a href="https://m.example/@a" class="u-url mention evil">@<span>a</span></a></span> hi</p>"#;
        let clean = remote_html(html);
        assert!(clean.contains(r#"class="u-url mention""#), "{clean}");
        assert!(!clean.contains("evil"));
    }
}
