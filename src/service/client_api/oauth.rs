//! OAuth 2 as Mastodon speaks it (Doorkeeper's behaviour, RFC 6749, PKCE RFC 7636,
//! revocation RFC 7009): apps register, an author signs in on our page and the app
//! exchanges the code for a token; or an app trades the author's password, or its
//! own credentials, for one. Every secret is stored as its SHA-256 only.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Deserialize;

use super::password;
use crate::{
    app::App,
    db::{
        self,
        client_api::{AppRow, CodeRow, NewApp, TokenRow},
        now_ms,
    },
    domain::{Handle, PeerKey, RedirectUri, RedirectUris, Scope, Scopes, hash_hex},
    error::{AppError, AppResult, OAuthError},
};

/// How long an authorization code may wait for its exchange.
const CODE_TTL_MS: i64 = 10 * 60 * 1000;
/// How long a sign-in form may stay open.
const FORM_TTL_MS: i64 = 60 * 60 * 1000;
/// Registrations younger than this are kept even when the apps table is full (an app
/// registers, then its user signs in).
const FRESH_APP_MS: i64 = 24 * 60 * 60 * 1000;

/// A new random secret: 256 bits, base64url.
fn secret() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn digest(secret: &str) -> String {
    hash_hex(&[secret.as_bytes()])
}

/// Compares a secret with a stored hash in time independent of where they differ.
fn matches(secret: &str, stored_hash: &str) -> bool {
    let h = digest(secret);
    h.len() == stored_hash.len()
        && h.bytes()
            .zip(stored_hash.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// `POST /api/v1/apps`, as the client sent it (form or JSON).
#[derive(Debug, Deserialize)]
pub struct AppRegistration {
    pub client_name: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub redirect_uris: Option<String>,
    pub scopes: Option<String>,
    pub website: Option<String>,
}

/// A string, or a list of strings joined by newlines (Mastodon takes both).
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(Option::<OneOrMany>::deserialize(d)?.map(|v| match v {
        OneOrMany::One(s) => s,
        OneOrMany::Many(l) => l.join("\n"),
    }))
}

/// A registered app, with its secret in the clear: shown once, at registration.
pub struct Registered {
    pub row: AppRow,
    pub client_secret: String,
}

const MAX_NAME_CHARS: usize = 200;

/// Registers an app. Anyone may; the table stays under `[limits.client_api] max_apps`.
pub async fn register(app: &App, r: AppRegistration) -> AppResult<Registered> {
    let invalid = |m: String| AppError::Unprocessable(format!("Validation failed: {m}"));
    let name = r.client_name.unwrap_or_default();
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(format!(
            "the app needs a client_name of 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    let redirect_uris =
        RedirectUris::parse(r.redirect_uris.as_deref().unwrap_or("")).map_err(|e| invalid(e.0))?;
    let scopes = Scopes::parse(r.scopes.as_deref().unwrap_or("")).map_err(|e| invalid(e.0))?;
    let website = r
        .website
        .filter(|w| !w.trim().is_empty())
        .map(|w| {
            url::Url::parse(w.trim())
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && w.len() <= 2000)
                .map(|_| w.trim().to_owned())
                .ok_or_else(|| invalid("website must be an http(s) URL".into()))
        })
        .transpose()?;
    let now = now_ms();
    let cap = i64::from(app.config().limits.client_api.max_apps.get());
    let client_id = secret();
    let client_secret = secret();
    let mut tx = app.db().begin().await?;
    let remaining = db::client_api::make_room_for_app(&mut tx, cap, now - FRESH_APP_MS).await?;
    if remaining >= cap {
        app.metrics().limit_tripped("limits.client_api.max_apps");
        return Err(AppError::Unprocessable(
            "this server has as many registered apps as it keeps; try again tomorrow".into(),
        ));
    }
    let secret_hash = digest(&client_secret);
    let new = NewApp {
        client_id: &client_id,
        secret_hash: &secret_hash,
        name,
        website: website.as_deref(),
        redirect_uris: &redirect_uris,
        scopes: &scopes,
    };
    let id = db::client_api::insert_app(&mut tx, &new, now).await?;
    tx.commit().await?;
    let row = AppRow {
        id,
        client_id,
        secret_hash,
        name: name.to_owned(),
        website,
        redirect_uris,
        scopes,
        created_at: now,
    };
    Ok(Registered { row, client_secret })
}

/// The app `client_id` names, if `client_secret` is its secret.
async fn client(
    app: &App,
    client_id: Option<&str>,
    client_secret: Option<&str>,
) -> AppResult<AppRow> {
    let refused = || {
        AppError::oauth(
            OAuthError::InvalidClient,
            "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
        )
    };
    let (Some(id), Some(secret)) = (client_id, client_secret) else {
        return Err(refused());
    };
    let row = db::client_api::app_by_client_id(app.db().read(), id)
        .await?
        .ok_or_else(refused)?;
    if !matches(secret, &row.secret_hash) {
        return Err(refused());
    }
    Ok(row)
}

/// The query of `GET /oauth/authorize` (and the hidden fields of its form).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// A sign-in request that names a registered app and one of its redirect URIs.
#[derive(Debug, Clone)]
pub struct Authorization {
    pub app: AppRow,
    pub redirect: RedirectUri,
    pub scopes: Scopes,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
}

/// Checks a sign-in request. Every failure is shown on our page, never sent to the
/// redirect URI: an unknown app or an unregistered URI must not make us redirect.
pub async fn authorization(app: &App, p: &AuthorizeParams) -> AppResult<Authorization> {
    let bad = |m: &str| AppError::BadRequest(m.to_owned());
    let client_id = p
        .client_id
        .as_deref()
        .ok_or_else(|| bad("client_id is missing"))?;
    let row = db::client_api::app_by_client_id(app.db().read(), client_id)
        .await?
        .ok_or_else(|| bad("this app is not registered here (unknown client_id)"))?;
    let redirect = row
        .redirect_uris
        .choose(p.redirect_uri.as_deref().filter(|r| !r.is_empty()))
        .cloned()
        .ok_or_else(|| bad("the redirect URI is not one this app registered"))?;
    if p.response_type.as_deref() != Some("code") {
        return Err(bad("response_type must be `code`"));
    }
    let scopes = Scopes::parse(p.scope.as_deref().unwrap_or("")).map_err(|e| bad(&e.0))?;
    if !row.scopes.contain_all(&scopes) {
        return Err(bad("the app asks for scopes it did not register"));
    }
    let code_challenge = match (
        p.code_challenge.as_deref(),
        p.code_challenge_method.as_deref(),
    ) {
        (None | Some(""), _) => None,
        (Some(c), Some("S256")) if is_pkce_value(c) => Some(c.to_owned()),
        (Some(_), Some("S256")) => return Err(bad("code_challenge is not a PKCE S256 value")),
        (Some(_), _) => return Err(bad("code_challenge_method must be S256")),
    };
    let state = p.state.clone().filter(|s| s.len() <= 2000);
    Ok(Authorization {
        app: row,
        redirect,
        scopes,
        state,
        code_challenge,
    })
}

/// 43 to 128 characters of the unreserved set (RFC 7636 §4.1–4.2).
fn is_pkce_value(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// A new sign-in form's CSRF token for this app, stored (hashed) until used or
/// expired. The same value goes in the form and in a cookie.
pub async fn new_form(app: &App, a: &Authorization) -> AppResult<String> {
    let token = secret();
    let now = now_ms();
    let cap = i64::from(app.config().limits.client_api.pending_sign_ins.get());
    let mut tx = app.db().begin().await?;
    db::client_api::insert_csrf(
        &mut tx,
        &digest(&token),
        a.app.id,
        now + FORM_TTL_MS,
        (now, cap),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// What the author did on the sign-in page.
pub struct SignInForm<'a> {
    pub csrf_field: Option<&'a str>,
    pub csrf_cookie: Option<&'a str>,
    pub username: &'a str,
    pub password: &'a str,
    pub approve: bool,
}

pub enum SignedIn {
    /// Approved: the code to give the app.
    Code(String),
    /// Denied by the author.
    Denied,
    /// Wrong name or password: the form again.
    WrongPassword,
}

/// Handles a submitted sign-in form: its CSRF token must be one we issued for this
/// app, unused and unexpired, and match the cookie set with the form (403 otherwise);
/// the password is checked under the throttle.
pub async fn sign_in(
    app: &App,
    a: &Authorization,
    f: &SignInForm<'_>,
    peer: PeerKey,
) -> AppResult<SignedIn> {
    let forbidden = || {
        AppError::Forbidden(
            "this sign-in form is not valid any more (expired, used, or not sent from this server's page); reload the page and try again".into(),
        )
    };
    let (Some(field), Some(cookie)) = (f.csrf_field, f.csrf_cookie) else {
        return Err(forbidden());
    };
    if !matches(cookie, &digest(field))
        || !db::client_api::take_csrf(app.db().write(), &digest(field), a.app.id, now_ms()).await?
    {
        return Err(forbidden());
    }
    if !f.approve {
        return Ok(SignedIn::Denied);
    }
    let Some(author) = password::check(app, f.username, f.password, peer).await? else {
        return Ok(SignedIn::WrongPassword);
    };
    let code = secret();
    let now = now_ms();
    let row = CodeRow {
        app_id: a.app.id,
        author,
        scopes: a.scopes.clone(),
        redirect_uri: a.redirect.clone(),
        code_challenge: a.code_challenge.clone(),
        expires_at: now + CODE_TTL_MS,
    };
    let cap = i64::from(app.config().limits.client_api.pending_sign_ins.get());
    let mut tx = app.db().begin().await?;
    db::client_api::insert_code(&mut tx, &digest(&code), &row, now, cap).await?;
    tx.commit().await?;
    Ok(SignedIn::Code(code))
}

/// `POST /oauth/token`, as the client sent it (form or JSON).
#[derive(Debug, Default, Deserialize)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub scope: Option<String>,
}

/// A token just issued (its value is shown once).
pub struct Issued {
    pub access_token: String,
    pub scopes: Scopes,
    pub created_at: i64,
}

/// Issues a token for an authorization code (with its PKCE verifier), an author's
/// password, or the app's own credentials.
pub async fn token(app: &App, r: &TokenRequest, peer: PeerKey) -> AppResult<Issued> {
    let grant = r.grant_type.as_deref().unwrap_or("");
    let known = ["authorization_code", "password", "client_credentials"];
    if !known.contains(&grant) {
        return Err(AppError::oauth(
            OAuthError::UnsupportedGrantType,
            "The authorization grant type is not supported by the authorization server.",
        ));
    }
    let client = client(app, r.client_id.as_deref(), r.client_secret.as_deref()).await?;
    let (author, scopes) = match grant {
        "authorization_code" => {
            let code = exchange_code(app, &client, r).await?;
            (Some(code.author), code.scopes)
        }
        "password" => {
            let scopes = asked_scopes(&client, r.scope.as_deref())?;
            let author = password::check(
                app,
                r.username.as_deref().unwrap_or(""),
                r.password.as_deref().unwrap_or(""),
                peer,
            )
            .await?
            .ok_or_else(invalid_grant)?;
            (Some(author), scopes)
        }
        _ => (None, asked_scopes(&client, r.scope.as_deref())?),
    };
    issue(app, client.id, author, scopes).await
}

fn invalid_grant() -> AppError {
    AppError::oauth(
        OAuthError::InvalidGrant,
        "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.",
    )
}

/// The scopes a token request asks for: what the app registered at most.
fn asked_scopes(client: &AppRow, scope: Option<&str>) -> AppResult<Scopes> {
    let invalid = || {
        AppError::oauth(
            OAuthError::InvalidScope,
            "The requested scope is invalid, unknown, or malformed.",
        )
    };
    let scopes = Scopes::parse(scope.unwrap_or("")).map_err(|_| invalid())?;
    if !client.scopes.contain_all(&scopes) {
        return Err(invalid());
    }
    Ok(scopes)
}

/// Takes the code (single use), then checks it was issued to this app for this
/// redirect URI and, with PKCE, that the verifier hashes to its challenge.
async fn exchange_code(app: &App, client: &AppRow, r: &TokenRequest) -> AppResult<CodeRow> {
    let code = r.code.as_deref().ok_or_else(|| {
        AppError::oauth(OAuthError::InvalidRequest, "The code parameter is missing.")
    })?;
    let row = db::client_api::take_code(app.db().write(), &digest(code), now_ms())
        .await?
        .ok_or_else(invalid_grant)?;
    let redirect_ok = match r.redirect_uri.as_deref() {
        Some(u) => u == row.redirect_uri.as_str(),
        // RFC 6749 §4.1.3: required when the request carried one; ours always does
        // once an app registered several.
        None => client.redirect_uris.iter().count() == 1,
    };
    let pkce_ok = match (&row.code_challenge, r.code_verifier.as_deref()) {
        (None, None) => true,
        (Some(challenge), Some(verifier)) => {
            is_pkce_value(verifier) && s256(verifier) == *challenge
        }
        _ => false,
    };
    if row.app_id != client.id || !redirect_ok || !pkce_ok {
        return Err(invalid_grant());
    }
    Ok(row)
}

/// PKCE S256: base64url(SHA-256(verifier)).
fn s256(verifier: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(d.as_ref())
}

async fn issue(
    app: &App,
    app_id: i64,
    author: Option<Handle>,
    scopes: Scopes,
) -> AppResult<Issued> {
    let access_token = secret();
    let now = now_ms();
    let row = TokenRow {
        app_id,
        author,
        scopes: scopes.clone(),
        created_at: now,
    };
    let per_author = i64::from(app.config().limits.client_api.tokens_per_author.get());
    let mut tx = app.db().begin().await?;
    db::client_api::insert_token(&mut tx, &digest(&access_token), &row, per_author).await?;
    tx.commit().await?;
    Ok(Issued {
        access_token,
        scopes,
        created_at: now,
    })
}

/// `POST /oauth/revoke`.
#[derive(Debug, Default, Deserialize)]
pub struct RevokeRequest {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub token: Option<String>,
}

/// Revokes a token the app holds. An unknown token is no error (RFC 7009 §2.2); one
/// of another app's is refused.
pub async fn revoke(app: &App, r: &RevokeRequest) -> AppResult<()> {
    let client = client(app, r.client_id.as_deref(), r.client_secret.as_deref()).await?;
    let token = r.token.as_deref().ok_or_else(|| {
        AppError::oauth(
            OAuthError::InvalidRequest,
            "The token parameter is missing.",
        )
    })?;
    let hash = digest(token);
    if db::client_api::revoke_token(app.db().write(), &hash, client.id).await? {
        return Ok(());
    }
    match db::client_api::token(app.db().read(), &hash, now_ms()).await? {
        Some(_) => Err(AppError::oauth(
            OAuthError::UnauthorizedClient,
            "You are not authorized to revoke this token.",
        )),
        None => Ok(()),
    }
}

/// What a valid access token allows: its app, its author (none for an app's own
/// token) and its scopes.
#[derive(Debug, Clone)]
pub struct Grant {
    pub app_id: i64,
    pub author: Option<Handle>,
    pub scopes: Scopes,
}

impl Grant {
    /// 403 unless one of the token's scopes covers `needed`.
    pub fn require(&self, needed: Scope) -> AppResult<()> {
        if self.scopes.permit(needed) {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "This action is outside the authorized scopes".into(),
            ))
        }
    }

    /// The author the token acts for; 422 for an app's own token, as Mastodon answers.
    pub fn author(&self) -> AppResult<&Handle> {
        self.author.as_ref().ok_or_else(|| {
            AppError::Unprocessable("This method requires an authenticated user".into())
        })
    }
}

/// The grant behind a bearer token; 401 if it is unknown, revoked or expired.
pub async fn authenticate(app: &App, token: &str) -> AppResult<Grant> {
    let row = db::client_api::token(app.db().read(), &digest(token), now_ms())
        .await?
        .ok_or_else(|| AppError::InvalidToken("The access token is invalid".into()))?;
    Ok(Grant {
        app_id: row.app_id,
        author: row.author,
        scopes: row.scopes,
    })
}

/// The app a grant was issued to (`GET /api/v1/apps/verify_credentials`).
pub async fn grant_app(app: &App, grant: &Grant) -> AppResult<AppRow> {
    db::client_api::app_by_id(app.db().read(), grant.app_id)
        .await?
        .ok_or_else(|| AppError::InvalidToken("The access token is invalid".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(is_pkce_value("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert!(!is_pkce_value("short"));
    }

    #[test]
    fn secrets_match_only_their_own_hash() {
        let s = secret();
        assert_eq!(s.len(), 43);
        assert!(matches(&s, &digest(&s)));
        assert!(!matches(&secret(), &digest(&s)));
    }
}
