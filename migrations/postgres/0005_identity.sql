-- Account migration: the accounts an author also is (`alsoKnownAs`, from author.toml)
-- and the account they moved to (`movedTo`, set by `fedblog move`).
ALTER TABLE authors ADD COLUMN also_known_as_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE authors ADD COLUMN moved_to TEXT;
