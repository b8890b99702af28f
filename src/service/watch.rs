//! `serve --watch`: file-system events in the content folder, debounced, become sync
//! requests for the task in [`super::schedule`], naming the files that changed.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use notify_debouncer_mini::{
    Config, DebounceEventResult, Debouncer, new_debouncer_opt,
    notify::{
        self, Event, EventHandler, EventKind, RecommendedWatcher, RecursiveMode, Watcher,
        WatcherKind,
        event::{AccessKind, AccessMode},
    },
};
use tokio::sync::mpsc;

use anyhow::Context;

use crate::error::AppResult;

/// Quiet time after the last event before a sync: an editor's save is often several
/// writes and renames. Short enough that a saved post is republished within a second.
const DEBOUNCE: Duration = Duration::from_millis(200);

/// One burst of changes: the files that changed, or `None` when the watcher lost
/// track (then everything is compared).
pub type Changes = Option<Vec<PathBuf>>;

/// A running watcher and the channel that receives one message per burst of changes.
/// Watching stops when it is dropped.
pub struct Watch {
    pub watcher: Debouncer<ChangesOnly>,
    pub changes: mpsc::UnboundedReceiver<Changes>,
}

/// Watches `content` recursively.
pub fn watch(content: &Path) -> AppResult<Watch> {
    // Unbounded but small: the sync task drains every pending burst into one sync.
    let (tx, rx) = mpsc::unbounded_channel();
    // notify reports absolute paths; the sync compares them with `content` as
    // configured, which is relative when `config.toml` was named relatively.
    let given = content.to_owned();
    let absolute = std::path::absolute(content)
        .with_context(|| format!("cannot watch {}", content.display()))?;
    let config = Config::default().with_timeout(DEBOUNCE);
    let mut debouncer = new_debouncer_opt(config, move |res: DebounceEventResult| match res {
        Ok(events) => {
            let paths: Vec<PathBuf> = events
                .into_iter()
                .map(|e| as_configured(e.path, &absolute, &given))
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
    .context("cannot watch the content folder")?;
    debouncer
        .watcher()
        .watch(content, RecursiveMode::Recursive)
        .with_context(|| format!("cannot watch {}", content.display()))?;
    Ok(Watch {
        watcher: debouncer,
        changes: rx,
    })
}

/// `path` under `content` as the configuration names it, given `absolute`, the same
/// folder as notify names it.
fn as_configured(path: PathBuf, absolute: &Path, content: &Path) -> PathBuf {
    match path.strip_prefix(absolute) {
        Ok(rel) => content.join(rel),
        Err(_) => path,
    }
}

/// The platform's watcher without the events of files being opened or read. The sync
/// reads the files it is told about (and the author's profile), and the debouncer
/// keeps no event kinds: those reads would start the next sync, and so on forever,
/// as would every image a page serves from the folder.
pub struct ChangesOnly(RecommendedWatcher);

impl Watcher for ChangesOnly {
    fn new<F: EventHandler>(mut handler: F, config: notify::Config) -> notify::Result<Self> {
        let changes = move |event: notify::Result<Event>| {
            if !event.as_ref().is_ok_and(|e| only_read(&e.kind)) {
                handler.handle_event(event);
            }
        };
        RecommendedWatcher::new(changes, config).map(Self)
    }

    fn watch(&mut self, path: &Path, mode: RecursiveMode) -> notify::Result<()> {
        self.0.watch(path, mode)
    }

    fn unwatch(&mut self, path: &Path) -> notify::Result<()> {
        self.0.unwatch(path)
    }

    fn kind() -> WatcherKind {
        RecommendedWatcher::kind()
    }
}

/// An access that changes nothing: opened, read, or closed without writing.
fn only_read(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(mode)) => *mode != AccessMode::Write,
        EventKind::Access(_) => true,
        _ => false,
    }
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

    #[test]
    fn reported_paths_are_named_as_the_configured_folder() {
        let named = |p: &str, content: &str| {
            let content = Path::new(content);
            let absolute = std::path::absolute(content).unwrap();
            as_configured(absolute.join(p), &absolute, content)
        };
        assert_eq!(
            named("a/post.md", "content"),
            Path::new("content/a/post.md")
        );
        assert_eq!(
            named("a/post.md", "./content"),
            Path::new("./content/a/post.md")
        );
        assert_eq!(
            named("a/post.md", "/srv/blog"),
            Path::new("/srv/blog/a/post.md")
        );
    }

    #[test]
    fn reading_a_file_is_not_a_change() {
        let open = EventKind::Access(AccessKind::Open(AccessMode::Any));
        let read_closed = EventKind::Access(AccessKind::Close(AccessMode::Read));
        assert!(only_read(&open));
        assert!(only_read(&read_closed));
        let written = EventKind::Access(AccessKind::Close(AccessMode::Write));
        assert!(!only_read(&written));
        assert!(!only_read(&EventKind::Modify(
            notify::event::ModifyKind::Any
        )));
    }
}
