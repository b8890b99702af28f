//! How our posts read on other servers (docs/RENDERING.md): the Note shape with a
//! linked title, the type an author may still choose and its pin, HTML that survives
//! Mastodon's and GoToSocial's sanitisers, languages, attribution domains.

use std::collections::HashSet;

use fedblog::service::sync::sync;
use serde_json::Value;

use crate::helpers::{Options, TestApp, spawn_app, spawn_app_with, write_author, write_post};

/// Mastodon's `MASTODON_STRICT` allow list (docs/PEERS.md §1, M
/// `lib/sanitize_ext/sanitize_config.rb:109-137`). A relative or other-scheme link
/// loses its `href` here (Mastodon drops the whole `<a>` and keeps its text).
fn mastodon() -> ammonia::Builder<'static> {
    let mut b = ammonia::Builder::empty();
    b.add_tags([
        "p",
        "br",
        "span",
        "a",
        "del",
        "s",
        "pre",
        "blockquote",
        "code",
        "b",
        "strong",
        "u",
        "i",
        "em",
        "ul",
        "ol",
        "li",
        "ruby",
        "rt",
        "rp",
    ])
    .add_generic_attributes(["lang"])
    .add_tag_attributes("a", ["href", "class", "translate"])
    .add_tag_attributes("span", ["class", "translate"])
    .add_tag_attributes("ol", ["start", "reversed"])
    .add_tag_attributes("li", ["value"])
    .add_tag_attributes("p", ["class"])
    .add_url_schemes([
        "http", "https", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "xmpp", "magnet", "gemini",
    ])
    .url_relative(ammonia::UrlRelative::Deny)
    .link_rel(None);
    b
}

/// GoToSocial's bluemonday policy (docs/PEERS.md §1, G `internal/text/sanitize.go:29-163`),
/// fragment-only links left out (we send none).
fn gotosocial() -> ammonia::Builder<'static> {
    let mut b = ammonia::Builder::empty();
    b.add_tags([
        "article",
        "aside",
        "details",
        "section",
        "summary",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hgroup",
        "blockquote",
        "br",
        "div",
        "hr",
        "p",
        "span",
        "wbr",
        "abbr",
        "acronym",
        "cite",
        "code",
        "dfn",
        "em",
        "figcaption",
        "mark",
        "s",
        "samp",
        "strong",
        "sub",
        "sup",
        "var",
        "q",
        "time",
        "b",
        "i",
        "pre",
        "small",
        "strike",
        "tt",
        "u",
        "del",
        "ins",
        "ol",
        "ul",
        "li",
        "dl",
        "dt",
        "dd",
        "a",
    ])
    .add_generic_attributes(["dir", "lang", "id"])
    .add_tag_attributes("span", ["class"])
    .add_tag_attributes("code", ["class"])
    .add_tag_attributes("a", ["href", "class"])
    .add_url_schemes(["http", "https", "mailto"])
    .url_relative(ammonia::UrlRelative::Deny)
    .link_rel(None);
    b
}

/// The text a reader sees: tags out (blocks end with a space), whitespace collapsed
/// (GoToSocial minifies).
fn text_of(html: &str) -> String {
    let mut text = String::new();
    let mut tag: Option<String> = None;
    for c in html.chars() {
        match (&mut tag, c) {
            (None, '<') => tag = Some(String::new()),
            (Some(t), '>') => {
                let name = t
                    .trim_start_matches('/')
                    .split(' ')
                    .next()
                    .unwrap_or_default();
                if ["p", "li", "pre", "br", "ul", "ol", "blockquote"].contains(&name) {
                    text.push(' ');
                }
                tag = None;
            }
            (Some(t), c) => t.push(c),
            (None, c) => text.push(c),
        }
    }
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

const RICH: &str = "---\ntitle: \"Rich\"\ndate: 2025-05-01\n---\n\nSee [the first](first-post), [a part](#part).[^n]\n\n```rust\nfn main() { let x = \"<hi>\"; }\n```\n\n![A dot](https://img.example/dot.png)\n\n| Name | Age |\n|------|-----|\n| Ann  | 3   |\n| Ben  | 4   |\n\n## Part\n\nThe end.\n\n[^n]: A note.\n";

#[tokio::test]
async fn federated_html_reads_well_after_mastodon_and_gotosocial_sanitisers() {
    let app = spawn_app().await;
    write_post(&app.content(), "alice", "rich", RICH);
    sync(&app.state).await.unwrap();
    let post_url = format!("{}/rich", app.actor("alice"));
    let object = app.get_json(&post_url).await;
    let content = object["content"].as_str().unwrap();
    assert!(!content.contains("<span"), "no highlight spans: {content}");
    // The page keeps its highlighting.
    assert!(app.html("/@alice/rich").await.contains("hl-"));
    for (server, builder) in [("Mastodon", mastodon()), ("GoToSocial", gotosocial())] {
        let clean = builder.clean(content).to_string();
        let text = text_of(&clean);
        assert!(
            text.starts_with("Rich See the first, a part.[1]"),
            "{server}: {text}"
        );
        assert!(
            text.contains("Name — Age Ann — 3 Ben — 4"),
            "{server}: {text}"
        );
        assert!(text.contains("[1] A note."), "{server}: {text}");
        assert!(
            text.contains("fn main() { let x = \"<hi>\"; }"),
            "{server}: {text}"
        );
        assert!(!clean.contains("<p></p>"), "{server}: {clean}");
        assert!(!clean.contains("<span"), "{server}: {clean}");
        // Every link kept its (absolute) target.
        let links = clean.matches("<a ").count();
        let absolute = clean.matches("<a href=\"http://localhost:").count();
        assert_eq!((links, absolute), (4, 4), "{server}: {clean}");
        assert!(
            clean.contains(&format!("<a href=\"{post_url}#n\">[1]</a>")),
            "{server}: {clean}"
        );
        assert!(
            clean.contains(&format!("href=\"{}/first-post\"", app.actor("alice"))),
            "{server}: {clean}"
        );
    }
}

/// The type each post was stored as.
async fn kinds(app: &TestApp) -> Vec<(String, String)> {
    sqlx::query_as("SELECT slug, kind FROM posts ORDER BY slug")
        .fetch_all(&app.sql)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_post_keeps_the_type_it_was_federated_as_when_the_default_changes() {
    let app = spawn_app().await;
    write_author(&app.content(), "carol", "Carol", Some("Article"));
    write_post(
        &app.content(),
        "carol",
        "old",
        "---\ntitle: Old\ndate: 2025-01-01\nexcerpt: Gist.\n---\nBody.\n",
    );
    sync(&app.state).await.unwrap();
    let old_url = format!("{}/old", app.actor("carol"));
    assert_eq!(app.get_json(&old_url).await["type"], "Article");

    // The author drops the default: no Update of the old post, which stays an Article;
    // a new post takes the new default.
    write_author(&app.content(), "carol", "Carol", None);
    write_post(
        &app.content(),
        "carol",
        "new",
        "---\ntitle: New\ndate: 2025-01-02\n---\nBody.\n",
    );
    let report = sync(&app.state).await.unwrap();
    assert_eq!((report.published, report.updated), (1, 0), "{report:?}");
    assert_eq!(app.get_json(&old_url).await["type"], "Article");
    let new = app.get_json(&format!("{}/new", app.actor("carol"))).await;
    assert_eq!(new["type"], "Note");

    // Back to Article by default: the Note stays a Note, without an Update.
    write_author(&app.content(), "carol", "Carol", Some("Article"));
    let report = sync(&app.state).await.unwrap();
    assert_eq!((report.published, report.updated), (0, 0), "{report:?}");
    let stored = kinds(&app).await;
    assert!(
        stored.contains(&("new".into(), "Note".into())),
        "{stored:?}"
    );
    assert!(
        stored.contains(&("old".into(), "Article".into())),
        "{stored:?}"
    );

    // A type named in the file wins, and that is an Update.
    write_post(
        &app.content(),
        "carol",
        "old",
        "---\ntitle: Old\ndate: 2025-01-01\nexcerpt: Gist.\ntype: Note\n---\nBody.\n",
    );
    assert_eq!(sync(&app.state).await.unwrap().updated, 1);
    let old = app.get_json(&old_url).await;
    assert_eq!(old["type"], "Note");
    assert!(
        old.get("summary").is_none() && old.get("name").is_none(),
        "{old}"
    );
    assert!(
        old["content"]
            .as_str()
            .unwrap()
            .contains(">Old</a></strong></p>")
    );
}

#[tokio::test]
async fn language_follows_front_matter_else_the_site_setting() {
    let app = spawn_app_with(Options {
        config: "\n[site]\nlanguage = \"de\"\nattribution_domains = [\"https://example.com\", \"localhost\"]\n",
        ..Options::default()
    })
    .await;
    write_post(
        &app.content(),
        "alice",
        "bonjour",
        "---\ntitle: Bonjour\ndate: 2025-05-01\nlang: fr\n---\nSalut.\n",
    );
    sync(&app.state).await.unwrap();
    let fr = app
        .get_json(&format!("{}/bonjour", app.actor("alice")))
        .await;
    let map = fr["contentMap"].as_object().unwrap();
    assert_eq!(map.keys().collect::<Vec<_>>(), ["fr"]);
    assert_eq!(map["fr"], fr["content"]);
    let de = app
        .get_json(&format!("{}/first-post", app.actor("alice")))
        .await;
    assert!(de["contentMap"]["de"].is_string(), "{de}");

    assert!(
        app.html("/@alice/bonjour")
            .await
            .contains("<html lang=\"fr\">")
    );
    assert!(
        app.html("/@alice/first-post")
            .await
            .contains("<html lang=\"de\">")
    );
    assert!(app.html("/").await.contains("<html lang=\"de\">"));

    let feed: Value = app
        .get("/@alice/feed.json", "application/feed+json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(feed["language"], "de");
    let langs: HashSet<(&str, &str)> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["url"].as_str().unwrap(), i["language"].as_str().unwrap()))
        .map(|(u, l)| (u.rsplit('/').next().unwrap(), l))
        .collect();
    assert_eq!(
        langs,
        HashSet::from([("bonjour", "fr"), ("first-post", "de")])
    );
    let atom = app
        .get("/@alice/feed.atom", "application/atom+xml")
        .await
        .text()
        .await
        .unwrap();
    assert!(atom.contains("xml:lang=\"fr\""), "{atom}");

    // Authors credit: our host and the configured domains, bare and once each.
    let actor = app.get_json(&app.actor("alice")).await;
    assert_eq!(
        actor["attributionDomains"],
        serde_json::json!(["localhost", "example.com"])
    );
}

#[tokio::test]
async fn a_very_long_post_federates_its_excerpt_and_a_link() {
    let app = spawn_app().await;
    let paragraph = "A sentence long enough to fill the post with words. ".repeat(20);
    let body = format!("{paragraph}\n\n").repeat(40);
    write_post(
        &app.content(),
        "alice",
        "long",
        &format!("---\ntitle: Long\ndate: 2025-05-01\nexcerpt: \"The short of it.\"\n---\n{body}"),
    );
    sync(&app.state).await.unwrap();
    let url = format!("{}/long", app.actor("alice"));
    let object = app.get_json(&url).await;
    let content = object["content"].as_str().unwrap();
    assert!(content.contains("<p>The short of it.</p>"), "{content}");
    assert!(
        content.contains(&format!("<a href=\"{url}\">Continue reading</a>")),
        "{content}"
    );
    // Under Misskey's 64 KiB inbox limit, with room to spare for the envelope.
    assert!(serde_json::to_vec(&object).unwrap().len() < 16 * 1024);
    // `check` says so.
    let check = app.cli(&["check"]).await;
    let out = String::from_utf8_lossy(&check.stdout);
    assert!(
        out.contains("long.md: longer than 24 KiB once rendered: the fediverse gets its excerpt"),
        "{out}"
    );
    // The page has it all.
    assert!(app.html("/@alice/long").await.matches("A sentence").count() >= 800);
}
