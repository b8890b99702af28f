//! `serve --watch`: file-system events in the content folder, debounced, become sync
//! requests for the task in [`super::schedule`].

use std::{path::Path, time::Duration};

use notify_debouncer_mini::{
    DebounceEventResult, Debouncer, new_debouncer,
    notify::{RecommendedWatcher, RecursiveMode},
};
use tokio::sync::mpsc;

use crate::error::{AppError, AppResult};

/// Quiet time after the last event before a sync: an editor's save is often several
/// writes and renames. Short enough that a saved post is republished within a second.
const DEBOUNCE: Duration = Duration::from_millis(200);

/// Watches `content` recursively. Returns the watcher (which stops when dropped) and
/// a channel that receives one message per burst of changes.
pub fn watch(content: &Path) -> AppResult<(Debouncer<RecommendedWatcher>, mpsc::Receiver<()>)> {
    // Capacity 1: changes that arrive while a sync is pending coalesce into it.
    let (tx, rx) = mpsc::channel(1);
    let mut debouncer = new_debouncer(DEBOUNCE, move |res: DebounceEventResult| match res {
        Ok(events) if events.iter().any(|e| relevant(&e.path)) => {
            let _ = tx.try_send(());
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "watching the content folder"),
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
