//! Authors' passwords: set with `fedblog password`, stored as Argon2id hashes, checked
//! at sign-in under the throttle (failures counted in the database per address and
//! per author, so every server sharing it counts them together).

use anyhow::Context;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier, password_hash::SaltString};

use crate::{
    app::App,
    db::{self, now_ms},
    domain::{Handle, PeerKey},
    error::{AppError, AppResult},
    service::read,
};

/// Shorter passwords are refused: they fall to guessing even when slowed down.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longer ones are refused: hashing them costs us, not the guesser.
const MAX_PASSWORD_BYTES: usize = 1024;

/// Sets (or replaces) an author's sign-in password.
/// An author in the content folder but not yet synced is stored first (no posts
/// are published).
pub async fn set(app: &App, handle: &Handle, password: &str) -> AppResult<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::BadRequest(format!(
            "the password needs at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::BadRequest(format!(
            "the password may have at most {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    if db::authors::get(app.db().write(), handle).await?.is_none() {
        crate::service::sync::add_author(app, handle).await?;
    }
    read::author(app, handle).await?;
    let password = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || hash(&password))
        .await
        .context("hashing the password")??;
    db::client_api::set_password(app.db().write(), handle, &hash, now_ms()).await?;
    Ok(())
}

fn hash(password: &str) -> AppResult<String> {
    let mut salt = [0u8; 16];
    rand::fill(&mut salt);
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("encoding a salt: {e}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing a password: {e}")))
}

/// A hash no password is known for, with the default parameters: checked when there
/// is no stored hash.
const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2kgq0LxlLKCZ77rQTkP3T8Qlcw6uK6tUQhZx6KMzPLw";

/// Whether `password` matches the PHC string `stored`. Without one (no such author,
/// or no password set) a dummy hash is checked, so the answer takes as long either way.
fn verify(stored: Option<&str>, password: &str) -> bool {
    let found = stored.is_some();
    let Ok(parsed) = PasswordHash::new(stored.unwrap_or(DUMMY)) else {
        return false;
    };
    let ok = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    found && ok
}

/// The author `username` names, if `password` is theirs. Refused without checking
/// while this address or this author has had too many failures in the window; a
/// wrong password counts against both. `username` is a handle, `@handle` or
/// `handle@our.domain` (what apps put in their "email" field).
pub async fn check(
    app: &App,
    username: &str,
    password: &str,
    peer: PeerKey,
) -> AppResult<Option<Handle>> {
    let handle = own_handle(app, username);
    let limits = &app.config().limits.client_api;
    let now = now_ms();
    let window = i64::from(limits.failure_window_seconds.get()) * 1000;
    let mut subjects = vec![format!("address:{peer}")];
    if let Some(h) = &handle {
        subjects.push(format!("author:{h}"));
    }
    let caps = [
        i64::from(limits.failures_per_address.get()),
        i64::from(limits.failures_per_author.get()),
    ];
    for (subject, cap) in subjects.iter().zip(caps) {
        let (count, oldest) =
            db::client_api::failures_since(app.db().write(), subject, now - window).await?;
        if count >= cap {
            let free_at = oldest.unwrap_or(now) + window;
            return Err(AppError::TooManySignIns {
                retry_after: ((free_at - now) / 1000).max(1) as u64,
            });
        }
    }
    let stored = match &handle {
        Some(h) => db::client_api::password_hash(app.db().read(), h).await?,
        None => None,
    };
    let given = password.to_owned();
    let ok = password.len() <= MAX_PASSWORD_BYTES
        && tokio::task::spawn_blocking(move || verify(stored.as_deref(), &given))
            .await
            .context("checking a password")?;
    if ok {
        return Ok(handle);
    }
    let mut tx = app.db().begin().await?;
    db::client_api::record_failure(&mut tx, &subjects, now, now - window).await?;
    tx.commit().await?;
    tracing::info!(username, %peer, "failed sign-in");
    Ok(None)
}

/// The local handle a sign-in name means, if it can be one.
fn own_handle(app: &App, username: &str) -> Option<Handle> {
    let name = username.trim().trim_start_matches('@').to_ascii_lowercase();
    let local = match name.split_once('@') {
        Some((user, domain)) if domain == app.uris().domain() || domain == app.uris().host() => {
            user
        }
        Some(_) => return None,
        None => &name,
    };
    Handle::parse(local).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify(Some(&h), "correct horse battery"));
        assert!(!verify(Some(&h), "correct horse battery!"));
        assert!(!verify(None, "anything"));
        // The dummy parses, so a missing hash costs a whole verification too.
        assert!(PasswordHash::new(DUMMY).is_ok());
    }
}
