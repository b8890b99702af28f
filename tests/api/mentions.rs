//! `@user@server` in a post's Markdown: a link, a `Mention` tag and a delivery to the
//! mentioned account; unresolvable mentions stay text with a warning.

use serde_json::Value;

use crate::{
    handles::FingerPeer,
    helpers::{Options, eventually, spawn_app, spawn_app_with, write_post},
    interop_fedify::FedifyPeer,
};

fn mention_tags(post: &Value) -> Vec<(String, String)> {
    post["tag"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["type"] == "Mention")
        .map(|t| {
            (
                t["name"].as_str().unwrap_or_default().to_owned(),
                t["href"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_mention_becomes_a_link_a_mention_tag_and_a_delivery() {
    let app = spawn_app().await;
    let peer = FingerPeer::start().await;
    let bob = format!("bob@localhost:{}", peer.port);
    write_post(
        &app.content(),
        "alice",
        "hello-bob",
        &format!(
            "---\ndate: 2025-06-01\n---\n\nHello @{bob}! Not `@{bob}` in code, nor mail to joe@example.com.\n\n```\n@{bob}\n```\n"
        ),
    );
    let out = app.sync_cli().await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let post = app
        .get_json(&format!("{}/@alice/hello-bob", app.base))
        .await;
    assert_eq!(
        mention_tags(&post),
        [(format!("@{bob}"), peer.actor("bob"))],
        "{post}"
    );
    let content = post["content"].as_str().expect("content");
    assert!(
        content.contains(&format!(
            "<a href=\"{}/@bob\" class=\"u-url mention\"",
            peer.base
        )),
        "{content}"
    );
    assert!(
        content.contains(&format!("<code>@{bob}</code>")),
        "{content}"
    );
    assert!(
        content.contains(&format!("<pre><code>@{bob}\n")),
        "{content}"
    );
    assert!(content.contains("joe@example.com"), "{content}");
    assert_eq!(
        content.matches("class=\"u-url mention\"").count(),
        1,
        "{content}"
    );
    // Nobody follows alice: the Create goes to the mentioned account alone.
    app.deliver_all().await;
    let creates: Vec<_> = peer
        .received()
        .into_iter()
        .filter(|(_, body)| body["type"] == "Create")
        .collect();
    assert_eq!(creates.len(), 1, "{creates:?}");
    assert_eq!(creates[0].0, "/inbox");
    assert_eq!(creates[0].1["object"]["id"], post["id"]);
}

#[tokio::test]
async fn an_unresolvable_mention_publishes_as_text_with_a_warning() {
    let app = spawn_app().await;
    let peer = FingerPeer::start().await;
    let nobody = format!("nobody-here@split.localhost:{}", peer.port);
    write_post(
        &app.content(),
        "alice",
        "hello-nobody",
        &format!("---\ndate: 2025-06-01\n---\n\nFirst line.\n\nHello @{nobody}.\n"),
    );
    for command in ["sync", "check"] {
        let out = app.cli(&[command]).await;
        assert!(
            out.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            printed.contains("warning: ")
                && printed.contains(&format!("hello-nobody.md:7: @{nobody}")),
            "{command}: {printed}"
        );
    }
    let post = app
        .get_json(&format!("{}/@alice/hello-nobody", app.base))
        .await;
    assert!(mention_tags(&post).is_empty(), "{post}");
    assert!(
        post["content"]
            .as_str()
            .is_some_and(|c| c.contains(&format!("Hello @{nobody}.")) && !c.contains('\u{F8FF}')),
        "{post}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_reaches_the_fedify_peer_inbox() {
    let app = spawn_app_with(Options {
        worker: true,
        ..Options::default()
    })
    .await;
    let peer = FedifyPeer::start();
    let reader = format!("reader@{}", peer.base.trim_start_matches("http://"));
    write_post(
        &app.content(),
        "alice",
        "hello-fedify",
        &format!("---\ndate: 2025-06-01\n---\n\nHello @{reader}.\n"),
    );
    let out = app.sync_cli().await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let post_url = format!("{}/@alice/hello-fedify", app.base);
    let create = eventually(30, "the mention to reach Fedify", || async {
        let received = peer.inbox().await;
        received["received"]
            .as_array()?
            .iter()
            .find(|r| {
                r["type"] == "Create"
                    && r["raw"].as_str().is_some_and(|raw| raw.contains(&post_url))
            })
            .cloned()
    })
    .await;
    assert_eq!(create["verifiedBy"], "http-signature", "{create}");
    let raw: Value = serde_json::from_str(create["raw"].as_str().expect("raw")).expect("json");
    assert_eq!(
        mention_tags(&raw["object"]),
        [(format!("@{reader}"), format!("{}/users/reader", peer.base))]
    );
}
