//! The theme's stylesheet and script, compiled into the binary and served under a
//! name that carries a hash of their content, so browsers may cache them for good.

use std::sync::OnceLock;

use axum::{
    extract::Path,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};

use crate::{
    domain::hash_hex,
    error::{AppError, AppResult},
    uris::Uris,
};

struct Asset {
    /// `site.<hash>.css`
    name: String,
    body: &'static str,
    content_type: &'static str,
}

fn assets() -> &'static [Asset] {
    static ASSETS: OnceLock<Vec<Asset>> = OnceLock::new();
    ASSETS.get_or_init(|| {
        [
            (
                "site",
                "css",
                include_str!("../../templates/site.css"),
                "text/css; charset=utf-8",
            ),
            (
                "site",
                "js",
                include_str!("../../templates/site.js"),
                "text/javascript; charset=utf-8",
            ),
            (
                "icon",
                "svg",
                include_str!("../../templates/icon.svg"),
                "image/svg+xml",
            ),
        ]
        .into_iter()
        .map(|(stem, ext, body, content_type)| Asset {
            name: format!("{stem}.{}.{ext}", &hash_hex(&[body.as_bytes()])[..12]),
            body,
            content_type,
        })
        .collect()
    })
}

fn url_of(uris: &Uris, ext: &str) -> String {
    let name = assets()
        .iter()
        .find(|a| a.name.ends_with(ext))
        .map_or("", |a| a.name.as_str());
    uris.asset(name)
}

/// The stylesheet's URL (changes whenever the stylesheet does).
pub fn css_url(uris: &Uris) -> String {
    url_of(uris, ".css")
}

/// The copy button's script URL.
pub fn js_url(uris: &Uris) -> String {
    url_of(uris, ".js")
}

/// The site icon's URL.
pub fn icon_url(uris: &Uris) -> String {
    url_of(uris, ".svg")
}

/// `GET /static/<name>`: only the current names; a year's cache, never revalidated.
pub async fn asset(Path(file): Path<String>) -> AppResult<Response> {
    let asset = assets()
        .iter()
        .find(|a| a.name == file)
        .ok_or_else(|| AppError::NotFound(format!("no file {file}")))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        asset.body,
    )
        .into_response())
}
