//! Media attachments from apps: uploads (multipart, as apps send them), what is
//! stored and served (re-encoded: no EXIF, no GPS; upright; a preview; a blurhash),
//! the limits (bytes while streaming, pixels from the header, sniffed types), who
//! may see unattached media, and Mastodon.py's `media_post`.

use std::{io::Cursor, path::PathBuf};

use image::{DynamicImage, ImageEncoder, RgbImage, codecs::jpeg::JpegEncoder};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{
    client_kit::*,
    helpers::{Options, TestApp, spawn_app, spawn_app_with},
    peer::TestPeer,
};

const BOUNDARY: &str = "fedblog-test-boundary-7MA4YWxkTrZu0gW";

/// A form field: (name, Some((file name, type)) for a file, bytes).
type Field<'a> = (&'a str, Option<(&'a str, &'a str)>, &'a [u8]);

/// A multipart/form-data body.
fn multipart(fields: &[Field<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file, bytes) in fields {
        body.extend(format!("--{BOUNDARY}\r\n").as_bytes());
        match file {
            Some((file_name, ctype)) => body.extend(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: {ctype}\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend(*bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Uploads `bytes` as `file_name` (declared `ctype`) with an optional description.
pub async fn upload(
    app: &TestApp,
    path: &str,
    token: &str,
    file: (&str, &str, &[u8]),
    description: Option<&str>,
) -> (u16, Value) {
    let (file_name, ctype, bytes) = file;
    let mut fields = vec![("file", Some((file_name, ctype)), bytes)];
    if let Some(d) = description {
        fields.push(("description", None, d.as_bytes()));
    }
    let res = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart(&fields))
        .send()
        .await
        .expect("upload");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// A TIFF (EXIF) block: orientation 6 (turn 90° clockwise to view) and a GPS position.
fn exif_with_gps() -> Vec<u8> {
    let mut t = b"II\x2a\x00\x08\x00\x00\x00".to_vec();
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        t.extend(tag.to_le_bytes());
        t.extend(kind.to_le_bytes());
        t.extend(count.to_le_bytes());
        t.extend(value);
    };
    // IFD0 at 8: Orientation, GPS IFD pointer (at 8 + 2 + 24 + 4 = 38).
    t.extend(2u16.to_le_bytes());
    entry(&mut t, 0x0112, 3, 1, [6, 0, 0, 0]);
    entry(&mut t, 0x8825, 4, 1, 38u32.to_le_bytes());
    t.extend(0u32.to_le_bytes());
    // GPS IFD at 38: latitude ref "N", latitude (three rationals at 38 + 30 = 68).
    t.extend(2u16.to_le_bytes());
    entry(&mut t, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, 5, 3, 68u32.to_le_bytes());
    t.extend(0u32.to_le_bytes());
    for (n, d) in [(52u32, 1u32), (31, 1), (1234, 100)] {
        t.extend(n.to_le_bytes());
        t.extend(d.to_le_bytes());
    }
    t
}

/// A 1200 × 600 photo whose EXIF says where it was taken and to turn it upright.
fn photo_with_gps() -> Vec<u8> {
    let img = RgbImage::from_fn(1200, 600, |x, y| {
        image::Rgb([(x / 5) as u8, (y / 3) as u8, if x < 600 { 40 } else { 200 }])
    });
    let mut out = Vec::new();
    let mut encoder = JpegEncoder::new_with_quality(&mut out, 90);
    encoder
        .set_exif_metadata(exif_with_gps())
        .expect("JPEG takes EXIF");
    encoder
        .write_image(img.as_raw(), 1200, 600, image::ExtendedColorType::Rgb8)
        .expect("encode");
    out
}

pub fn png(width: u32, height: u32) -> Vec<u8> {
    let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(width, height, image::Rgb([200, 0, 0])));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

/// The JPEG's marker segments before the image data: (marker, payload).
fn jpeg_segments(bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    assert_eq!(&bytes[..2], b"\xff\xd8", "a JPEG");
    let mut out = Vec::new();
    let mut at = 2;
    while at + 4 <= bytes.len() && bytes[at] == 0xff {
        let marker = bytes[at + 1];
        let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        out.push((marker, bytes[at + 4..at + 2 + len].to_vec()));
        if marker == 0xda {
            break; // start of scan: image data follows
        }
        at += 2 + len;
    }
    out
}

/// What EXIF, XMP, IPTC or comments a JPEG carries: APP1 (EXIF, XMP), APP13 (IPTC),
/// COM; APP0 (JFIF) and APP2 (ICC colour profile) are no metadata about the author.
fn metadata_segments(bytes: &[u8]) -> Vec<u8> {
    jpeg_segments(bytes)
        .into_iter()
        .map(|(m, _)| m)
        .filter(|m| (0xe1..=0xef).contains(m) && *m != 0xe2 || *m == 0xfe)
        .collect()
}

async fn get_bytes(app: &TestApp, url: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("GET media")
}

async fn media_rows(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM media")
        .fetch_one(&app.sql)
        .await
        .expect("count media")
}

#[tokio::test]
async fn an_uploaded_photo_is_served_upright_without_exif_or_gps_with_a_preview_and_blurhash() {
    let app = spawn_app().await;
    let token = signed_in(&app, "alice", "read write").await;
    let photo = photo_with_gps();
    // The test's own input carries what must go.
    assert!(
        metadata_segments(&photo).contains(&0xe1),
        "the input has EXIF"
    );
    let (status, m) = upload(
        &app,
        "/api/v2/media",
        &token,
        ("beach.jpg", "image/jpeg", &photo),
        Some("Waves on a beach at dusk"),
    )
    .await;
    assert_eq!(status, 200, "{m}");
    let id = m["id"].as_str().expect("id is a string");
    assert_eq!(m["type"], "image");
    assert_eq!(m["remote_url"], Value::Null);
    assert_eq!(m["description"], "Waves on a beach at dusk");
    // Turned upright by its EXIF orientation: 600 wide, 1200 high.
    assert_eq!(
        m["meta"]["original"],
        json!({"width": 600, "height": 1200, "size": "600x1200", "aspect": 0.5})
    );
    let small = &m["meta"]["small"];
    let (sw, sh) = (
        small["width"].as_u64().unwrap(),
        small["height"].as_u64().unwrap(),
    );
    assert!(sw * sh <= 640 * 360 && sw >= 300, "{small}");
    assert_eq!(small["size"], format!("{sw}x{sh}"));
    assert_eq!(m["meta"]["focus"], json!({"x": 0.0, "y": 0.0}));
    let blurhash = m["blurhash"].as_str().expect("blurhash");
    assert_eq!(blurhash.len(), 36, "4 x 4 components: {blurhash}");

    let url = m["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/media/{id}/", app.base)),
        "{url}"
    );
    // The uploader's app may show it before it is posted.
    let res = get_bytes(&app, url, Some(&token)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let served = res.bytes().await.unwrap();
    assert_eq!(
        metadata_segments(&served),
        Vec::<u8>::new(),
        "no EXIF, XMP, IPTC or comment"
    );
    let windows = |needle: &[u8]| served.windows(needle.len()).any(|w| w == needle);
    assert!(!windows(b"Exif") && !windows(b"GPS"));
    let decoded = image::load_from_memory(&served).expect("a JPEG");
    assert_eq!((decoded.width(), decoded.height()), (600, 1200));
    // The left of the input (blue 40) is now the top.
    let top = decoded.to_rgb8().get_pixel(300, 100).0;
    let bottom = decoded.to_rgb8().get_pixel(300, 1100).0;
    assert!(top[2] < 100 && bottom[2] > 150, "{top:?} {bottom:?}");

    let preview = get_bytes(&app, m["preview_url"].as_str().unwrap(), Some(&token)).await;
    assert_eq!(preview.status(), 200);
    let preview = image::load_from_memory(&preview.bytes().await.unwrap()).unwrap();
    assert_eq!(
        (u64::from(preview.width()), u64::from(preview.height())),
        (sw, sh)
    );

    let (status, again) = api_get(&app, &format!("/api/v1/media/{id}"), Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(again, m);
}

#[tokio::test]
async fn unattached_media_are_the_uploaders_alone() {
    let app = spawn_app().await;
    let alice = signed_in(&app, "alice", "read write").await;
    let bob = signed_in(&app, "bob", "read write").await;
    let (status, m) = upload(
        &app,
        "/api/v1/media",
        &alice,
        ("red.png", "image/png", &png(64, 32)),
        None,
    )
    .await;
    assert_eq!(status, 200, "{m}");
    let id = m["id"].as_str().unwrap();
    let url = m["url"].as_str().unwrap();
    assert_eq!(m["description"], Value::Null);
    assert!(url.ends_with(".png"), "{url}");

    // Not posted yet: no one else sees the file, with or without a token.
    assert_eq!(get_bytes(&app, url, None).await.status(), 404);
    assert_eq!(get_bytes(&app, url, Some(&bob)).await.status(), 404);
    let preview = m["preview_url"].as_str().unwrap();
    assert_eq!(get_bytes(&app, preview, None).await.status(), 404);
    // Nor through the API.
    let path = format!("/api/v1/media/{id}");
    let (status, body) = api_get(&app, &path, Some(&bob)).await;
    assert_eq!((status, body), (404, json!({"error": "Record not found"})));
    let change = json!({"description": "mine now"});
    let (status, _) = api_send(&app, Method::PUT, &path, Some(&bob), Some(&change)).await;
    assert_eq!(status, 404);
    // The uploader does, but a URL with a made-up token is nothing.
    assert_eq!(get_bytes(&app, url, Some(&alice)).await.status(), 200);
    let guessed = format!("{}/media/{id}/{}.png", app.base, "0".repeat(32));
    assert_eq!(get_bytes(&app, &guessed, Some(&alice)).await.status(), 404);
    let (status, _) = api_get(&app, &path, None).await;
    assert_eq!(status, 401);
    let (status, still) = api_get(&app, &path, Some(&alice)).await;
    assert_eq!((status, &still["description"]), (200, &Value::Null));
}

#[tokio::test]
async fn put_sets_the_description_and_focus() {
    let app = spawn_app().await;
    let token = signed_in(&app, "alice", "read write").await;
    let (_, m) = upload(
        &app,
        "/api/v2/media",
        &token,
        ("red.png", "image/png", &png(40, 40)),
        Some("first words"),
    )
    .await;
    let path = format!("/api/v1/media/{}", m["id"].as_str().unwrap());
    let change = json!({"description": "A red square", "focus": "0.5,-0.25"});
    let (status, v) = api_send(&app, Method::PUT, &path, Some(&token), Some(&change)).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["description"], "A red square");
    assert_eq!(v["meta"]["focus"], json!({"x": 0.5, "y": -0.25}));
    // As a form, as Mastodon.py sends it; the focus stays.
    let res = app
        .client
        .put(format!("{}{path}", app.base))
        .bearer_auth(&token)
        .form_pairs(&[("description", "Still red")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (_, v) = api_get(&app, &path, Some(&token)).await;
    assert_eq!(v["description"], "Still red");
    assert_eq!(v["meta"]["focus"], json!({"x": 0.5, "y": -0.25}));
    let bad = json!({"focus": "3,0"});
    let (status, _) = api_send(&app, Method::PUT, &path, Some(&token), Some(&bad)).await;
    assert_eq!(status, 422);
    // A read-only token cannot.
    let reader = signed_in(&app, "alice", "read").await;
    let (status, _) = api_send(&app, Method::PUT, &path, Some(&reader), Some(&change)).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn an_oversized_upload_is_413_naming_the_limit_and_nothing_is_stored() {
    let app = spawn_app_with(Options {
        config: "[limits.client_api]\nmedia_max_bytes = 100000\n",
        ..Options::default()
    })
    .await;
    let token = signed_in(&app, "alice", "write:media").await;
    let big = vec![0xffu8; 150_000];
    let (status, v) = upload(
        &app,
        "/api/v2/media",
        &token,
        ("big.jpg", "image/jpeg", &big),
        None,
    )
    .await;
    assert_eq!(status, 413, "{v}");
    assert!(v["error"].as_str().unwrap().contains("100000"), "{v}");

    // Without a length, the body is counted as it arrives: the server answers before
    // the client has sent it all.
    let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    let head = format!(
        "POST /api/v2/media HTTP/1.1\r\nHost: localhost:{}\r\nAuthorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nTransfer-Encoding: chunked\r\n\r\n",
        app.port
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let start = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"endless.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
    );
    let chunk = |data: &[u8]| [format!("{:x}\r\n", data.len()).as_bytes(), data, b"\r\n"].concat();
    conn.write_all(&chunk(start.as_bytes())).await.unwrap();
    let block = vec![0xffu8; 16 * 1024];
    let mut sent = 0usize;
    // 50 MiB would follow; the answer must come long before.
    while sent < 50 * 1024 * 1024 {
        if conn.write_all(&chunk(&block)).await.is_err() {
            break;
        }
        sent += block.len();
        let mut peek = [0u8; 1];
        if let Ok(Ok(n)) =
            tokio::time::timeout(std::time::Duration::from_millis(1), conn.peek(&mut peek)).await
            && n > 0
        {
            break;
        }
    }
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        conn.read_to_end(&mut answer),
    )
    .await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("100000"), "{answer}");
    assert!(
        sent < 1024 * 1024,
        "the server read {sent} bytes before answering"
    );
    assert_eq!(media_rows(&app).await, 0);
}

#[tokio::test]
async fn text_named_png_and_images_over_the_pixel_limit_are_422() {
    let app = spawn_app_with(Options {
        config: "[limits.client_api]\nmedia_max_pixels = 10000\n",
        ..Options::default()
    })
    .await;
    let token = signed_in(&app, "alice", "write").await;
    let text = b"Dear diary, today I renamed a text file to .png.\n";
    let (status, v) = upload(
        &app,
        "/api/v2/media",
        &token,
        ("diary.png", "image/png", text),
        None,
    )
    .await;
    assert_eq!(status, 422, "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("JPEG, PNG, WebP or GIF"),
        "{v}"
    );
    let (status, v) = upload(
        &app,
        "/api/v2/media",
        &token,
        ("wide.png", "image/png", &png(200, 100)),
        None,
    )
    .await;
    assert_eq!(status, 422, "{v}");
    assert!(v["error"].as_str().unwrap().contains("10000 pixels"), "{v}");
    let (status, v) = upload(
        &app,
        "/api/v2/media",
        &token,
        ("fits.png", "image/png", &png(100, 100)),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(media_rows(&app).await, 1);
}

#[tokio::test]
async fn mastodon_py_uploads_an_image_with_a_description_and_posts_it() {
    let venv = python_clients();
    let app = spawn_app().await;
    with_password(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("square.png");
    std::fs::write(&file, png(300, 200)).unwrap();
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/mastodon_py_media.py");
    let out = tokio::process::Command::new(venv.join("bin/python"))
        .arg(script)
        .arg(&app.base)
        .arg(PASSWORD)
        .arg(&file)
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
    assert_eq!(v["type"], "image");
    assert_eq!(v["description"], "A red rectangle");
    assert_eq!(v["width"], 300);
    assert_eq!(v["focus"], json!([0.25, -0.5]));
    assert_eq!(v["updated_description"], "A red rectangle, wider than high");
    assert_eq!(
        v["note_media"],
        json!([[v["media_id"], "A red rectangle, wider than high"]])
    );
    assert_eq!(v["warnings"], json!([]));
}

/// Status creation claims uploads through `service::client_api::media::claim` inside
/// its transaction; here a post of the fixture stands in for a new note.
async fn claim(
    app: &TestApp,
    author: &str,
    ids: &[String],
    post_id: i64,
) -> Result<Vec<fedblog::domain::Attachment>, fedblog::error::AppError> {
    let handle = fedblog::domain::Handle::parse(author).unwrap();
    let mut tx = app.state.db().begin().await.unwrap();
    let claimed =
        fedblog::service::client_api::media::claim(&app.state, &mut tx, &handle, ids, post_id)
            .await?;
    tx.commit().await.unwrap();
    Ok(claimed)
}

#[tokio::test]
async fn a_post_claims_its_authors_uploads_and_makes_their_urls_public() {
    let app = spawn_app().await;
    let alice = signed_in(&app, "alice", "write:media").await;
    let bob = signed_in(&app, "bob", "write:media").await;
    let post_id: i64 = sqlx::query_scalar("SELECT id FROM posts WHERE slug = 'first-post'")
        .fetch_one(&app.sql)
        .await
        .expect("the fixture's post");
    let mut ids = Vec::new();
    for (i, token) in [&alice, &alice, &alice, &alice, &alice, &bob]
        .iter()
        .enumerate()
    {
        let (status, m) = upload(
            &app,
            "/api/v2/media",
            token,
            ("red.png", "image/png", &png(20 + i as u32, 10)),
            Some(&format!("picture {i}")),
        )
        .await;
        assert_eq!(status, 200, "{m}");
        ids.push(m);
    }
    let id = |i: usize| ids[i]["id"].as_str().unwrap().to_owned();

    // Another author's upload, an unknown id, or five: 422, and nothing is claimed.
    for bad in [
        vec![id(0), id(5)],
        vec!["999999".into()],
        (0..5).map(id).collect(),
    ] {
        let err = claim(&app, "alice", &bad, post_id).await.unwrap_err();
        assert!(
            matches!(err, fedblog::error::AppError::Unprocessable(_)),
            "{err}"
        );
    }
    let url = ids[1]["url"].as_str().unwrap();
    assert_eq!(get_bytes(&app, url, None).await.status(), 404);

    let claimed = claim(&app, "alice", &[id(1), id(0)], post_id)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    assert_eq!(claimed[0].url, url);
    assert_eq!(claimed[0].alt, "picture 1");
    assert_eq!(claimed[0].media_type.as_deref(), Some("image/png"));
    assert_eq!((claimed[0].width, claimed[0].height), (Some(21), Some(10)));
    // Now anyone may see it, and caches may keep it.
    let res = get_bytes(&app, url, None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    // An edit keeps one and adds another; the one left out is no longer public.
    let claimed = claim(&app, "alice", &[id(0), id(2)], post_id)
        .await
        .unwrap();
    assert_eq!(claimed[1].alt, "picture 2");
    assert_eq!(get_bytes(&app, url, None).await.status(), 404);
    // Checked before a new post is written: what is in a post is not free.
    let check = |ids: Vec<String>, post: Option<i64>| {
        let handle = fedblog::domain::Handle::parse("alice").unwrap();
        let app = app.state.clone();
        async move { fedblog::service::client_api::media::check(&app, &handle, &ids, post).await }
    };
    assert!(check(vec![id(0)], None).await.is_err());
    assert_eq!(check(vec![id(3)], None).await.unwrap()[0].alt, "picture 3");
    assert_eq!(check(vec![id(0)], Some(post_id)).await.unwrap().len(), 1);
    // Media in a post are not another post's.
    sqlx::query("INSERT INTO posts (author, source_path, slug, kind, content_html, written_at, published_at, source_hash) VALUES ('alice', 'x.md', 'other', 'Note', '', 0, 0, '')")
        .execute(&app.sql)
        .await
        .unwrap();
    let other: i64 = sqlx::query_scalar("SELECT id FROM posts WHERE slug = 'other'")
        .fetch_one(&app.sql)
        .await
        .unwrap();
    assert!(claim(&app, "alice", &[id(0)], other).await.is_err());
    // A deleted post's media are gone from the web at once.
    sqlx::query("UPDATE posts SET deleted_at = 1 WHERE id = $1")
        .bind(post_id)
        .execute(&app.sql)
        .await
        .unwrap();
    let kept = ids[0]["url"].as_str().unwrap();
    assert_eq!(get_bytes(&app, kept, None).await.status(), 404);
}

#[tokio::test]
async fn a_note_with_an_uploaded_photo_federates_it_with_its_alt_text() {
    let app = spawn_app().await;
    let peer = TestPeer::start().await;
    app.followed_by(&peer, "alice", &["carol"]).await;
    app.deliver_all().await; // the Accept
    let token = signed_in(&app, "alice", "read write").await;
    let (status, m) = upload(
        &app,
        "/api/v2/media",
        &token,
        ("beach.jpg", "image/jpeg", &photo_with_gps()),
        Some("Waves on a beach at dusk"),
    )
    .await;
    assert_eq!(status, 200, "{m}");
    let url = m["url"].as_str().unwrap().to_owned();
    let body = json!({"status": "At the beach today", "media_ids": [m["id"]]});
    let (status, v) = api_send(
        &app,
        Method::POST,
        "/api/v1/statuses",
        Some(&token),
        Some(&body),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    // The status shows the media as the upload answered it.
    assert_eq!(v["media_attachments"], json!([m]));

    app.deliver_all().await;
    let creates = peer.received_of_type("Create");
    assert_eq!(creates.len(), 1);
    let attachment = &creates[0].body["object"]["attachment"];
    assert_eq!(
        attachment,
        &json!([{
            "type": "Image", "url": url, "name": "Waves on a beach at dusk",
            "mediaType": "image/jpeg", "width": 600, "height": 1200,
        }])
    );
    // Anyone (the follower's server) may now fetch it: the upright JPEG, no EXIF.
    let res = get_bytes(&app, &url, None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let served = res.bytes().await.unwrap();
    assert_eq!(metadata_segments(&served), Vec::<u8>::new());
    let decoded = image::load_from_memory(&served).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (600, 1200));

    // Another author cannot post it; an edit that drops it takes it off the web.
    let bob = signed_in(&app, "bob", "read write").await;
    let theirs = json!({"status": "Not mine", "media_ids": [m["id"]]});
    let (status, _) = api_send(
        &app,
        Method::POST,
        "/api/v1/statuses",
        Some(&bob),
        Some(&theirs),
    )
    .await;
    assert_eq!(status, 422);
    let id = v["id"].as_str().unwrap();
    let edit = json!({"status": "At the beach today (no photo)", "media_ids": []});
    let path = format!("/api/v1/statuses/{id}");
    let (status, e) = api_send(&app, Method::PUT, &path, Some(&token), Some(&edit)).await;
    assert_eq!(status, 200, "{e}");
    assert_eq!(e["media_attachments"], json!([]));
    assert_eq!(get_bytes(&app, &url, None).await.status(), 404);
}
