//! Which senders and origins a block covers: the config's blocks (parsed once, at
//! start) and those made with `fedblog block` (in the database), as one
//! [`BlockList`] the processor reads again every few seconds.

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
