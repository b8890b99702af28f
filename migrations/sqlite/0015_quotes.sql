-- Quote consent (FEP-044f, as Mastodon 4.5 speaks it) and quotes of our posts.

-- Who may quote a post (anyone | followers | nobody), resolved at sync from the
-- post's front matter and the author's author.toml. NULL: a post not synced since
-- this existed, which is open to anyone (the default).
ALTER TABLE posts ADD COLUMN quote_policy TEXT;

-- Quotes of our posts: a QuoteRequest we approved (later perhaps revoked), or a
-- quote that came without a request (listed: Misskey, Akkoma). Refusals are answered,
-- not stored.
-- One row per quoting object and post, so a redelivered request changes nothing;
-- `[limits.inbox] quotes_per_post` bounds the rows of one post.
CREATE TABLE quotes (
    id              INTEGER PRIMARY KEY,
    post_id         INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    quote_ap_id     TEXT NOT NULL,          -- the quoting object (QuoteAuthorization's interactingObject)
    actor_id        TEXT NOT NULL,          -- who quoted
    actor_inbox     TEXT,                   -- where the answer and a revocation go
    request_id      TEXT,                   -- the QuoteRequest's id; NULL for a plain quote
    token           TEXT NOT NULL UNIQUE,   -- the QuoteAuthorization's URL ends with it
    url             TEXT,                   -- where the quote is shown on its own server
    content_html    TEXT NOT NULL,          -- sanitised before it is stored
    state           TEXT NOT NULL,          -- approved | revoked | listed
    created_at      INTEGER NOT NULL,
    revoked_at      INTEGER,
    UNIQUE (post_id, quote_ap_id)
);
CREATE INDEX quotes_by_post ON quotes(post_id, state, created_at);

-- Quotes show on the post's page, and the policy in its document.
CREATE TRIGGER quotes_inserted_change AFTER INSERT ON quotes BEGIN
    INSERT INTO cache_changes (scope)
        SELECT 'post:' || author || '/' || slug FROM posts WHERE id = NEW.post_id;
END;

CREATE TRIGGER quotes_updated_change AFTER UPDATE ON quotes BEGIN
    INSERT INTO cache_changes (scope)
        SELECT 'post:' || author || '/' || slug FROM posts WHERE id IN (OLD.post_id, NEW.post_id);
END;

CREATE TRIGGER quotes_deleted_change AFTER DELETE ON quotes BEGIN
    INSERT INTO cache_changes (scope)
        SELECT 'post:' || author || '/' || slug FROM posts WHERE id = OLD.post_id;
END;

CREATE TRIGGER posts_quote_policy_change AFTER UPDATE OF quote_policy ON posts BEGIN
    INSERT INTO cache_changes (scope) VALUES ('post:' || NEW.author || '/' || NEW.slug);
END;
