-- The client API's content filters (Mastodon's v2 filters): per author, each with
-- the contexts it applies in, what it does (warn | hide), an optional expiry, and
-- its rules: keywords (whole_word as Mastodon reads it) and single statuses (by
-- their API id). Bounded by `[limits.client_api]` filters_per_author and
-- filter_rules; deleting a filter deletes its rules.
CREATE TABLE filters (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    author      TEXT NOT NULL REFERENCES authors(handle),
    title       TEXT NOT NULL,
    contexts    TEXT NOT NULL,   -- JSON array: home | notifications | public | thread | account
    action      TEXT NOT NULL,   -- warn | hide
    expires_at  INTEGER,         -- ms; NULL: never
    created_at  INTEGER NOT NULL
);
CREATE INDEX filters_by_author ON filters(author, id);

CREATE TABLE filter_keywords (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    filter_id   INTEGER NOT NULL REFERENCES filters(id) ON DELETE CASCADE,
    keyword     TEXT NOT NULL,
    whole_word  INTEGER NOT NULL
);
CREATE INDEX filter_keywords_by_filter ON filter_keywords(filter_id);

CREATE TABLE filter_statuses (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    filter_id   INTEGER NOT NULL REFERENCES filters(id) ON DELETE CASCADE,
    status_id   TEXT NOT NULL,
    UNIQUE (filter_id, status_id)
);
