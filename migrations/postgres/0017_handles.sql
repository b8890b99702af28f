-- The handle a remote actor's WebFinger confirms (`user@domain`; the domain may differ
-- from the actor's host: split domains), checked by the round trip, and when it was
-- last checked (NULL: never). Pages show it; it is refreshed off the page path.
ALTER TABLE remote_actors ADD COLUMN handle TEXT;
ALTER TABLE remote_actors ADD COLUMN handle_checked_at BIGINT;
CREATE INDEX remote_actors_by_handle ON remote_actors(handle);

-- Accounts looked up by WebFinger for mentions (`user@domain`, lower case): the actor
-- found, or NULL when none was, and when. Bounded by `[limits.fetch] account_lookups`.
CREATE TABLE account_lookups (
    acct       TEXT PRIMARY KEY NOT NULL,
    actor_id   TEXT,
    checked_at BIGINT NOT NULL
);
CREATE INDEX account_lookups_by_time ON account_lookups(checked_at);

-- The accounts a post mentions (`[{"actor":..,"name":"@user@domain","url":..}]`):
-- its `Mention` tags, and who besides the followers gets its Create/Update/Delete.
ALTER TABLE posts ADD COLUMN mentions_json TEXT NOT NULL DEFAULT '[]';
