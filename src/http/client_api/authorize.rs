//! `/oauth/authorize`: the one HTML page the client API adds, in the blog's theme.
//! GET shows which app asks for what and a sign-in form; POST checks the form's
//! CSRF token (in a hidden field and a cookie), the author's password (throttled),
//! and sends the code to the app's redirect URI, or shows it for out-of-band apps.

use axum::{
    Form,
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use minijinja::{context, value::Serde};
use serde::{Deserialize, Serialize};

use super::{super::views, extract::ClientPeer};
use crate::{
    app::App,
    domain::{Access, Scope},
    error::{AppError, AppResult},
    service::client_api::oauth::{self, Authorization, AuthorizeParams, SignInForm, SignedIn},
};

/// The cookie holding the form's CSRF token (double submit, with the token stored).
const COOKIE: &str = "fedblog_sign_in";

pub async fn page(State(app): State<App>, Query(p): Query<AuthorizeParams>) -> AppResult<Response> {
    let a = oauth::authorization(&app, &p).await?;
    form_page(&app, &a, &p, "", None).await
}

/// The submitted form: the request's parameters again, and what the author entered.
#[derive(Deserialize)]
pub struct Submitted {
    #[serde(flatten)]
    params: AuthorizeParams,
    csrf_token: Option<String>,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    decision: Option<String>,
}

pub async fn submit(
    State(app): State<App>,
    ClientPeer(peer): ClientPeer,
    headers: HeaderMap,
    Form(f): Form<Submitted>,
) -> AppResult<Response> {
    let a = oauth::authorization(&app, &f.params).await?;
    let cookie = cookie(&headers);
    let form = SignInForm {
        csrf_field: f.csrf_token.as_deref(),
        csrf_cookie: cookie.as_deref(),
        username: &f.username,
        password: &f.password,
        approve: f.decision.as_deref() != Some("deny"),
    };
    match oauth::sign_in(&app, &a, &form, peer).await? {
        SignedIn::Code(code) if a.redirect.is_oob() => {
            let html = views::render(
                "authorize.html",
                context! { site => Serde(views::site(&app)), head => Serde(head(&app)),
                app_name => &a.app.name, code },
            )?;
            Ok(guarded(html.into_response()))
        }
        SignedIn::Code(code) => Ok(redirect(&a, &[("code", &code)])),
        SignedIn::Denied if a.redirect.is_oob() => Err(AppError::Forbidden(format!(
            "you did not authorize {}",
            a.app.name
        ))),
        SignedIn::Denied => Ok(redirect(
            &a,
            &[
                ("error", "access_denied"),
                (
                    "error_description",
                    "The resource owner denied the request.",
                ),
            ],
        )),
        SignedIn::WrongPassword => {
            form_page(
                &app,
                &a,
                &f.params,
                &f.username,
                Some("Wrong author or password."),
            )
            .await
        }
    }
}

#[derive(Serialize)]
struct Hidden {
    name: &'static str,
    value: String,
}

/// The sign-in form, with a new CSRF token in a hidden field and in the cookie.
async fn form_page(
    app: &App,
    a: &Authorization,
    p: &AuthorizeParams,
    username: &str,
    error: Option<&str>,
) -> AppResult<Response> {
    let csrf_token = oauth::new_form(app, a).await?;
    let hidden: Vec<Hidden> = [
        ("response_type", Some("code".to_owned())),
        ("client_id", Some(a.app.client_id.clone())),
        ("redirect_uri", Some(a.redirect.as_str().to_owned())),
        ("scope", Some(a.scopes.to_string())),
        ("state", a.state.clone()),
        ("code_challenge", a.code_challenge.clone()),
        (
            "code_challenge_method",
            p.code_challenge_method
                .clone()
                .filter(|_| a.code_challenge.is_some()),
        ),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.map(|value| Hidden { name, value }))
    .collect();
    let scopes: Vec<String> = a
        .scopes
        .iter()
        .map(|s| format!("{} ({s})", describe(s)))
        .collect();
    let html = views::render(
        "authorize.html",
        context! {
            site => Serde(views::site(app)), head => Serde(head(app)),
            app_name => &a.app.name, website => &a.app.website, scopes, hidden => Serde(hidden), csrf_token => &csrf_token,
            username, error, oob => a.redirect.is_oob(), redirect => a.redirect.as_str(),
            action => format!("{}/oauth/authorize", app.uris().base()),
        },
    )?;
    let mut res = guarded(html.into_response());
    let secure = if app.uris().base().starts_with("https:") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{COOKIE}={csrf_token}; Path=/oauth/authorize; Max-Age=3600; HttpOnly; SameSite=Strict{secure}"
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

fn head(app: &App) -> views::Head {
    views::Head {
        title: format!("Sign in · {}", app.config().site_title),
        og_title: "Sign in".into(),
        og_type: "website",
        noindex: true,
        ..views::Head::default()
    }
}

/// Never cached, never framed (a consent page in a frame invites clickjacking), and
/// its address (which carries the request) not sent on.
fn guarded(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("frame-ancestors 'none'"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

/// The form's token from our cookie, if the browser sent it.
fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// Back to the app: its registered redirect URI with `pairs` (and `state`) added.
fn redirect(a: &Authorization, pairs: &[(&str, &str)]) -> Response {
    let Ok(mut url) = url::Url::parse(a.redirect.as_str()) else {
        return AppError::BadRequest("the redirect URI does not parse".into()).into_response();
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
        if let Some(state) = &a.state {
            q.append_pair("state", state);
        }
    }
    let mut res = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(url.as_str()) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    guarded(res)
}

/// What a scope lets the app do, in words for the consent page.
fn describe(s: Scope) -> &'static str {
    match s {
        Scope::All(Access::Read) => {
            "read everything of your account: profile, posts, notifications, follows"
        }
        Scope::All(Access::Write) => {
            "post, edit and delete, favourite and boost, follow and block as you"
        }
        Scope::Follow => "see and change whom you follow, block and mute",
        Scope::Push => {
            "receive push notifications (this server sends none: apps check for news themselves)"
        }
        Scope::Profile => "see your profile",
        Scope::One(Access::Read, _) => "read part of your account (one kind of data)",
        Scope::One(Access::Write, _) => "change part of your account (one kind of data)",
    }
}
