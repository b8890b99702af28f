-- Media attachments uploaded from apps (`POST /api/v2/media`), kept in the database
-- (not on a local disk) so that several servers sharing it can serve them. Bytes are
-- as we re-encoded them: no metadata survives. Bounded by the service: unattached
-- media per author, bytes per author, unattached ones pruned after some hours.
CREATE TABLE media (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,   -- the API's id
    author          TEXT NOT NULL REFERENCES authors(handle),
    token           TEXT NOT NULL,                       -- unguessable part of the URLs
    media_type      TEXT NOT NULL,                       -- of both: image/jpeg | image/png
    original        BLOB NOT NULL,
    preview         BLOB NOT NULL,
    width           INTEGER NOT NULL,
    height          INTEGER NOT NULL,
    preview_width   INTEGER NOT NULL,
    preview_height  INTEGER NOT NULL,
    blurhash        TEXT,
    description     TEXT NOT NULL DEFAULT '',
    focus_x         REAL NOT NULL DEFAULT 0,
    focus_y         REAL NOT NULL DEFAULT 0,
    bytes           INTEGER NOT NULL,                    -- original + preview
    created_at      INTEGER NOT NULL,
    post_id         INTEGER REFERENCES posts(id) ON DELETE CASCADE,  -- NULL: unattached
    position        INTEGER NOT NULL DEFAULT 0          -- its place among the post's media
);
CREATE INDEX media_unattached ON media(author, created_at) WHERE post_id IS NULL;
CREATE INDEX media_by_author ON media(author);
CREATE INDEX media_by_post ON media(post_id) WHERE post_id IS NOT NULL;
