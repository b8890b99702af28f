-- Direct messages to our authors and the author's conversations (Mastodon's
-- `direct` visibility). A remote note addressed only to accounts (no Public, no
-- followers collection) naming one of our authors is kept here, one row per author it
-- names, and never in `replies` or `remote_statuses`: nothing that shows public things
-- reads this table. The API id is `d.<id>`. Bounded by `[limits.client_api]
-- direct_messages_per_author` (pruned hourly with the notifications).
CREATE TABLE direct_messages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    author        TEXT NOT NULL REFERENCES authors(handle),
    ap_id         TEXT NOT NULL,
    actor_id      TEXT NOT NULL,
    url           TEXT,
    content_html  TEXT NOT NULL,   -- sanitised
    summary       TEXT,
    in_reply_to   TEXT,            -- the AP id it answers, as sent
    participants_json TEXT NOT NULL, -- the other accounts (actor ids, sorted), sender included
    published_at  INTEGER NOT NULL,
    received_at   INTEGER NOT NULL,
    edited_at     INTEGER,
    UNIQUE (author, ap_id)
);
CREATE INDEX direct_messages_by_ap_id ON direct_messages(ap_id);
CREATE INDEX direct_messages_by_reply ON direct_messages(author, in_reply_to);

-- An author's conversations: one per set of other participants (as Mastodon keys
-- them, without its thread split). `seq` grows with each new status in it (the
-- list's order and its Link pagination); `last_status` is the API id of the newest
-- (`d.<n>` or our post's number). Deleting one hides it until the next message.
CREATE TABLE conversations (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    author        TEXT NOT NULL REFERENCES authors(handle),
    participants_json TEXT NOT NULL,
    last_status   TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    unread        INTEGER NOT NULL DEFAULT 0,
    UNIQUE (author, participants_json)
);
CREATE INDEX conversations_by_seq ON conversations(author, seq);

-- A direct message is a `mention` notification of the author it names.
ALTER TABLE notifications ADD COLUMN direct_id INTEGER
    REFERENCES direct_messages(id) ON DELETE CASCADE;
CREATE INDEX notifications_by_direct ON notifications(direct_id) WHERE direct_id IS NOT NULL;

CREATE TRIGGER direct_messages_notify AFTER INSERT ON direct_messages BEGIN
    INSERT INTO notifications (author, kind, actor_id, direct_id, created_at)
        VALUES (NEW.author, 'mention', NEW.actor_id, NEW.id, NEW.received_at);
END;
