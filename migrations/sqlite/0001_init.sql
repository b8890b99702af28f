-- fedblog schema. Times are Unix milliseconds (INTEGER) so the queue can compare them cheaply.

CREATE TABLE authors (
    handle          TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    bio_html        TEXT NOT NULL,
    fields_json     TEXT NOT NULL DEFAULT '[]',   -- [{"name":..,"value_html":..}]
    avatar_file     TEXT,                          -- file name inside content/<handle>/
    avatar_media_type TEXT,
    default_kind    TEXT,                          -- 'Article' | 'Note' | NULL (by title)
    public_key_pem  TEXT NOT NULL,
    private_key_pem TEXT NOT NULL,
    profile_hash    TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE posts (
    id            INTEGER PRIMARY KEY,
    author        TEXT NOT NULL REFERENCES authors(handle),
    source_path   TEXT NOT NULL,              -- relative to the author's folder
    slug          TEXT NOT NULL,              -- fixed at first publish
    kind          TEXT NOT NULL,              -- 'Article' | 'Note'
    title         TEXT,
    excerpt       TEXT,
    content_html  TEXT NOT NULL,
    tags_json     TEXT NOT NULL DEFAULT '[]',
    attachments_json TEXT NOT NULL DEFAULT '[]',   -- images: [{"url","media_type","alt","width","height"}]
    written_at    INTEGER NOT NULL,           -- the front matter's date
    published_at  INTEGER NOT NULL,           -- `published` as federated
    updated_at    INTEGER,                    -- set by an edit
    source_hash   TEXT NOT NULL,
    deleted_at    INTEGER,                    -- tombstone: the URL answers 410
    UNIQUE (author, slug),
    UNIQUE (author, source_path)
);
CREATE INDEX posts_by_author_date ON posts(author, deleted_at, published_at DESC, id DESC);

-- Remote actors we have fetched (followers, senders): their inboxes and keys.
CREATE TABLE remote_actors (
    id              TEXT PRIMARY KEY NOT NULL,
    username        TEXT,
    inbox           TEXT NOT NULL,
    shared_inbox    TEXT,
    keys_json       TEXT NOT NULL,                 -- [{"id":..,"pem":..}]: an actor may publish several
    fetched_at      INTEGER NOT NULL
);

CREATE TABLE followers (
    author         TEXT NOT NULL REFERENCES authors(handle),
    actor_id       TEXT NOT NULL,
    inbox          TEXT NOT NULL,
    shared_inbox   TEXT,
    delivery_inbox TEXT NOT NULL,    -- shared inbox if any, else the personal one
    delivery_host  TEXT NOT NULL,    -- host[:port] of delivery_inbox
    follow_id      TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (author, actor_id)
);
CREATE INDEX followers_by_author_time ON followers(author, created_at, actor_id);
CREATE INDEX followers_by_actor ON followers(actor_id);
CREATE INDEX followers_by_delivery_inbox ON followers(delivery_inbox);

-- Every activity we send, as signed and sent: retries reuse the stored id and body.
CREATE TABLE activities (
    id          INTEGER PRIMARY KEY,
    ap_id       TEXT NOT NULL UNIQUE,
    author      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

-- One row per (activity, target inbox). Written in the transaction that records the change.
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    activity_id     INTEGER NOT NULL REFERENCES activities(id),
    inbox           TEXT NOT NULL,
    host            TEXT NOT NULL,                    -- host[:port] of inbox
    state           TEXT NOT NULL DEFAULT 'pending',  -- pending | done | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_by      TEXT,                             -- the worker holding it
    claimed_until   INTEGER,                          -- its lease; a backstop if the worker dies
    last_status     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (activity_id, inbox)
);
CREATE INDEX deliveries_due ON deliveries(state, next_attempt_at);
CREATE INDEX deliveries_by_host ON deliveries(host, state);
CREATE INDEX deliveries_by_worker ON deliveries(claimed_by) WHERE claimed_by IS NOT NULL;

-- Per-host circuit breaker: after repeated failures a host's deliveries are held
-- (not dropped) until a probe succeeds.
CREATE TABLE hosts (
    host                 TEXT PRIMARY KEY NOT NULL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    circuit              TEXT NOT NULL DEFAULT 'closed',  -- closed | open
    opened_count         INTEGER NOT NULL DEFAULT 0,      -- consecutive opens, for the cool-down
    open_until           INTEGER,                         -- a probe may go after this
    last_error           TEXT,
    updated_at           INTEGER NOT NULL
);

-- Processes that deliver (the server, or a CLI publish with no server running).
-- Claims of a worker that is gone are released.
CREATE TABLE workers (
    id           TEXT PRIMARY KEY NOT NULL,
    machine      TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    kind         TEXT NOT NULL,     -- serve | cli
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
);

-- Small facts about this database: e.g. whether the first content sync has run.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
