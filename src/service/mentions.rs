//! Mentions at publish: each `@user@server` a scan found is resolved (our own authors
//! from the database, others through `federation::webfinger`, cached), and the posts'
//! marked HTML becomes links; a mention not found stays text and is a warning naming
//! the file, line and account, never a failed publish.

use std::collections::{HashMap, HashSet};

use crate::{
    app::App,
    content::{ContentError, Scan},
    db,
    domain::{Acct, Handle, Mention},
    error::AppResult,
    federation::webfinger,
    uris::Uris,
};

/// Whether some mention in `scan` needs the database or the network: it names no
/// author of this scan. (`fedblog check` opens the app only then.)
pub fn needs_lookup(scan: &Scan, uris: &Uris) -> bool {
    let authors = authors_of(scan);
    scan.authors
        .iter()
        .flat_map(|a| &a.posts)
        .flat_map(|p| &p.mentioned)
        .any(|m| local_author(uris, &authors, &m.acct).is_none())
}

fn authors_of(scan: &Scan) -> HashSet<Handle> {
    scan.authors.iter().map(|a| a.handle.clone()).collect()
}

/// The author of this scan `acct` names, if it is one.
fn local_author(uris: &Uris, authors: &HashSet<Handle>, acct: &Acct) -> Option<Mention> {
    if !uris.is_account_domain(acct.domain()) {
        return None;
    }
    let handle = Handle::parse(acct.user())
        .ok()
        .filter(|h| authors.contains(h))?;
    let actor = uris.actor(&handle);
    Some(Mention {
        name: format!("@{acct}"),
        url: actor.clone(),
        actor,
    })
}

/// Links the mentions of every post in `scan`; returns a warning per mention not found.
pub async fn link(app: &App, scan: &mut Scan) -> AppResult<Vec<ContentError>> {
    let mut found: HashMap<String, Option<Mention>> = HashMap::new();
    let mut warnings = Vec::new();
    let authors = authors_of(scan);
    for author in &mut scan.authors {
        for post in &mut author.posts {
            for m in &post.mentioned {
                if let std::collections::hash_map::Entry::Vacant(slot) = found.entry(m.acct.key()) {
                    let local = local_author(app.uris(), &authors, &m.acct);
                    slot.insert(match local {
                        Some(found) => Some(found),
                        None => resolve(app, &m.acct).await?,
                    });
                }
            }
            let missing = post.link_mentions(&|a: &Acct| found.get(&a.key()).cloned().flatten());
            let file = author.dir.join(&post.source_path);
            warnings.extend(missing.into_iter().map(|m| {
                ContentError::new(
                    &file,
                    Some(m.line),
                    None,
                    format!(
                        "@{}: no such account was found (WebFinger), so the mention stays text",
                        m.acct
                    ),
                )
            }));
        }
    }
    Ok(warnings)
}

/// The accounts these name (our authors, or remote accounts through WebFinger), by
/// [`Acct::key`]; one not found is absent. For what apps post.
pub async fn resolve_all(app: &App, accts: &[Acct]) -> AppResult<HashMap<String, Mention>> {
    let mut found = HashMap::new();
    for acct in accts {
        if found.contains_key(&acct.key()) {
            continue;
        }
        if let Some(m) = resolve(app, acct).await? {
            found.insert(acct.key(), m);
        }
    }
    Ok(found)
}

/// The account `acct` names: one of our authors, or a remote account.
async fn resolve(app: &App, acct: &Acct) -> AppResult<Option<Mention>> {
    if is_ours(app, acct.domain()) {
        let Ok(handle) = Handle::parse(acct.user()) else {
            return Ok(None);
        };
        let author = db::authors::get(app.db().read(), &handle).await?;
        return Ok(author.map(|_| {
            let actor = app.uris().actor(&handle);
            Mention {
                name: format!("@{acct}"),
                url: actor.clone(),
                actor,
            }
        }));
    }
    let keep = app.config().limits.fetch.account_lookups.get();
    webfinger::resolve_account(app.fed(), acct, keep).await
}

/// Whether accounts on `domain` are this server's.
fn is_ours(app: &App, domain: &str) -> bool {
    app.uris().is_account_domain(domain)
}
