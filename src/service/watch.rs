//! `serve --watch`: file-system events in the content folder, debounced, become sync
//! requests for the task in [`super::schedule`], naming the files that changed.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use notify_debouncer_mini::{
    DebounceEventResult, Debouncer, new_debouncer,
    notify::{RecommendedWatcher, RecursiveMode},
};
use tokio::sync::mpsc;

use crate::error::{AppError, AppResult};

/// Quiet time after the last event before a sync: an editor's save is often several
/// writes and renames. Short enough that a saved post is republished within a second.
const DEBOUNCE: Duration = Duration::from_millis(200);

/// One burst of changes: the files that changed, or `None` when the watcher lost
/// track (then everything is compared).
pub type Changes = Option<Vec<PathBuf>>;

/// Watches `content` recursively. Returns the watcher (which stops when dropped) and
/// a channel that receives one message per burst of changes.
pub fn watch(
    content: &Path,
) -> AppResult<(
    Debouncer<RecommendedWatcher>,
    mpsc::UnboundedReceiver<Changes>,
)> {
    // Unbounded but small: the sync task drains every pending burst into one sync.
    let (tx, rx) = mpsc::unbounded_channel();
    let mut debouncer = new_debouncer(DEBOUNCE, move |res: DebounceEventResult| match res {
        Ok(events) => {
            let paths: Vec<PathBuf> = events
                .into_iter()
                .map(|e| e.path)
                // A folder's own event adds nothing its files' events do not say,
                // and would make the sync compare the author's whole folder.
                .filter(|p| relevant(p) && !p.is_dir())
                .collect();
            if !paths.is_empty() {
                let _ = tx.send(Some(paths));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "watching the content folder");
            let _ = tx.send(None);
        }
    })
    .map_err(|e| AppError::Internal(format!("cannot watch the content folder: {e}")))?;
    debouncer
        .watcher()
        .watch(content, RecursiveMode::Recursive)
        .map_err(|e| AppError::Internal(format!("cannot watch {}: {e}", content.display())))?;
    Ok((debouncer, rx))
}

/// Editors' swap, backup and lock files are not content.
fn relevant(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    !(name.starts_with('.')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".tmp")
        || name.starts_with('#'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editor_temporaries_are_ignored() {
        assert!(relevant(Path::new("content/a/post.md")));
        assert!(relevant(Path::new("content/a/dot.png")));
        assert!(!relevant(Path::new("content/a/.post.md.swp")));
        assert!(!relevant(Path::new("content/a/post.md~")));
        assert!(!relevant(Path::new("content/a/#post.md#")));
    }
}
