-- Issue 6: cached responses, incremental sync, indexes for the hot reads.

-- Every committed change that alters a rendered response appends the scopes it touches
-- here, whichever process wrote it (the server, `fedblog sync`, the inbox). Each server
-- reads the log (`cache::ResponseCache::catch_up`) and drops exactly the cached
-- responses that depend on those scopes. Scope strings (built in src/cache/scope.rs too):
--   post:<author>/<slug>   one post        posts:<author>   an author's list of posts
--   tag:<tag>              a tag's page    profile:<author> an author's profile
--   followers:<author>     follower count and collection
-- (a reply, like or boost touches the post it answers).
CREATE TABLE cache_changes (
    id    INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,
    at    INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER) * 1000)
);
CREATE INDEX cache_changes_by_time ON cache_changes(at);

CREATE TRIGGER posts_inserted_change AFTER INSERT ON posts BEGIN
    INSERT INTO cache_changes (scope) VALUES
        ('post:' || NEW.author || '/' || NEW.slug), ('posts:' || NEW.author);
    INSERT INTO cache_changes (scope) SELECT 'tag:' || value FROM json_each(NEW.tags_json);
END;

-- Not on `source_path` or `file_hash` alone: a renamed or re-saved file shows nothing new.
CREATE TRIGGER posts_updated_change
AFTER UPDATE OF slug, kind, title, excerpt, content_html, tags_json, attachments_json,
    written_at, published_at, updated_at, deleted_at ON posts BEGIN
    INSERT INTO cache_changes (scope) VALUES
        ('post:' || OLD.author || '/' || OLD.slug), ('post:' || NEW.author || '/' || NEW.slug),
        ('posts:' || NEW.author);
    INSERT INTO cache_changes (scope)
        SELECT 'tag:' || value FROM json_each(OLD.tags_json)
        UNION SELECT 'tag:' || value FROM json_each(NEW.tags_json);
END;

CREATE TRIGGER posts_deleted_change AFTER DELETE ON posts BEGIN
    INSERT INTO cache_changes (scope) VALUES
        ('post:' || OLD.author || '/' || OLD.slug), ('posts:' || OLD.author);
    INSERT INTO cache_changes (scope) SELECT 'tag:' || value FROM json_each(OLD.tags_json);
END;

CREATE TRIGGER authors_inserted_change AFTER INSERT ON authors BEGIN
    INSERT INTO cache_changes (scope) VALUES ('profile:' || NEW.handle);
END;

CREATE TRIGGER authors_updated_change AFTER UPDATE ON authors BEGIN
    INSERT INTO cache_changes (scope) VALUES ('profile:' || NEW.handle);
END;

CREATE TRIGGER followers_inserted_change AFTER INSERT ON followers BEGIN
    INSERT INTO cache_changes (scope) VALUES ('followers:' || NEW.author);
END;

CREATE TRIGGER followers_deleted_change AFTER DELETE ON followers BEGIN
    INSERT INTO cache_changes (scope) VALUES ('followers:' || OLD.author);
END;

-- Replies, likes and boosts show on the post's page.
CREATE TRIGGER reactions_inserted_change AFTER INSERT ON reactions BEGIN
    INSERT INTO cache_changes (scope)
        SELECT 'post:' || author || '/' || slug FROM posts WHERE id = NEW.post_id;
END;

CREATE TRIGGER reactions_deleted_change AFTER DELETE ON reactions BEGIN
    INSERT INTO cache_changes (scope)
        SELECT 'post:' || author || '/' || slug FROM posts WHERE id = OLD.post_id;
END;

CREATE TRIGGER replies_inserted_change AFTER INSERT ON replies BEGIN
    INSERT INTO cache_changes (scope)
        SELECT 'post:' || author || '/' || slug FROM posts WHERE id = NEW.post_id;
END;

CREATE TRIGGER replies_updated_change AFTER UPDATE ON replies BEGIN
    INSERT INTO cache_changes (scope)
        SELECT 'post:' || author || '/' || slug FROM posts WHERE id IN (OLD.post_id, NEW.post_id);
END;

CREATE TRIGGER replies_deleted_change AFTER DELETE ON replies BEGIN
    INSERT INTO cache_changes (scope)
        SELECT 'post:' || author || '/' || slug FROM posts WHERE id = OLD.post_id;
END;

-- Hash of a post's source file and of what its rendering depends on (the author's
-- default post type, the media URL, the other files in the folder): an unchanged file
-- is skipped without being parsed or rendered.
ALTER TABLE posts ADD COLUMN file_hash TEXT;

-- The home page, site feeds, sitemap and NodeInfo list live posts of all authors by date.
CREATE INDEX posts_live_by_date ON posts(published_at DESC, id DESC) WHERE deleted_at IS NULL;
