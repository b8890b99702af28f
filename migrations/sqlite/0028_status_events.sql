-- The streaming API's status events (`update`, `status.update`, `delete`), written by
-- triggers in the transaction that changes a status, whichever process commits it
-- (the server, `fedblog sync`, the inbox). Each server's poller reads the rows above
-- the last id it saw (AUTOINCREMENT: never reused; SQLite commits one writer at a
-- time) and streams them, so several nodes all stream every change. A delete keeps
-- what routing needs (author or actor, visibility, tags): the row is gone by then.
-- Bounded: the pollers delete rows older than ten minutes and all but the newest
-- `[limits.client_api] stream_log_rows`.
CREATE TABLE status_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL CHECK (kind IN ('update', 'status.update', 'delete')),
    post_id     INTEGER,            -- our post or note (`<n>`)
    remote_id   INTEGER,            -- a stored remote status (`s.<n>`)
    author      TEXT,               -- our post's author
    actor_id    TEXT,               -- the remote status's actor
    visibility  TEXT NOT NULL,
    tags_json   TEXT NOT NULL DEFAULT '[]',
    at          INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER) * 1000),
    CHECK ((post_id IS NULL) <> (remote_id IS NULL))
);
CREATE INDEX status_events_by_time ON status_events(at);

-- Our posts and notes: published (or back from deletion), edited, deleted.
CREATE TRIGGER posts_event_insert AFTER INSERT ON posts WHEN NEW.deleted_at IS NULL BEGIN
    INSERT INTO status_events (kind, post_id, author, visibility, tags_json)
        VALUES ('update', NEW.id, NEW.author, NEW.visibility, NEW.tags_json);
END;

CREATE TRIGGER posts_event_revive AFTER UPDATE OF deleted_at ON posts
WHEN OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL BEGIN
    INSERT INTO status_events (kind, post_id, author, visibility, tags_json)
        VALUES ('update', NEW.id, NEW.author, NEW.visibility, NEW.tags_json);
END;

CREATE TRIGGER posts_event_gone AFTER UPDATE OF deleted_at ON posts
WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL BEGIN
    INSERT INTO status_events (kind, post_id, author, visibility, tags_json)
        VALUES ('delete', OLD.id, OLD.author, OLD.visibility, OLD.tags_json);
END;

-- Only what a Status shows: a re-saved file or a new slug is no edit.
CREATE TRIGGER posts_event_edit
AFTER UPDATE OF title, content_html, spoiler_text, sensitive, attachments_json, tags_json,
    visibility ON posts
WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NULL
 AND (OLD.title IS NOT NEW.title OR OLD.content_html IS NOT NEW.content_html
      OR OLD.spoiler_text IS NOT NEW.spoiler_text OR OLD.sensitive IS NOT NEW.sensitive
      OR OLD.attachments_json IS NOT NEW.attachments_json
      OR OLD.tags_json IS NOT NEW.tags_json OR OLD.visibility IS NOT NEW.visibility) BEGIN
    INSERT INTO status_events (kind, post_id, author, visibility, tags_json)
        VALUES ('status.update', NEW.id, NEW.author, NEW.visibility, NEW.tags_json);
END;

CREATE TRIGGER posts_event_delete AFTER DELETE ON posts WHEN OLD.deleted_at IS NULL BEGIN
    INSERT INTO status_events (kind, post_id, author, visibility, tags_json)
        VALUES ('delete', OLD.id, OLD.author, OLD.visibility, OLD.tags_json);
END;

-- Remote statuses. The hourly pruner marks rows `expiring` before deleting them: a
-- status leaving the store by age is no Delete, and clients keep showing it.
ALTER TABLE remote_statuses ADD COLUMN expiring INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER remote_statuses_event_insert AFTER INSERT ON remote_statuses BEGIN
    INSERT INTO status_events (kind, remote_id, actor_id, visibility, tags_json)
        VALUES ('update', NEW.id, NEW.actor_id, NEW.visibility, NEW.tags_json);
END;

CREATE TRIGGER remote_statuses_event_edit
AFTER UPDATE OF content_html, summary, visibility, attachments_json, tags_json ON remote_statuses
WHEN OLD.content_html IS NOT NEW.content_html OR OLD.summary IS NOT NEW.summary
  OR OLD.visibility IS NOT NEW.visibility OR OLD.attachments_json IS NOT NEW.attachments_json
  OR OLD.tags_json IS NOT NEW.tags_json BEGIN
    INSERT INTO status_events (kind, remote_id, actor_id, visibility, tags_json)
        VALUES ('status.update', NEW.id, NEW.actor_id, NEW.visibility, NEW.tags_json);
END;

CREATE TRIGGER remote_statuses_event_delete AFTER DELETE ON remote_statuses
WHEN OLD.expiring = 0 BEGIN
    INSERT INTO status_events (kind, remote_id, actor_id, visibility, tags_json)
        VALUES ('delete', OLD.id, OLD.actor_id, OLD.visibility, OLD.tags_json);
END;
