-- The author's social graph and home timeline (the client API's follows, mutes and
-- the statuses of followed accounts).

-- A remote account's API id is `r.` + these 20 hex digits of SHA-256(actor id):
-- stored so `/api/v1/accounts/r.…` finds its actor. Written with every actor stored;
-- rows from before are filled in at start.
ALTER TABLE remote_actors ADD COLUMN api_id TEXT;
CREATE UNIQUE INDEX remote_actors_by_api_id ON remote_actors(api_id);

-- Remote accounts our authors follow (an outgoing Follow): pending until the account
-- accepts it. `follow_id` names our Follow, which the Accept or Reject must name.
-- Bounded by `[limits.timeline] following_per_author`.
CREATE TABLE following (
    author     TEXT NOT NULL REFERENCES authors(handle),
    actor_id   TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('pending', 'accepted')),
    follow_id  TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (author, actor_id)
);
CREATE INDEX following_by_actor ON following(actor_id, state);
CREATE INDEX following_by_time ON following(author, created_at);

-- Accounts an author muted: hidden from their notifications and home timeline.
-- Bounded by `[limits.timeline] mutes_per_author`.
CREATE TABLE mutes (
    author     TEXT NOT NULL REFERENCES authors(handle),
    actor_id   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (author, actor_id)
);

-- Statuses of followed accounts (and ones found by search), sanitised when stored.
-- The AUTOINCREMENT id is the API id `s.<id>`. Kept `[limits.timeline] home_days`
-- and at most `home_statuses` rows (pruned hourly, oldest first).
CREATE TABLE remote_statuses (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    ap_id            TEXT NOT NULL UNIQUE,
    actor_id         TEXT NOT NULL,
    url              TEXT,
    content_html     TEXT NOT NULL,
    summary          TEXT,
    visibility       TEXT NOT NULL CHECK (visibility IN ('public', 'unlisted', 'private')),
    in_reply_to      TEXT,
    attachments_json TEXT NOT NULL DEFAULT '[]',
    tags_json        TEXT NOT NULL DEFAULT '[]',
    published_at     INTEGER NOT NULL,
    received_at      INTEGER NOT NULL,
    edited_at        INTEGER
);
CREATE INDEX remote_statuses_by_actor ON remote_statuses(actor_id, published_at, id);
CREATE INDEX remote_statuses_by_time ON remote_statuses(received_at);
