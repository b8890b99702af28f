use chrono::{DateTime, SecondsFormat, Utc};

use crate::domain::escape_html;

/// A sitemap (<https://www.sitemaps.org/protocol.html>) of `(URL, last change)` pairs.
pub fn sitemap(urls: &[(String, Option<DateTime<Utc>>)]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (loc, lastmod) in urls {
        out.push_str("  <url><loc>");
        out.push_str(&escape_html(loc));
        out.push_str("</loc>");
        if let Some(m) = lastmod {
            out.push_str("<lastmod>");
            out.push_str(&m.to_rfc3339_opts(SecondsFormat::Secs, true));
            out.push_str("</lastmod>");
        }
        out.push_str("</url>\n");
    }
    out.push_str("</urlset>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_escaped_and_dated() {
        let at = DateTime::parse_from_rfc3339("2025-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let xml = sitemap(&[
            ("https://b.example/?page=2&x=1".into(), None),
            ("https://b.example/@a/p".into(), Some(at)),
        ]);
        assert!(xml.contains("<loc>https://b.example/?page=2&amp;x=1</loc></url>"));
        assert!(xml.contains("<lastmod>2025-01-02T03:04:05Z</lastmod>"));
    }
}
