//! FEP-044f quote consent: QuoteRequest answered with Accept and a dereferenceable
//! QuoteAuthorization, policies, revocation, and quotes listed on the post's page.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};

use crate::{
    helpers::{AP, Options, TestApp, eventually, spawn_app, spawn_app_with, write_post},
    peer::TestPeer,
};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

fn post_url(app: &TestApp) -> String {
    format!("{}/@alice/first-post", app.base)
}

fn next() -> u64 {
    static N: AtomicU64 = AtomicU64::new(1);
    N.fetch_add(1, Ordering::Relaxed)
}

impl TestPeer {
    /// A public Note by `name` quoting `target` the FEP-044f way (`quote`), with
    /// Mastodon's other keys beside it.
    fn quote_note(&self, name: &str, local: &str, target: &str, text: &str) -> Value {
        let mut note = self.note(name, local, "", text);
        let o = note.as_object_mut().expect("note");
        o.remove("inReplyTo");
        o.insert("quote".into(), json!(target));
        o.insert("_misskey_quote".into(), json!(target));
        o.insert("quoteUri".into(), json!(target));
        note
    }

    /// A QuoteRequest by `name` to quote `target` with `instrument`, as Mastodon sends it.
    fn quote_request(&self, name: &str, target: &str, instrument: Value) -> Value {
        json!({
            "@context": ["https://www.w3.org/ns/activitystreams",
                { "QuoteRequest": "https://w3id.org/fep/044f#QuoteRequest" }],
            "id": format!("{}/quote_requests/{}", self.actor(name), next()),
            "type": "QuoteRequest",
            "actor": self.actor(name),
            "object": target,
            "instrument": instrument,
        })
    }

    /// The answers (`Accept`/`Reject`) to the QuoteRequest `request_id` that reached
    /// `name`'s own inbox.
    fn answers_to(&self, name: &str, request_id: &Value) -> Vec<Value> {
        self.received()
            .into_iter()
            .filter(|r| r.path == format!("/users/{name}/inbox"))
            .filter(|r| r.body["object"]["id"] == *request_id)
            .map(|r| r.body)
            .collect()
    }
}

/// The part of the page the conversation fills.
fn interactions(html: &str) -> &str {
    html.find(r#"<section class="interactions""#)
        .map(|i| &html[i..])
        .and_then(|s| s.find("</section>").map(|j| &s[..j]))
        .unwrap_or("")
}

async fn receive_all(app: &TestApp, peer: &TestPeer, name: &str, activity: &Value) {
    assert_eq!(app.receive(peer, name, activity).await, 202);
    app.inbox_settled().await;
    app.deliver_all().await;
}

#[tokio::test]
async fn quote_request_is_accepted_with_an_authorization_that_revocation_deletes() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let post = post_url(&app);

    // Our post tells Mastodon anyone may quote it.
    let doc = app.get_json(&post).await;
    assert_eq!(
        doc["interactionPolicy"]["canQuote"]["automaticApproval"],
        json!([PUBLIC])
    );

    let note = peer.quote_note("bob", "q1", &post, "<p>Worth reading.</p>");
    let request = peer.quote_request("bob", &post, note.clone());
    receive_all(&app, &peer, "bob", &request).await;

    let answers = peer.answers_to("bob", &request["id"]);
    assert_eq!(answers.len(), 1, "{answers:?}");
    let accept = &answers[0];
    assert_eq!(accept["type"], "Accept");
    assert_eq!(accept["actor"], app.actor("alice"));
    assert_eq!(accept["object"]["type"], "QuoteRequest");
    assert_eq!(accept["object"]["object"], post);
    assert_eq!(accept["object"]["instrument"], note["id"]);
    let result = accept["result"]
        .as_str()
        .expect("Accept has a result")
        .to_owned();
    assert!(
        result.starts_with(&format!("{}/@alice/", app.base)),
        "the authorization is on our host, under the author: {result}"
    );

    // The stamp others check, served as ActivityStreams JSON.
    let stamp = app.get_json(&result).await;
    assert_eq!(stamp["id"], result);
    assert_eq!(stamp["type"], "QuoteAuthorization");
    assert_eq!(stamp["attributedTo"], app.actor("alice"));
    assert_eq!(stamp["interactingObject"], note["id"]);
    assert_eq!(stamp["interactionTarget"], post);
    assert_eq!(
        stamp["@context"][0],
        "https://www.w3.org/ns/activitystreams"
    );

    // A second request for the same quote gets the same authorization; one quote stored.
    let again = peer.quote_request("bob", &post, note.clone());
    receive_all(&app, &peer, "bob", &again).await;
    let answers = peer.answers_to("bob", &again["id"]);
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0]["result"], result.as_str());
    assert_eq!(app.count("SELECT COUNT(*) FROM quotes").await, 1);

    // Listed on the page, next to boosts.
    let html = app.html("/@alice/first-post").await;
    let section = interactions(&html);
    assert!(section.contains("1</strong> quote"), "{section}");
    assert!(
        section.contains(&format!("href=\"{}", note["url"].as_str().unwrap())),
        "{section}"
    );
    assert!(section.contains("Worth reading."), "{section}");

    // The author lists and revokes it.
    let listed = app
        .cli(&["quotes", "list", "--author", "alice", "--json"])
        .await;
    let listed: Value = serde_json::from_slice(&listed.stdout).expect("JSON list");
    assert_eq!(listed[0]["authorization"], result.as_str());
    assert_eq!(listed[0]["state"], "approved");
    let out = app.cli(&["quotes", "revoke", &result]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    app.deliver_all().await;

    let deletes: Vec<_> = peer
        .received_of_type("Delete")
        .into_iter()
        .filter(|r| r.body["object"]["id"] == result.as_str())
        .collect();
    assert!(
        deletes.iter().any(|r| r.path == "/users/bob/inbox"),
        "the quoting actor is told: {deletes:?}"
    );
    let delete = &deletes[0].body;
    assert_eq!(delete["actor"], app.actor("alice"));
    assert_eq!(delete["object"]["type"], "QuoteAuthorization");
    assert_eq!(delete["id"], format!("{result}#delete"));

    let gone = app
        .client
        .get(&result)
        .header("accept", AP)
        .send()
        .await
        .expect("GET");
    assert_eq!(gone.status(), 410);
    // The server follows the command's change within its cache's catch-up interval.
    eventually(5, "the revoked quote to leave the page", || async {
        let html = app.html("/@alice/first-post").await;
        (!interactions(&html).contains("Worth reading.")).then_some(())
    })
    .await;

    // A revoked quote stays revoked: asking again is refused.
    let third = peer.quote_request("bob", &post, note);
    receive_all(&app, &peer, "bob", &third).await;
    assert_eq!(peer.answers_to("bob", &third["id"])[0]["type"], "Reject");
}

#[tokio::test]
async fn nobody_policy_of_an_author_or_a_post_rejects_quote_requests() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let content = app.content();
    // Bob lets nobody quote him, except in one post; one of Alice's posts is closed.
    std::fs::write(
        content.join("bob/author.toml"),
        "name = \"Bob Example\"\nquotes = \"nobody\"\n",
    )
    .expect("author.toml");
    write_post(
        &content,
        "bob",
        "closed",
        "---\ntitle: Closed\ndate: 2025-01-16\n---\n\nMine.\n",
    );
    write_post(
        &content,
        "bob",
        "open",
        "---\ntitle: Open\ndate: 2025-01-17\nquotes: anyone\n---\n\nQuote me.\n",
    );
    write_post(
        &content,
        "alice",
        "private-thoughts",
        "---\ntitle: Private thoughts\ndate: 2025-01-18\nquotes: nobody\n---\n\nNo quotes.\n",
    );
    let out = app.sync_cli().await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let closed = format!("{}/@bob/closed", app.base);
    let open = format!("{}/@bob/open", app.base);
    let private = format!("{}/@alice/private-thoughts", app.base);
    // The documents say so: only the author is approved automatically.
    for (url, who) in [
        (&closed, app.actor("bob")),
        (&private, app.actor("alice")),
        (&open, PUBLIC.to_owned()),
    ] {
        let doc = app.get_json(url).await;
        assert_eq!(
            doc["interactionPolicy"]["canQuote"]["automaticApproval"],
            json!([who]),
            "{url}"
        );
    }

    for (i, (target, expected)) in [(&closed, "Reject"), (&private, "Reject"), (&open, "Accept")]
        .into_iter()
        .enumerate()
    {
        let note = peer.quote_note("carol", &format!("n{i}"), target, "<p>Hm.</p>");
        let request = peer.quote_request("carol", target, note);
        receive_all(&app, &peer, "carol", &request).await;
        let answers = peer.answers_to("carol", &request["id"]);
        assert_eq!(answers.len(), 1, "{target}: {answers:?}");
        assert_eq!(answers[0]["type"], expected, "{target}");
        if expected == "Reject" {
            assert!(answers[0].get("result").is_none());
        }
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM quotes WHERE state = 'approved'")
            .await,
        1,
        "only the open post's quote is approved"
    );
}

#[tokio::test]
async fn a_followers_policy_accepts_followers_and_rejects_others() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    write_post(
        &app.content(),
        "alice",
        "for-friends",
        "---\ntitle: For friends\ndate: 2025-01-18\nquotes: followers\n---\n\nHi.\n",
    );
    let out = app.sync_cli().await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let post = format!("{}/@alice/for-friends", app.base);
    let doc = app.get_json(&post).await;
    assert_eq!(
        doc["interactionPolicy"]["canQuote"]["automaticApproval"],
        json!([format!("{}/followers", app.actor("alice"))])
    );
    app.followed_by(&peer, "alice", &["carol"]).await;
    for (name, expected) in [("carol", "Accept"), ("dave", "Reject")] {
        let note = peer.quote_note(name, "f1", &post, "<p>Friends only.</p>");
        let request = peer.quote_request(name, &post, note);
        receive_all(&app, &peer, name, &request).await;
        let answers = peer.answers_to(name, &request["id"]);
        assert_eq!(answers.len(), 1, "{name}: {answers:?}");
        assert_eq!(answers[0]["type"], expected, "{name}");
    }
}

#[tokio::test]
async fn a_bad_quotes_value_names_file_line_and_field() {
    let app = spawn_app().await;
    write_post(
        &app.content(),
        "alice",
        "typo",
        "---\ntitle: Typo\ndate: 2025-01-16\nquotes: everybody\n---\n\nHi.\n",
    );
    std::fs::write(
        app.content().join("bob/author.toml"),
        "name = \"Bob Example\"\nquotes = \"all\"\n",
    )
    .expect("author.toml");
    let out = app.cli(&["check"]).await;
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("typo.md:4"), "{text}");
    assert!(text.contains("`quotes`"), "{text}");
    assert!(text.contains("anyone"), "{text}");
    assert!(text.contains("author.toml:2"), "{text}");
}

#[tokio::test]
async fn misskey_and_mastodon_style_quotes_are_listed_on_the_page() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let post = post_url(&app);

    // Misskey: `_misskey_quote` and `quoteUrl`, no request; its HTML is sanitised.
    let mut misskey = peer.note(
        "mia",
        "m1",
        "",
        "<p>RE: nice <script>alert(1)</script>post</p>",
    );
    let o = misskey.as_object_mut().expect("note");
    o.remove("inReplyTo");
    o.insert("_misskey_quote".into(), json!(post));
    o.insert("quoteUrl".into(), json!(post));
    receive_all(
        &app,
        &peer,
        "mia",
        &peer.activity("mia", "Create", misskey.clone()),
    )
    .await;

    // A Mastodon-style Create carrying `quote` only.
    let mastodon = peer.quote_note("max", "x1", &post, "<p>Quoting this.</p>");
    let mut mastodon = mastodon;
    let o = mastodon.as_object_mut().expect("note");
    o.remove("_misskey_quote");
    o.remove("quoteUri");
    receive_all(
        &app,
        &peer,
        "max",
        &peer.activity("max", "Create", mastodon.clone()),
    )
    .await;

    let html = app.html("/@alice/first-post").await;
    let section = interactions(&html);
    assert!(section.contains("2</strong> quotes"), "{section}");
    for note in [&misskey, &mastodon] {
        let url = note["url"].as_str().unwrap();
        assert!(
            section.contains(&format!("href=\"{url}\"")),
            "{url}: {section}"
        );
    }
    assert!(section.contains("Quoting this."), "{section}");
    assert!(!section.contains("<script"), "{section}");
    assert!(!section.contains("alert(1)"), "{section}");
    // Not taken for replies.
    assert_eq!(app.count("SELECT COUNT(*) FROM replies").await, 0);
}

#[tokio::test]
async fn mastodons_quote_request_fixture_is_accepted_through_the_inbox() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let fixture = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/activities/peers/mastodon-quote-request.json"
    ))
    .expect("fixture")
    .replace("https://blog.example/@alice/hello-world", &post_url(&app))
    .replace("https://blog.example", &app.base)
    .replace("https://mastodon.example", &peer.base);
    let request: Value = serde_json::from_str(&fixture).expect("JSON");

    // To the author's own inbox, as Mastodon sends it.
    let status = peer
        .post_signed(
            &app.client,
            "bob",
            &format!("{}/@alice/inbox", app.base),
            &request,
        )
        .await
        .status();
    assert_eq!(status, 202);
    app.inbox_settled().await;
    app.deliver_all().await;

    let answers = peer.answers_to("bob", &request["id"]);
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(answers[0]["type"], "Accept");
    let stamp = app
        .get_json(answers[0]["result"].as_str().expect("result"))
        .await;
    assert_eq!(stamp["interactingObject"], request["instrument"]["id"]);
    let html = app.html("/@alice/first-post").await;
    let section = interactions(&html);
    assert!(
        section.contains("This is the clearest explanation of the problem I have read."),
        "{section}"
    );
}

#[tokio::test]
async fn forged_or_unsigned_quote_requests_are_refused_and_store_nothing() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let post = post_url(&app);
    let inbox = format!("{}/inbox", app.base);

    // Unsigned.
    let request = peer.quote_request(
        "bob",
        &post,
        peer.quote_note("bob", "u1", &post, "<p>x</p>"),
    );
    let res = app
        .client
        .post(&inbox)
        .header("content-type", "application/activity+json")
        .body(request.to_string())
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 401);

    // Signed, but the signature does not verify.
    let request = peer.quote_request(
        "bob",
        &post,
        peer.quote_note("bob", "u2", &post, "<p>x</p>"),
    );
    let body = serde_json::to_vec(&request).unwrap();
    let mut req = app.client.post(&inbox).body(body.clone());
    for (k, v) in peer.badly_signed_headers("bob", &inbox, &body) {
        req = req.header(k, v);
    }
    assert_eq!(req.send().await.expect("POST").status(), 401);

    // Signed by Bob in Carol's name.
    let request = peer.quote_request(
        "carol",
        &post,
        peer.quote_note("carol", "u3", &post, "<p>x</p>"),
    );
    assert_eq!(app.receive(&peer, "bob", &request).await, 401);

    // Bob asks to quote with a note he claims Carol wrote: stored, then refused.
    let mut note = peer.quote_note("bob", "u4", &post, "<p>x</p>");
    note["attributedTo"] = json!(peer.actor("carol"));
    let request = peer.quote_request("bob", &post, note);
    receive_all(&app, &peer, "bob", &request).await;
    assert!(peer.answers_to("bob", &request["id"]).is_empty());

    assert_eq!(app.count("SELECT COUNT(*) FROM quotes").await, 0);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM inbox_activities WHERE kind = 'QuoteRequest' AND state = 'done'"
        )
        .await,
        0
    );
    assert!(peer.received_of_type("Accept").is_empty());

    // The same peer's genuine request is answered.
    let request = peer.quote_request(
        "bob",
        &post,
        peer.quote_note("bob", "u5", &post, "<p>x</p>"),
    );
    receive_all(&app, &peer, "bob", &request).await;
    assert_eq!(peer.answers_to("bob", &request["id"])[0]["type"], "Accept");
    assert_eq!(app.count("SELECT COUNT(*) FROM quotes").await, 1);
}

#[tokio::test]
async fn in_secure_mode_the_authorization_needs_a_signed_get_and_a_deleted_quote_leaves() {
    let app = spawn_app_with(Options {
        config: "\n[federation]\nauthorized_fetch = true\n",
        ..Options::default()
    })
    .await;
    let peer = TestPeer::start().await;
    let post = post_url(&app);
    let note = peer.quote_note("bob", "s1", &post, "<p>Secure.</p>");
    let request = peer.quote_request("bob", &post, note.clone());
    receive_all(&app, &peer, "bob", &request).await;
    let result = peer.answers_to("bob", &request["id"])[0]["result"]
        .as_str()
        .expect("result")
        .to_owned();

    let get = |headers: Vec<(String, String)>| {
        let mut req = app.client.get(&result).header("accept", AP);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.send()
    };
    assert_eq!(get(Vec::new()).await.expect("GET").status(), 401);
    let signed = get(peer.signed_get_headers("eve", &result))
        .await
        .expect("GET");
    assert_eq!(signed.status(), 200);
    let stamp: Value = signed.json().await.expect("JSON");
    assert_eq!(stamp["interactingObject"], note["id"]);

    // Bob deletes his quote: it leaves the page and its authorization is gone.
    let tombstone = json!({ "id": note["id"], "type": "Tombstone" });
    receive_all(
        &app,
        &peer,
        "bob",
        &peer.activity("bob", "Delete", tombstone),
    )
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM quotes").await, 0);
    let res = get(peer.signed_get_headers("eve", &result))
        .await
        .expect("GET");
    assert_eq!(res.status(), 404);
    assert!(!interactions(&app.html("/@alice/first-post").await).contains("Secure."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_with_quotes_reads_well_in_chromium() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    let post = post_url(&app);
    // One asked-for quote and one without asking, with a long unbroken link that
    // must not widen a phone screen.
    let long = "https://example.com/a/very/long/path/that/does/not/break/anywhere/0123456789abcdef";
    let note = peer.quote_note("bob", "b1", &post, &format!("<p>Read this: {long}</p>"));
    receive_all(&app, &peer, "bob", &peer.quote_request("bob", &post, note)).await;
    let plain = peer.quote_note("mia", "m1", &post, "<p>RE: a fine post</p>");
    receive_all(&app, &peer, "mia", &peer.activity("mia", "Create", plain)).await;
    assert!(interactions(&app.html("/@alice/first-post").await).contains("2</strong> quotes"));

    let pages = json!([{ "name": "post-quotes", "path": "/@alice/first-post" }]);
    let shots = crate::browser::check_pages(&app.base, &pages).await;
    assert!(shots.join("post-quotes-375-light.png").exists());
}

#[tokio::test]
async fn quotes_per_post_bounds_what_is_kept() {
    let app = spawn_app_with(Options {
        config: "\n[limits.inbox]\nquotes_per_post = 1\n",
        ..Options::default()
    })
    .await;
    let peer = TestPeer::start().await;
    let post = post_url(&app);
    let first = peer.quote_request(
        "bob",
        &post,
        peer.quote_note("bob", "c1", &post, "<p>1</p>"),
    );
    receive_all(&app, &peer, "bob", &first).await;
    assert_eq!(peer.answers_to("bob", &first["id"])[0]["type"], "Accept");
    // Over the bound: a new request is refused, a plain quote not listed...
    let second = peer.quote_request(
        "bob",
        &post,
        peer.quote_note("bob", "c2", &post, "<p>2</p>"),
    );
    receive_all(&app, &peer, "bob", &second).await;
    assert_eq!(peer.answers_to("bob", &second["id"])[0]["type"], "Reject");
    let plain = peer.quote_note("mia", "c3", &post, "<p>3</p>");
    receive_all(&app, &peer, "mia", &peer.activity("mia", "Create", plain)).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM quotes").await, 1);
    // ...while the quote already kept is still answered when asked again.
    let again = peer.quote_request(
        "bob",
        &post,
        peer.quote_note("bob", "c1", &post, "<p>1</p>"),
    );
    receive_all(&app, &peer, "bob", &again).await;
    assert_eq!(peer.answers_to("bob", &again["id"])[0]["type"], "Accept");
}
