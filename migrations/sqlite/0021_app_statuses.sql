-- Notes and replies the author posts from a Mastodon app (the client API's statuses).
-- They live in `posts` beside the content folder's posts, so federation, the post page,
-- feeds, the object JSON and its replies and likes apply to them unchanged; `origin`
-- keeps them apart: sync compares the folder only with 'content' rows and never
-- touches an 'app' row (their slugs are `note-<id>`, a shape content may not take).
ALTER TABLE posts ADD COLUMN origin TEXT NOT NULL DEFAULT 'content';     -- content | app
ALTER TABLE posts ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public';  -- public | unlisted | private | direct
ALTER TABLE posts ADD COLUMN spoiler_text TEXT;       -- content warning: AP `summary`, plain text
ALTER TABLE posts ADD COLUMN sensitive INTEGER NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN in_reply_to TEXT;        -- the AP id answered
ALTER TABLE posts ADD COLUMN in_reply_to_status TEXT; -- the same as a status id (`12`, `reply.5`)
ALTER TABLE posts ADD COLUMN source_text TEXT;        -- what the author typed (`/source`, Delete's `text`)
ALTER TABLE posts ADD COLUMN idempotency_key TEXT;    -- the app's Idempotency-Key (kept an hour)

-- Sync reads only content rows, from this index alone (see 0008): partial, so app
-- notes are neither in it nor compared.
DROP INDEX posts_sync;
CREATE INDEX posts_sync ON posts(author, source_path, file_hash, slug, source_hash, deleted_at, kind)
    WHERE origin = 'content';
CREATE UNIQUE INDEX posts_idempotency ON posts(author, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- Earlier versions of an app note, for `/api/v1/statuses/:id/history`: one row per
-- version replaced by an edit (the current one is the post). Bounded per post by the
-- service (the oldest dropped), and gone with the post.
CREATE TABLE post_edits (
    id            INTEGER PRIMARY KEY,
    post_id       INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    content_html  TEXT NOT NULL,
    spoiler_text  TEXT,
    sensitive     INTEGER NOT NULL,
    attachments_json TEXT NOT NULL DEFAULT '[]',
    created_at    INTEGER NOT NULL      -- when this version was written
);
CREATE INDEX post_edits_by_post ON post_edits(post_id, id);

-- An author's reply shown in a post's thread: a `replies` row mirroring the note
-- (`note_id`), so the page, `replies` and `context` thread it like any reply. Only
-- public and unlisted notes are mirrored.
ALTER TABLE replies ADD COLUMN note_id INTEGER REFERENCES posts(id) ON DELETE CASCADE;
CREATE INDEX replies_by_note ON replies(note_id) WHERE note_id IS NOT NULL;

-- The author's own answer is no mention for the author; an answer to it is one.
DROP TRIGGER replies_notify;
CREATE TRIGGER replies_notify AFTER INSERT ON replies
WHEN NEW.state <> 'hidden' AND NEW.note_id IS NULL
 AND (NEW.depth = 1
      OR EXISTS (SELECT 1 FROM replies m WHERE m.id = NEW.parent_id AND m.note_id IS NOT NULL))
BEGIN
    INSERT INTO notifications (author, kind, actor_id, post_id, reply_id, created_at)
        SELECT author, 'mention', NEW.actor_id, NEW.post_id, NEW.id, NEW.received_at
          FROM posts WHERE id = NEW.post_id;
END;

-- What an author favourited or boosted from an app: a remote reply (`reply.5`, with
-- the Like/Announce we sent, for its Undo) or a post of ours (kept here only). One row
-- per (author, kind, status): bounded by the statuses there are.
CREATE TABLE author_reactions (
    author      TEXT NOT NULL REFERENCES authors(handle),
    kind        TEXT NOT NULL,          -- like | announce
    status      TEXT NOT NULL,          -- the status id
    object      TEXT NOT NULL,          -- its AP id
    activity    TEXT,                   -- the Like/Announce we sent, if we sent one
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (author, kind, status)
);
CREATE INDEX author_reactions_by_status ON author_reactions(status, kind);
