-- When a remote account was made, for its Account's created_at (apps show "Joined"):
-- the actor document's `published` when it has one, else when we first stored it.
ALTER TABLE remote_actors ADD COLUMN created_at BIGINT;
-- Actors stored before: the best we know is when they were last fetched.
UPDATE remote_actors SET created_at = fetched_at;
