//! Plain text derived from a post's rendered HTML: reading time and short summaries
//! for link previews and feeds.

/// Words an adult reads per minute in technical prose (a common estimate is 200-250).
const WORDS_PER_MINUTE: usize = 220;

/// The text of an HTML fragment: tags dropped, common entities decoded, whitespace collapsed.
pub fn plain_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                // Tags separate words (`<p>a</p><p>b</p>` is two words).
                text.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let decoded = decode_entities(&text);
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn decode_entities(s: &str) -> String {
    // `&amp;` last, so `&amp;lt;` stays the text `&lt;`.
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// Minutes to read a post, rounded up; at least one.
pub fn reading_minutes(html: &str) -> u32 {
    let words = plain_text(html).split_whitespace().count();
    words.div_ceil(WORDS_PER_MINUTE).max(1) as u32
}

/// The first `max_chars` characters of the text, cut at a word boundary with `…`.
pub fn summary(html: &str, max_chars: usize) -> String {
    let text = plain_text(html);
    if text.chars().count() <= max_chars {
        return text;
    }
    let cut: String = text.chars().take(max_chars).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max_chars / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end_matches([',', ';', ':', '.', ' ']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_drops_tags_and_decodes_entities() {
        assert_eq!(
            plain_text("<p>Fish &amp; <em>chips</em></p>\n<p>a&lt;b</p>"),
            "Fish & chips a<b"
        );
    }

    #[test]
    fn reading_time_rounds_up_and_is_at_least_a_minute() {
        assert_eq!(reading_minutes(""), 1);
        assert_eq!(reading_minutes("<p>one two</p>"), 1);
        let words = "word ".repeat(WORDS_PER_MINUTE + 1);
        assert_eq!(reading_minutes(&format!("<p>{words}</p>")), 2);
        let words = "word ".repeat(WORDS_PER_MINUTE * 5);
        assert_eq!(reading_minutes(&format!("<p>{words}</p>")), 5);
    }

    #[test]
    fn summary_cuts_at_a_word_boundary() {
        assert_eq!(summary("<p>short</p>", 10), "short");
        assert_eq!(
            summary("<p>The quick brown fox jumps over</p>", 18),
            "The quick brown…"
        );
    }
}
