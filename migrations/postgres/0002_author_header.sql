-- An author's optional header image (the actor's `image`), beside author.toml like the avatar.
ALTER TABLE authors ADD COLUMN header_file TEXT;
ALTER TABLE authors ADD COLUMN header_media_type TEXT;
