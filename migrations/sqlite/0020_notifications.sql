-- The client API's notifications: what happened to an author's posts and account.
-- Rows are written by triggers, so each one lands in the same transaction as the
-- reply, reaction, quote or follow that caused it, whichever code path stores it.
-- The AUTOINCREMENT id is the Mastodon id: it never reuses a dismissed one and grows
-- with time, so max_id/since_id/min_id pagination is a range of the primary key.
-- Dismissing deletes the row (as Mastodon does). Bounded by `[limits.client_api]`
-- notifications_per_author and notification_days (pruned with the inbox's history).
CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    author      TEXT NOT NULL REFERENCES authors(handle),
    kind        TEXT NOT NULL,   -- Mastodon's type: mention | favourite | reblog | quote | follow
    actor_id    TEXT NOT NULL,   -- who did it
    post_id     INTEGER REFERENCES posts(id) ON DELETE CASCADE,
    reply_id    INTEGER REFERENCES replies(id) ON DELETE CASCADE,    -- mention: the reply
    quote_id    INTEGER REFERENCES quotes(id) ON DELETE CASCADE,     -- quote: the quote
    created_at  INTEGER NOT NULL
);
CREATE INDEX notifications_by_author ON notifications(author, id);
CREATE INDEX notifications_by_time ON notifications(created_at);

-- Markers: where an author stopped reading (only the notifications timeline).
CREATE TABLE markers (
    author       TEXT NOT NULL REFERENCES authors(handle),
    timeline     TEXT NOT NULL,   -- notifications | home
    last_read_id TEXT NOT NULL,
    version      INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (author, timeline)
);

-- The backfill, oldest first so ids grow with time. Replies answering the post
-- itself (depth 1) are the author's mentions; hidden ones (moderation) are not shown.
INSERT INTO notifications (author, kind, actor_id, post_id, reply_id, quote_id, created_at)
SELECT author, kind, actor_id, post_id, reply_id, quote_id, at FROM (
    SELECT p.author, 'mention' AS kind, r.actor_id, r.post_id, r.id AS reply_id,
           NULL AS quote_id, r.received_at AS at
      FROM replies r JOIN posts p ON p.id = r.post_id
     WHERE r.depth = 1 AND r.state <> 'hidden'
    UNION ALL
    SELECT p.author, CASE x.kind WHEN 'like' THEN 'favourite' ELSE 'reblog' END, x.actor_id,
           x.post_id, NULL, NULL, x.created_at
      FROM reactions x JOIN posts p ON p.id = x.post_id
     WHERE x.kind IN ('like', 'announce')
    UNION ALL
    SELECT p.author, 'quote', q.actor_id, q.post_id, NULL, q.id, q.created_at
      FROM quotes q JOIN posts p ON p.id = q.post_id
     WHERE q.state IN ('approved', 'listed')
    UNION ALL
    SELECT f.author, 'follow', f.actor_id, NULL, NULL, NULL, f.created_at
      FROM followers f
) ORDER BY at;

-- From now on, as things arrive. (An upsert that updates, or an insert ignored as
-- a duplicate, fires no insert trigger: a redelivered activity notifies once.)
CREATE TRIGGER replies_notify AFTER INSERT ON replies
WHEN NEW.depth = 1 AND NEW.state <> 'hidden' BEGIN
    INSERT INTO notifications (author, kind, actor_id, post_id, reply_id, created_at)
        SELECT author, 'mention', NEW.actor_id, NEW.post_id, NEW.id, NEW.received_at
          FROM posts WHERE id = NEW.post_id;
END;

CREATE TRIGGER reactions_notify AFTER INSERT ON reactions
WHEN NEW.kind IN ('like', 'announce') BEGIN
    INSERT INTO notifications (author, kind, actor_id, post_id, created_at)
        SELECT author, CASE NEW.kind WHEN 'like' THEN 'favourite' ELSE 'reblog' END,
               NEW.actor_id, NEW.post_id, NEW.created_at
          FROM posts WHERE id = NEW.post_id;
END;

-- An Undo takes the notification back, as Mastodon does.
CREATE TRIGGER reactions_unnotify AFTER DELETE ON reactions BEGIN
    DELETE FROM notifications
     WHERE post_id = OLD.post_id AND actor_id = OLD.actor_id
       AND kind = CASE OLD.kind WHEN 'like' THEN 'favourite' ELSE 'reblog' END;
END;

CREATE TRIGGER quotes_notify AFTER INSERT ON quotes
WHEN NEW.state IN ('approved', 'listed') BEGIN
    INSERT INTO notifications (author, kind, actor_id, post_id, quote_id, created_at)
        SELECT author, 'quote', NEW.actor_id, NEW.post_id, NEW.id, NEW.created_at
          FROM posts WHERE id = NEW.post_id;
END;

CREATE TRIGGER followers_notify AFTER INSERT ON followers BEGIN
    INSERT INTO notifications (author, kind, actor_id, created_at)
        VALUES (NEW.author, 'follow', NEW.actor_id, NEW.created_at);
END;
