-- What a sync compares the content folder against (identity and hashes of every post),
-- readable from this index alone: a posts row carries its rendered HTML, so reading
-- these columns from the table reads every page of it (10,000 posts: 27 MB, 0.3 s at
-- each start).
CREATE INDEX posts_sync ON posts(author, source_path, file_hash, slug, source_hash, deleted_at);
