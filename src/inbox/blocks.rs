//! Which senders a block covers: the config's blocks (parsed once, at start) and
//! those made with `fedblog block` (in the database, asked once per round).

use std::collections::HashSet;

use url::Url;

use crate::{config::ModerationSettings, db, domain::BlockTarget, error::AppResult};

/// The blocks in `config.toml`.
pub fn configured(m: &ModerationSettings) -> AppResult<Vec<BlockTarget>> {
    Ok(m.blocked_domains
        .iter()
        .chain(&m.blocked_actors)
        .map(|s| BlockTarget::parse(s))
        .collect::<Result<Vec<_>, _>>()?)
}

/// Which of `actors` a configured or stored block covers. The database is asked once,
/// and only about the targets that could match: each actor and its host with each
/// parent domain.
pub async fn blocked_among(
    db: &db::Db,
    configured: &[BlockTarget],
    actors: &[Url],
) -> AppResult<HashSet<Url>> {
    let all: Vec<String> = actors.iter().flat_map(BlockTarget::candidates).collect();
    let stored: HashSet<String> = db::blocks::which_of(db.read(), &all)
        .await?
        .into_iter()
        .collect();
    Ok(actors
        .iter()
        .filter(|a| {
            configured.iter().any(|t| t.matches(a))
                || BlockTarget::candidates(a)
                    .iter()
                    .any(|c| stored.contains(c))
        })
        .cloned()
        .collect())
}
