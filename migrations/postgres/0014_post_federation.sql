-- What a post federates with besides its page: the body as receivers' sanitisers keep
-- it (plain code, tables as text, absolute links), and its language. NULL until the
-- next sync renders the post again (the renderer version changed with this).
ALTER TABLE posts ADD COLUMN federated_html TEXT;
ALTER TABLE posts ADD COLUMN lang TEXT;

-- Sync now also compares the type a post was federated as (it is kept when the default
-- changes): `kind` joins the covering index so the comparison still reads the index only.
DROP INDEX posts_sync;
CREATE INDEX posts_sync ON posts(author, source_path, file_hash, slug, source_hash, deleted_at, kind);
