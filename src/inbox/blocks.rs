//! Which senders and origins a block covers: the config's blocks (parsed once, at
//! start) and those made with `fedblog block` (in the database). The processor reads
//! them all as one [`BlockList`] each pass; a single request asks the database only
//! about the targets that could cover its URLs ([`blocked_among`]).

use std::collections::HashSet;

use url::Url;

use crate::{
    config::ModerationSettings,
    db,
    domain::{BlockList, BlockTarget},
    error::AppResult,
};

/// The blocks in `config.toml`.
pub fn configured(m: &ModerationSettings) -> AppResult<Vec<BlockTarget>> {
    Ok(m.blocked_domains
        .iter()
        .chain(&m.blocked_actors)
        .map(|s| BlockTarget::parse(s))
        .collect::<Result<Vec<_>, _>>()?)
}

/// The configured blocks and the stored ones. A stored target that no longer parses
/// (written by an older version) is skipped with a warning.
pub async fn load(db: &db::Db, configured: &[BlockTarget]) -> AppResult<BlockList> {
    let stored = db::blocks::all(db.read()).await?;
    let stored = stored
        .iter()
        .filter_map(|row| match BlockTarget::parse(&row.target) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!(target = %row.target, error = %e, "a stored block is not understood");
                None
            }
        });
    Ok(BlockList::new(configured.iter().cloned().chain(stored)))
}

/// Which of `urls` a configured or stored block covers. The database is asked once,
/// and only about the targets that could match: each URL and its host with each
/// parent domain, in their normal form.
pub async fn blocked_among(
    db: &db::Db,
    configured: &[BlockTarget],
    urls: &[Url],
) -> AppResult<HashSet<Url>> {
    let all: Vec<String> = urls.iter().flat_map(BlockTarget::candidates).collect();
    let stored = db::blocks::which_of(db.read(), &all).await?;
    let list = BlockList::new(
        configured
            .iter()
            .cloned()
            .chain(stored.iter().filter_map(|s| BlockTarget::parse(s).ok())),
    );
    Ok(urls.iter().filter(|u| list.covers(u)).cloned().collect())
}
