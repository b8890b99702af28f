-- Conversations: the inbox queue, replies, likes and boosts, and moderation.

-- Every activity the inbox accepted. The 202 is sent after this row commits; a
-- processor applies its side effects off the request path, so a crash loses nothing.
-- `ap_id` is unique so a replayed activity is recognised (NULL when the sender gave none).
CREATE TABLE inbox_activities (
    id              INTEGER PRIMARY KEY,
    ap_id           TEXT UNIQUE,
    actor           TEXT NOT NULL,
    kind            TEXT NOT NULL,
    body            TEXT NOT NULL,
    received_at     INTEGER NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',  -- pending | done | rejected | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    result          TEXT,                             -- what processing did, or why not
    processed_at    INTEGER
);
CREATE INDEX inbox_activities_due ON inbox_activities(next_attempt_at) WHERE state = 'pending';
CREATE INDEX inbox_activities_by_time ON inbox_activities(received_at);

-- How a remote actor is shown beside their reply or reaction.
ALTER TABLE remote_actors ADD COLUMN name TEXT;
ALTER TABLE remote_actors ADD COLUMN icon_url TEXT;
ALTER TABLE remote_actors ADD COLUMN profile_url TEXT;

-- Replies from the fediverse, threaded under the post they (transitively) answer.
CREATE TABLE replies (
    id              INTEGER PRIMARY KEY,
    ap_id           TEXT NOT NULL UNIQUE,
    post_id         INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    in_reply_to     TEXT NOT NULL,          -- the parent: our post's URL or another reply's ap_id
    parent_id       INTEGER REFERENCES replies(id) ON DELETE SET NULL,
    depth           INTEGER NOT NULL,       -- 1 for a direct answer to the post
    actor_id        TEXT NOT NULL,
    content_html    TEXT NOT NULL,          -- sanitised before it is stored
    summary         TEXT,                   -- content warning, plain text
    url             TEXT,                   -- where the reply is shown on its own server
    published_at    INTEGER NOT NULL,
    updated_at      INTEGER,
    received_at     INTEGER NOT NULL,
    state           TEXT NOT NULL DEFAULT 'visible'  -- visible | held | hidden
);
CREATE INDEX replies_by_post ON replies(post_id, state, published_at, id);
CREATE INDEX replies_by_actor ON replies(actor_id);

-- Likes and boosts (Announce) of our posts: one per (kind, post, actor).
CREATE TABLE reactions (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,              -- like | announce
    ap_id       TEXT,                       -- the Like/Announce id, for an Undo by id
    post_id     INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    actor_id    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (kind, post_id, actor_id)
);
CREATE INDEX reactions_by_ap_id ON reactions(ap_id);
CREATE INDEX reactions_by_actor ON reactions(actor_id);

-- Blocks made with `fedblog block` (config.toml's [moderation] blocks are read at start).
-- `target` is a domain (`spam.example`) or an actor id (`https://host/users/x`).
CREATE TABLE blocks (
    target      TEXT PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL,              -- domain | actor
    created_at  INTEGER NOT NULL
);
