//! The Mastodon client API: OAuth sign-in, instance, credentials, driven by real client
//! libraries.
//!
//! The sign-in flows are walked as a browser and an app would: the page fetched, its
//! form posted with the CSRF token from the page and the cookie, the code exchanged.
//! Mastodon.py and toot (pinned in tests/clients/requirements.txt) run from a
//! virtualenv made on first use in the target directory.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::{
    client_kit::*,
    helpers::{Options, TestApp, spawn_app, spawn_app_with},
};

/// Signs in on the page and returns the code the redirect carries.
async fn code_through_page(app: &TestApp, query: &[(&str, &str)]) -> String {
    let location = approve_on_page(app, query, "alice").await;
    let url = url::Url::parse(&location).expect("a URL");
    assert!(location.starts_with(CALLBACK), "{location}");
    assert_eq!(
        url.query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned()),
        Some("xyz".to_owned())
    );
    url.query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code in the redirect")
}

#[tokio::test]
async fn an_app_signs_in_through_the_page_with_pkce() {
    let app = spawn_app().await;
    with_password(&app).await;
    let client = register(&app, CALLBACK, "read write follow").await;
    let query = [
        ("response_type", "code"),
        ("client_id", client.0.as_str()),
        ("redirect_uri", CALLBACK),
        ("scope", "read write"),
        ("state", "xyz"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];

    let page = sign_in_page(&app, &query).await;
    assert_eq!(page.status, 200);
    assert!(
        page.html.contains("Test app wants to use your account"),
        "{}",
        page.html
    );
    assert!(
        page.html.contains("site.css") || page.html.contains("/static/"),
        "the blog's theme"
    );
    assert!(!page.csrf.is_empty() && page.cookie.starts_with("fedblog_sign_in="));

    // Without the CSRF token, or without the cookie that goes with it: 403.
    let creds = [
        ("username", "alice"),
        ("password", PASSWORD),
        ("decision", "approve"),
    ];
    let res = submit(&app, &query, Some(&page.cookie), &creds).await;
    assert_eq!(res.status(), 403);
    let mut with_token = creds.to_vec();
    with_token.push(("csrf_token", &page.csrf));
    let res = submit(&app, &query, None, &with_token).await;
    assert_eq!(res.status(), 403);
    assert!(res.headers().get("location").is_none());

    // A wrong password shows the form again with a new token.
    let page = sign_in_page(&app, &query).await;
    let res = submit(
        &app,
        &query,
        Some(&page.cookie),
        &[
            ("csrf_token", &page.csrf),
            ("username", "alice"),
            ("password", "wrong password!"),
            ("decision", "approve"),
        ],
    )
    .await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("location").is_none());
    let html = res.text().await.unwrap();
    assert!(html.contains("Wrong author or password"), "{html}");
    // A used token does not work twice.
    let res = submit(
        &app,
        &query,
        Some(&page.cookie),
        &[
            ("csrf_token", &page.csrf),
            ("username", "alice"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(res.status(), 403);
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_codes").await, 0);

    // The code with a wrong verifier is refused, and is spent.
    let code = code_through_page(&app, &query).await;
    let exchange = |code: String, verifier: &'static str| {
        let client = client.clone();
        let app = &app;
        async move {
            let res = app
                .client
                .post(format!("{}/oauth/token", app.base))
                .json(&json!({
                    "grant_type": "authorization_code", "code": code, "client_id": client.0,
                    "client_secret": client.1, "redirect_uri": CALLBACK, "code_verifier": verifier,
                }))
                .send()
                .await
                .expect("POST /oauth/token");
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.expect("JSON"))
        }
    };
    let (status, v) = exchange(code.clone(), "0000000000000000000000000000000000000000000").await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    let (status, _) = exchange(code, VERIFIER).await;
    assert_eq!(status, 400, "a code works once");

    // The whole flow: page, code, token (JSON body, as masto.js sends), credentials.
    let code = code_through_page(&app, &query).await;
    let (status, v) = exchange(code.clone(), VERIFIER).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["scope"], "read write");
    let token = v["access_token"].as_str().unwrap();
    let (status, me) = api_get(&app, "/api/v1/accounts/verify_credentials", Some(token)).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["id"], "alice");
    assert_eq!(me["acct"], "alice");
    assert_eq!(me["display_name"], "Alice Example");
    assert_eq!(me["source"]["privacy"], "public");
    assert_eq!(me["statuses_count"], 1);
    let (status, _) = exchange(code, VERIFIER).await;
    assert_eq!(status, 400, "a used code is gone");

    // Stored hashed: neither the token nor the password is in the database.
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM oauth_tokens")
        .fetch_all(&app.sql)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], token);
    let hash: String =
        sqlx::query_scalar("SELECT hash FROM author_passwords WHERE author = 'alice'")
            .fetch_one(&app.sql)
            .await
            .unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains(PASSWORD));
}

#[tokio::test]
async fn out_of_band_apps_get_the_code_on_the_page_and_denial_is_respected() {
    let app = spawn_app().await;
    with_password(&app).await;
    let client = register(&app, "urn:ietf:wg:oauth:2.0:oob", "read").await;
    let query = [
        ("response_type", "code"),
        ("client_id", client.0.as_str()),
        ("scope", "read"),
    ];
    let page = sign_in_page(&app, &query).await;
    assert_eq!(page.status, 200);
    let res = submit(
        &app,
        &query,
        Some(&page.cookie),
        &[
            ("csrf_token", &page.csrf),
            ("username", "alice"),
            ("password", PASSWORD),
            ("decision", "approve"),
        ],
    )
    .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let code = html
        .split("id=\"oauth-code\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .expect("the code on the page");
    let (status, v) = token_form(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", &client.0),
            ("client_secret", &client.1),
            ("redirect_uri", "urn:ietf:wg:oauth:2.0:oob"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{v}");

    // Denying gives no code.
    let redirecting = register(&app, CALLBACK, "read").await;
    let query = [
        ("response_type", "code"),
        ("client_id", redirecting.0.as_str()),
        ("state", "xyz"),
    ];
    let page = sign_in_page(&app, &query).await;
    let res = submit(
        &app,
        &query,
        Some(&page.cookie),
        &[("csrf_token", &page.csrf), ("decision", "deny")],
    )
    .await;
    assert_eq!(res.status(), 302);
    let location = res.headers()["location"].to_str().unwrap();
    assert!(
        location.contains("error=access_denied") && !location.contains("code="),
        "{location}"
    );
}

#[tokio::test]
async fn the_sign_in_page_refuses_unregistered_redirects_and_unknown_apps() {
    let app = spawn_app().await;
    let client = register(&app, CALLBACK, "read").await;
    for (query, why) in [
        (
            vec![
                ("response_type", "code"),
                ("client_id", client.0.as_str()),
                ("redirect_uri", "https://evil.example/cb"),
            ],
            "another redirect URI",
        ),
        (
            vec![
                ("response_type", "code"),
                ("client_id", client.0.as_str()),
                ("redirect_uri", "http://127.0.0.1:9/callback/x"),
            ],
            "a longer redirect URI",
        ),
        (
            vec![
                ("response_type", "code"),
                ("client_id", "nobody"),
                ("redirect_uri", CALLBACK),
            ],
            "an unknown app",
        ),
        (
            vec![
                ("response_type", "code"),
                ("client_id", client.0.as_str()),
                ("scope", "read write"),
            ],
            "scopes the app did not register",
        ),
        (
            vec![
                ("response_type", "code"),
                ("client_id", client.0.as_str()),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "plain"),
            ],
            "PKCE plain",
        ),
    ] {
        let page = sign_in_page(&app, &query).await;
        assert_eq!(page.status, 400, "{why}: {}", page.html);
        assert!(page.csrf.is_empty(), "{why}: no form");
    }
    // A redirect URI that is not absolute cannot be registered.
    let res = app
        .client
        .post(format!("{}/api/v1/apps", app.base))
        .form_pairs(&[
            ("client_name", "x"),
            ("redirect_uris", "javascript:alert(1)"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let v: Value = res.json().await.unwrap();
    assert!(v["error"].as_str().unwrap().contains("redirect URI"), "{v}");
}

#[tokio::test]
async fn repeated_wrong_passwords_are_slowed_down() {
    let app = spawn_app_with(Options {
        config: "[limits.client_api]\nfailures_per_address = 3\n",
        ..Options::default()
    })
    .await;
    with_password(&app).await;
    let client = register(&app, "urn:ietf:wg:oauth:2.0:oob", "read").await;
    let attempt = |password: &'static str| {
        let client = client.clone();
        let app = &app;
        async move {
            let res = app
                .client
                .post(format!("{}/oauth/token", app.base))
                .form_pairs(&[
                    ("grant_type", "password"),
                    ("client_id", client.0.as_str()),
                    ("client_secret", client.1.as_str()),
                    ("username", "alice"),
                    ("password", password),
                ])
                .send()
                .await
                .unwrap();
            (
                res.status().as_u16(),
                res.headers().get("retry-after").cloned(),
            )
        }
    };
    for _ in 0..3 {
        assert_eq!(attempt("not the password").await.0, 400);
    }
    // Now even the right password waits for the window to pass.
    let (status, retry_after) = attempt(PASSWORD).await;
    assert_eq!(status, 429);
    let secs: u64 = retry_after
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(secs > 800 && secs <= 900, "{secs}");
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_tokens").await, 0);
    // The page is throttled too (the counts are in the database, per address).
    let query = [("response_type", "code"), ("client_id", client.0.as_str())];
    let page = sign_in_page(&app, &query).await;
    let res = submit(
        &app,
        &query,
        Some(&page.cookie),
        &[
            ("csrf_token", &page.csrf),
            ("username", "alice"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(res.status(), 429);
}

#[tokio::test]
async fn tokens_do_what_their_scopes_allow() {
    let app = spawn_app().await;
    with_password(&app).await;
    let client = register(&app, "urn:ietf:wg:oauth:2.0:oob", "read write").await;
    let read = password_token(&app, &client, "read").await;
    let (status, me) = api_get(&app, "/api/v1/accounts/verify_credentials", Some(&read)).await;
    assert_eq!((status, me["username"].as_str()), (200, Some("alice")));

    let update = |token: String| {
        let app = &app;
        async move {
            let res = app
                .client
                .patch(format!("{}/api/v1/accounts/update_credentials", app.base))
                .bearer_auth(token)
                .form_pairs(&[("display_name", "Mallory")])
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap())
        }
    };
    let (status, v) = update(read.clone()).await;
    assert_eq!(status, 403, "a read token cannot write");
    assert_eq!(
        v,
        json!({ "error": "This action is outside the authorized scopes" })
    );
    let granular = password_token(&app, &client, "write:accounts").await;
    assert_eq!(
        update(granular.clone()).await.0,
        422,
        "the profile is a file"
    );
    let (status, _) = api_get(&app, "/api/v1/accounts/verify_credentials", Some(&granular)).await;
    assert_eq!(status, 403, "write:accounts does not read");

    // More than the app registered: refused.
    let (status, v) = token_form(
        &app,
        &[
            ("grant_type", "password"),
            ("client_id", &client.0),
            ("client_secret", &client.1),
            ("username", "alice"),
            ("password", PASSWORD),
            ("scope", "read follow"),
        ],
    )
    .await;
    assert_eq!((status, v["error"].as_str()), (400, Some("invalid_scope")));
    // A wrong secret: 401, OAuth's error.
    let (status, v) = token_form(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &client.0),
            ("client_secret", "nope"),
        ],
    )
    .await;
    assert_eq!((status, v["error"].as_str()), (401, Some("invalid_client")));
    // The app's own token knows its app but is nobody.
    let (status, v) = token_form(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &client.0),
            ("client_secret", &client.1),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let app_token = v["access_token"].as_str().unwrap();
    let (status, v) = api_get(&app, "/api/v1/apps/verify_credentials", Some(app_token)).await;
    assert_eq!((status, v["name"].as_str()), (200, Some("Test app")));
    assert!(v.get("client_secret").is_none());
    let (status, _) = api_get(&app, "/api/v1/accounts/verify_credentials", Some(app_token)).await;
    assert_eq!(status, 422);
    let (status, v) = api_get(&app, "/api/v1/accounts/verify_credentials", Some("made-up")).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (401, Some("The access token is invalid"))
    );
}

#[tokio::test]
async fn a_revoked_token_stops_working() {
    let app = spawn_app().await;
    with_password(&app).await;
    let client = register(&app, "urn:ietf:wg:oauth:2.0:oob", "read").await;
    let other = register(&app, "urn:ietf:wg:oauth:2.0:oob", "read").await;
    let token = password_token(&app, &client, "read").await;
    let revoke = |c: &(String, String)| {
        app.client
            .post(format!("{}/oauth/revoke", app.base))
            .form_pairs(&[
                ("client_id", c.0.as_str()),
                ("client_secret", c.1.as_str()),
                ("token", token.as_str()),
            ])
            .send()
    };
    assert_eq!(
        revoke(&other).await.unwrap().status(),
        403,
        "another app's token"
    );
    let res = revoke(&client).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({}));
    let res = app
        .client
        .get(format!("{}/api/v1/accounts/verify_credentials", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({ "error": "The access token is invalid" })
    );
    assert_eq!(
        revoke(&client).await.unwrap().status(),
        200,
        "unknown tokens are no error"
    );
}

#[tokio::test]
async fn web_apps_on_other_origins_may_call_the_api() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/apps",
        "/oauth/token",
        "/api/v1/accounts/verify_credentials",
    ] {
        let res = app
            .client
            .request(reqwest::Method::OPTIONS, format!("{}{path}", app.base))
            .header("origin", "https://phanpy.example")
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type,idempotency-key",
            )
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
        let h = res.headers();
        assert_eq!(h["access-control-allow-origin"], "*", "{path}");
        assert_eq!(
            h["access-control-allow-headers"],
            "authorization,content-type,idempotency-key"
        );
        assert_eq!(h["access-control-allow-methods"], "POST");
    }
    for path in [
        "/api/v2/instance",
        "/.well-known/oauth-authorization-server",
        "/.well-known/webfinger?resource=acct:alice@localhost",
        "/api/v1/nothing",
    ] {
        let res = app
            .client
            .get(format!("{}{path}", app.base))
            .header("origin", "https://phanpy.example")
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["access-control-allow-origin"], "*", "{path}");
        assert!(
            res.headers()["access-control-expose-headers"]
                .to_str()
                .unwrap()
                .contains("Link")
        );
    }
    // The sign-in page is navigated to, never fetched across origins.
    let res = app
        .client
        .get(format!("{}/oauth/authorize", app.base))
        .header("origin", "https://phanpy.example")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    // API answers never enter a cache.
    let res = app
        .client
        .get(format!("{}/api/v1/instance", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store");
}

/// Web apps load avatars and theme images with `crossorigin`; without the header the
/// browser refuses them (Phanpy then loads each twice).
#[tokio::test]
async fn public_images_may_be_read_by_web_apps() {
    let app = spawn_app_with(Options {
        demo_content: true,
        ..Options::default()
    })
    .await;
    let (_, account) = api_get(&app, "/api/v1/accounts/mayank", None).await;
    let avatar = account["avatar"].as_str().expect("avatar").to_owned();
    assert!(avatar.contains("/avatar/"), "{avatar}");
    let page = app.get("/", "text/html").await.text().await.unwrap();
    let css = page
        .split("<link rel=\"stylesheet\" href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the stylesheet")
        .to_owned();
    for url in [avatar, css] {
        let res = app
            .client
            .get(&url)
            .header("origin", "https://phanpy.example")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{url}");
        assert_eq!(res.headers()["access-control-allow-origin"], "*", "{url}");
    }
    // Pages are not for other origins to read.
    let res = app
        .client
        .get(format!("{}/@mayank", app.base))
        .header("origin", "https://phanpy.example")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

/// What apps fetch on start-up: the author's posting defaults, and empty lists for
/// what fedblog has none of, instead of 404s apps log as errors.
#[tokio::test]
async fn apps_starting_up_find_preferences_and_empty_lists() {
    let app = spawn_app().await;
    let token = signed_in(&app, "alice", "read").await;
    let (status, v) = api_get(&app, "/api/v1/preferences", Some(&token)).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["posting:default:visibility"], "public");
    assert_eq!(v["posting:default:language"], "en");
    for path in [
        "/api/v1/announcements",
        "/api/v1/followed_tags",
        "/api/v1/custom_emojis",
        "/api/v1/accounts/alice/featured_tags",
    ] {
        let (status, v) = api_get(&app, path, Some(&token)).await;
        assert_eq!((status, v), (200, json!([])), "{path}");
    }
    let (status, _) = api_get(&app, "/api/v1/preferences", None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn the_instance_documents_claim_the_mastodon_api_they_follow() {
    let app = spawn_app().await;
    let version = format!("4.3.0 (compatible; fedblog {})", env!("CARGO_PKG_VERSION"));
    for path in ["/api/v1/instance", "/api/v1/instance/"] {
        let (status, v) = api_get(&app, path, None).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(v["version"], version.as_str());
        assert_eq!(v["uri"], format!("localhost:{}", app.port));
        assert_eq!(v["stats"]["user_count"], 2);
        assert_eq!(v["registrations"], false);
        assert_eq!(v["contact_account"]["acct"], "alice");
    }
    for path in ["/api/v2/instance", "/api/v2/instance/"] {
        let (status, v) = api_get(&app, path, None).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(v["version"], version.as_str());
        assert_eq!(v["api_versions"]["mastodon"], 2);
        assert_eq!(v["domain"], format!("localhost:{}", app.port));
        assert_eq!(v["registrations"]["enabled"], false);
    }
    let (status, v) = api_get(&app, "/.well-known/oauth-authorization-server", None).await;
    assert_eq!(status, 200);
    assert_eq!(v["code_challenge_methods_supported"], json!(["S256"]));
    for grant in ["authorization_code", "password", "client_credentials"] {
        assert!(
            v["grant_types_supported"]
                .as_array()
                .unwrap()
                .contains(&json!(grant))
        );
    }
    assert!(
        v["scopes_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("read:notifications"))
    );
    assert_eq!(v["token_endpoint"], format!("{}/oauth/token", app.base));
}

#[tokio::test]
async fn unimplemented_api_paths_answer_with_mastodons_error_json() {
    let app = spawn_app().await;
    for (method, path) in [
        (reqwest::Method::GET, "/api/v1/lists"),
        (reqwest::Method::POST, "/api/v1/statuses/1/pin"),
        (reqwest::Method::GET, "/api/v3/anything"),
        (reqwest::Method::GET, "/api/v1/accounts/nobody"),
        (reqwest::Method::POST, "/api/v1/instance"),
        (reqwest::Method::DELETE, "/api/v1/accounts/alice"),
    ] {
        // A browser asking: still JSON, as apps expect.
        let res = app
            .client
            .request(method, format!("{}{path}", app.base))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{path}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{path}"
        );
        let v: Value = res.json().await.unwrap();
        assert!(v["error"].is_string(), "{path}: {v}");
    }
    let (status, v) = api_get(&app, "/api/v1/accounts/alice", None).await;
    assert_eq!(
        (status, v["url"].as_str()),
        (200, Some(app.actor("alice").as_str()))
    );
    let (status, v) = api_get(
        &app,
        &format!("/api/v1/accounts/lookup?acct=bob@localhost:{}", app.port),
        None,
    )
    .await;
    assert_eq!((status, v["id"].as_str()), (200, Some("bob")));
}

#[tokio::test]
async fn fedblog_password_refuses_short_passwords_and_unknown_authors() {
    let app = spawn_app().await;
    let out = set_password(&app, "alice", "short").await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least"));
    let out = set_password(&app, "nobody", PASSWORD).await;
    assert!(!out.status.success());
    assert_eq!(app.count("SELECT COUNT(*) FROM author_passwords").await, 0);
    // Changing it: the old one stops working.
    with_password(&app).await;
    let client = register(&app, "urn:ietf:wg:oauth:2.0:oob", "read").await;
    password_token(&app, &client, "read").await;
    let out = set_password(&app, "alice", "another long password").await;
    assert!(out.status.success());
    let (status, _) = token_form(
        &app,
        &[
            ("grant_type", "password"),
            ("client_id", &client.0),
            ("client_secret", &client.1),
            ("username", "alice"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, 400);
}

// ---- real client libraries

#[tokio::test]
async fn mastodon_py_signs_in_with_a_password_and_reads_the_author_and_instance() {
    let venv = python_clients();
    let app = spawn_app().await;
    with_password(&app).await;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/mastodon_py.py");
    let out = tokio::process::Command::new(venv.join("bin/python"))
        .arg(script)
        .arg(&app.base)
        .arg(PASSWORD)
        .output()
        .await
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "Mastodon.py failed:\n{stdout}\n{stderr}"
    );
    let v: Value = serde_json::from_str(stdout.trim()).expect("the script's JSON");
    assert_eq!(v["acct"], "alice");
    assert_eq!(v["source_privacy"], "public");
    assert_eq!(
        v["version"],
        format!("4.3.0 (compatible; fedblog {})", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(v["api_version"], 2);
    assert_eq!(v["warnings"], json!([]));
}

#[tokio::test]
async fn toot_logs_in_from_the_command_line_and_says_who_is_signed_in() {
    let venv = python_clients();
    let app = spawn_app().await;
    with_password(&app).await;
    let home = tempfile::tempdir().unwrap();
    let toot = |args: Vec<String>| {
        let venv = venv.clone();
        let home = home.path().to_owned();
        async move {
            tokio::process::Command::new(venv.join("bin/toot"))
                .args(args)
                .env("HOME", &home)
                .env("XDG_CONFIG_HOME", home.join(".config"))
                .env("TERM", "dumb")
                .env("NO_COLOR", "1")
                .output()
                .await
                .expect("run toot")
        }
    };
    let out = toot(vec![
        "login_cli".into(),
        "--instance".into(),
        app.base.clone(),
        "--email".into(),
        "alice".into(),
        "--password".into(),
        PASSWORD.into(),
    ])
    .await;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "toot login_cli failed:\n{text}");
    assert!(text.contains("Successfully logged in"), "{text}");
    let out = toot(vec!["whoami".into(), "--json".into()]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "toot whoami failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let me: Value = serde_json::from_str(&text).expect("whoami --json");
    assert_eq!(me["acct"], "alice");
    let out = toot(vec!["whoami".into()]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("Alice Example"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_page_reads_well_in_chromium_on_phone_and_desktop() {
    let app = spawn_app().await;
    let client = register(&app, CALLBACK, "read write follow push").await;
    let path = format!(
        "/oauth/authorize?response_type=code&client_id={}&redirect_uri={}&scope=read+write+follow+push&state=xyz",
        client.0,
        url::form_urlencoded::byte_serialize(CALLBACK.as_bytes()).collect::<String>()
    );
    let pages = json!([{ "name": "sign-in", "path": path }]);
    let shots = crate::browser::check_pages(&app.base, &pages).await;
    assert!(shots.join("sign-in-375-light.png").exists());
}

// ---------------------------------------------------------------------------
// Notifications and markers: what a Fedify-like peer's follow, like, boost and
// reply tell the author, through the API and through Mastodon.py.
// ---------------------------------------------------------------------------

mod notifications {
    use super::*;
    use crate::{conversations::post_url, peer::TestPeer};

    /// carol follows alice, dave likes her post, erin boosts it and frank replies, in
    /// that order (each applied before the next, so their ids are in that order).
    async fn four_notifications(app: &TestApp, peer: &TestPeer) {
        let follow = peer.follow("carol", &app.actor("alice"));
        assert_eq!(app.receive(peer, "carol", &follow).await, 202);
        app.inbox_settled().await;
        for (name, kind) in [("dave", "Like"), ("erin", "Announce")] {
            assert_eq!(
                app.receive_new(peer, name, kind, json!(post_url(app)))
                    .await,
                202
            );
            app.inbox_settled().await;
        }
        let reply = peer.note(
            "frank",
            "r1",
            &post_url(app),
            "<p>Lovely post<script>x</script></p>",
        );
        peer.publish(&reply);
        assert_eq!(app.receive_new(peer, "frank", "Create", reply).await, 202);
        app.inbox_settled().await;
    }

    async fn signed_in(app: &TestApp, scope: &str) -> String {
        with_password(app).await;
        let client = register(app, CALLBACK, "read write follow").await;
        password_token(app, &client, scope).await
    }

    /// GET with the token: (status, Link header, JSON).
    async fn get(app: &TestApp, path: &str, token: &str) -> (u16, String, Value) {
        let res = app
            .client
            .get(format!("{}{path}", app.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET");
        let link = res
            .headers()
            .get("link")
            .map(|v| v.to_str().expect("ascii").to_owned())
            .unwrap_or_default();
        (res.status().as_u16(), link, res.json().await.expect("JSON"))
    }

    async fn post(app: &TestApp, path: &str, token: &str) -> u16 {
        app.client
            .post(format!("{}{path}", app.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("POST")
            .status()
            .as_u16()
    }

    fn types(v: &Value) -> Vec<&str> {
        v.as_array()
            .expect("a list")
            .iter()
            .map(|n| n["type"].as_str().expect("type"))
            .collect()
    }

    fn ids(v: &Value) -> Vec<String> {
        v.as_array()
            .expect("a list")
            .iter()
            .map(|n| n["id"].as_str().expect("string id").to_owned())
            .collect()
    }

    /// The URL of one `rel` in a Link header, made relative to the app.
    fn link_path(app: &TestApp, link: &str, rel: &str) -> String {
        let part = link
            .split(", ")
            .find(|p| p.ends_with(&format!("rel=\"{rel}\"")))
            .unwrap_or_else(|| panic!("no {rel} in {link}"));
        let url = part.trim_start_matches('<').split('>').next().expect("url");
        url.strip_prefix(&app.base).expect("our URL").to_owned()
    }

    #[tokio::test]
    async fn the_author_is_told_of_follows_likes_boosts_and_replies_newest_first() {
        let app = spawn_app().await;
        let peer = TestPeer::start().await;
        let token = signed_in(&app, "read write").await;
        four_notifications(&app, &peer).await;

        let (status, _, all) = get(&app, "/api/v1/notifications", &token).await;
        assert_eq!(status, 200, "{all}");
        assert_eq!(types(&all), ["mention", "reblog", "favourite", "follow"]);
        let n = all.as_array().expect("list");
        for (item, who) in n.iter().zip(["frank", "erin", "dave", "carol"]) {
            let account = &item["account"];
            assert_eq!(account["uri"], peer.actor(who), "{item}");
            let id = account["id"].as_str().expect("id");
            assert!(id.contains('.'), "a remote id is never a handle: {id}");
            assert!(item["created_at"].as_str().expect("time").ends_with('Z'));
        }
        // A boost and a like are about our post, written by alice.
        for item in &n[1..3] {
            assert_eq!(item["status"]["url"], post_url(&app), "{item}");
            assert_eq!(item["status"]["account"]["acct"], "alice");
        }
        // The reply is frank's status, sanitised, answering our post.
        let reply = &n[0]["status"];
        assert_eq!(reply["account"]["uri"], peer.actor("frank"));
        assert_eq!(reply["in_reply_to_id"], n[1]["status"]["id"]);
        let content = reply["content"].as_str().expect("content");
        assert!(
            content.contains("Lovely post") && !content.contains("script"),
            "{content}"
        );
        assert!(n[3]["status"].is_null());

        // One by id.
        let first = n[0]["id"].as_str().expect("id");
        let (status, _, one) = get(&app, &format!("/api/v1/notifications/{first}"), &token).await;
        assert_eq!((status, &one["type"]), (200, &json!("mention")));

        // Filters.
        let (_, _, f) = get(
            &app,
            "/api/v1/notifications?types[]=follow&types[]=favourite",
            &token,
        )
        .await;
        assert_eq!(types(&f), ["favourite", "follow"]);
        let (_, _, f) = get(
            &app,
            "/api/v1/notifications?exclude_types[]=mention&exclude_types[]=follow",
            &token,
        )
        .await;
        assert_eq!(types(&f), ["reblog", "favourite"]);

        // Pages of two, following the Link header there and back.
        let (_, link, page1) = get(&app, "/api/v1/notifications?limit=2", &token).await;
        assert_eq!(ids(&page1), ids(&all)[..2]);
        assert!(
            link.find("rel=\"next\"") < link.find("rel=\"prev\""),
            "{link}"
        );
        let (_, link2, page2) = get(&app, &link_path(&app, &link, "next"), &token).await;
        assert_eq!(ids(&page2), ids(&all)[2..]);
        let (_, _, back) = get(&app, &link_path(&app, &link2, "prev"), &token).await;
        assert_eq!(ids(&back), ids(&page1));
        let (_, _, newer) = get(
            &app,
            &format!("/api/v1/notifications?since_id={}", ids(&all)[2]),
            &token,
        )
        .await;
        assert_eq!(ids(&newer), ids(&all)[..2]);
    }

    #[tokio::test]
    async fn notifications_are_the_authors_own_and_need_their_scopes() {
        let app = spawn_app().await;
        let peer = TestPeer::start().await;
        let token = signed_in(&app, "read write").await;
        four_notifications(&app, &peer).await;
        let (_, _, all) = get(&app, "/api/v1/notifications", &token).await;
        let mine = ids(&all);

        // bob sees none of alice's.
        assert!(set_password(&app, "bob", PASSWORD).await.status.success());
        let client = register(&app, CALLBACK, "read write").await;
        let (status, v) = token_form(
            &app,
            &[
                ("grant_type", "password"),
                ("client_id", &client.0),
                ("client_secret", &client.1),
                ("username", "bob"),
                ("password", PASSWORD),
                ("scope", "read write"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{v}");
        let bob = v["access_token"].as_str().expect("token");
        let (status, _, theirs) = get(&app, "/api/v1/notifications", bob).await;
        assert_eq!((status, theirs), (200, json!([])));
        let (status, _, _) = get(&app, &format!("/api/v1/notifications/{}", mine[0]), bob).await;
        assert_eq!(status, 404);
        assert_eq!(
            post(
                &app,
                &format!("/api/v1/notifications/{}/dismiss", mine[0]),
                bob
            )
            .await,
            404
        );

        // Scopes: reading needs read:notifications, dismissing write:notifications.
        let client = register(&app, CALLBACK, "read:accounts read:notifications").await;
        let accounts_only = password_token(&app, &client, "read:accounts").await;
        let (status, _, err) = get(&app, "/api/v1/notifications", &accounts_only).await;
        assert_eq!(status, 403, "{err}");
        assert!(err["error"].is_string());
        let reader = password_token(&app, &client, "read:notifications").await;
        assert_eq!(get(&app, "/api/v1/notifications", &reader).await.0, 200);
        assert_eq!(
            post(&app, "/api/v1/notifications/clear", &reader).await,
            403
        );

        // Dismiss one, then clear the rest.
        assert_eq!(
            post(
                &app,
                &format!("/api/v1/notifications/{}/dismiss", mine[0]),
                &token
            )
            .await,
            200
        );
        let (_, _, left) = get(&app, "/api/v1/notifications", &token).await;
        assert_eq!(ids(&left), mine[1..]);
        assert_eq!(post(&app, "/api/v1/notifications/clear", &token).await, 200);
        let (_, _, none) = get(&app, "/api/v1/notifications", &token).await;
        assert_eq!(none, json!([]));
        // A new like notifies again, with a newer id.
        assert_eq!(
            app.receive_new(&peer, "gina", "Like", json!(post_url(&app)))
                .await,
            202
        );
        app.inbox_settled().await;
        let (_, _, again) = get(&app, "/api/v1/notifications", &token).await;
        assert_eq!(types(&again), ["favourite"]);
        assert!(ids(&again)[0].parse::<i64>().expect("n") > mine[0].parse::<i64>().expect("n"));
    }

    #[tokio::test]
    async fn a_quote_of_a_post_notifies_with_the_quoting_status() {
        let app = spawn_app().await;
        let peer = TestPeer::start().await;
        let token = signed_in(&app, "read").await;
        // A Misskey-style quote: a Create carrying `_misskey_quote`, no request.
        let mut note = peer.note("mia", "q1", "", "<p>RE: nice <script>x</script>post</p>");
        let o = note.as_object_mut().expect("note");
        o.remove("inReplyTo");
        o.insert("_misskey_quote".into(), json!(post_url(&app)));
        o.insert("quoteUrl".into(), json!(post_url(&app)));
        let quote_id = note["id"].clone();
        assert_eq!(app.receive_new(&peer, "mia", "Create", note).await, 202);
        app.inbox_settled().await;

        let (status, _, all) = get(&app, "/api/v1/notifications", &token).await;
        assert_eq!(status, 200, "{all}");
        assert_eq!(types(&all), ["quote"]);
        let quote = &all[0]["status"];
        assert_eq!(quote["uri"], quote_id);
        assert_eq!(quote["account"]["uri"], peer.actor("mia"));
        let content = quote["content"].as_str().expect("content");
        assert!(
            content.contains("nice") && !content.contains("script"),
            "{content}"
        );
    }

    /// Migration 0020 turns what a blog already holds into notifications, oldest
    /// first: the migrations before it are applied to an empty database, rows added,
    /// then 0020's own file.
    #[tokio::test]
    async fn the_migration_backfills_notifications_from_existing_rows() {
        let dir = tempfile::tempdir().expect("temp dir");
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.path().join("old.db"))
            .create_if_missing(true);
        let db = sqlx::SqlitePool::connect_with(opts).await.expect("db");
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
            .expect("migrations")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        let (before, ours): (Vec<_>, Vec<_>) = files
            .into_iter()
            .partition(|f| f.file_name().expect("name").to_string_lossy().as_ref() < "0020");
        // Our own migration files, read from the repository: audited SQL.
        let run = |f: &PathBuf| sqlx::AssertSqlSafe(std::fs::read_to_string(f).expect("sql"));
        for f in &before {
            sqlx::raw_sql(run(f)).execute(&db).await.expect("migration");
        }
        sqlx::raw_sql(
            "INSERT INTO authors (handle, name, bio_html, public_key_pem, private_key_pem,
                profile_hash, created_at, updated_at) VALUES ('alice', 'A', '', '', '', '', 0, 0);
             INSERT INTO posts (id, author, source_path, slug, kind, content_html, written_at,
                published_at, source_hash) VALUES (7, 'alice', 'p.md', 'p', 'Note', '<p>Hi</p>', 0, 0, '');
             INSERT INTO followers (author, actor_id, inbox, delivery_inbox, delivery_host,
                follow_id, created_at) VALUES ('alice', 'https://x.example/u/a', 'i', 'i', 'x', 'f', 100);
             INSERT INTO reactions (kind, post_id, actor_id, created_at)
                VALUES ('announce', 7, 'https://x.example/u/c', 300), ('like', 7, 'https://x.example/u/b', 200);
             INSERT INTO replies (ap_id, post_id, in_reply_to, depth, actor_id, content_html,
                published_at, received_at) VALUES ('https://x.example/n/1', 7, 'p', 1,
                'https://x.example/u/d', '<p>Yes</p>', 400, 400),
                ('https://x.example/n/2', 7, 'https://x.example/n/1', 2,
                'https://x.example/u/e', '<p>deeper</p>', 500, 500);",
        )
        .execute(&db)
        .await
        .expect("rows");
        sqlx::raw_sql(run(&ours[0]))
            .execute(&db)
            .await
            .expect("0020");
        let rows: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT id, kind, actor_id FROM notifications ORDER BY id")
                .fetch_all(&db)
                .await
                .expect("notifications");
        let kinds: Vec<(&str, &str)> = rows
            .iter()
            .map(|(_, k, a)| (k.as_str(), a.rsplit('/').next().expect("name")))
            .collect();
        assert_eq!(
            kinds,
            [
                ("follow", "a"),
                ("favourite", "b"),
                ("reblog", "c"),
                ("mention", "d")
            ],
            "oldest first; a reply to a reply is not the author's mention"
        );
    }

    #[tokio::test]
    async fn mastodon_py_reads_notifications_and_markers() {
        let venv = python_clients();
        let app = spawn_app().await;
        let peer = TestPeer::start().await;
        with_password(&app).await;
        four_notifications(&app, &peer).await;
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/clients/mastodon_py_notifications.py");
        let out = tokio::process::Command::new(venv.join("bin/python"))
            .arg(script)
            .arg(&app.base)
            .arg(PASSWORD)
            .output()
            .await
            .expect("run python");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "Mastodon.py failed:\n{stdout}\n{stderr}"
        );
        let v: Value = serde_json::from_str(stdout.trim()).expect("the script's JSON");
        assert_eq!(
            v["types"],
            json!(["mention", "reblog", "favourite", "follow"])
        );
        let host = url::Url::parse(&peer.base).expect("url");
        assert_eq!(
            v["accounts"][3],
            format!("carol@{}", host.host_str().expect("host")),
            "{v}"
        );
        assert_eq!(v["status_urls"][1], post_url(&app));
        assert_eq!(v["follows"], json!(["follow"]));
        assert_eq!(v["paged"], v["ids"], "fetch_next follows the Link header");
        assert_eq!(v["marker"], v["ids"][0]);
        assert_eq!(v["warnings"], json!([]));
    }
}
