-- Emoji reactions (Misskey's `Like` with `_misskey_reaction`, Akkoma's and Pleroma's
-- `EmojiReact`) are likes with an emoji: one per actor and post, as likes are, so the
-- table stays bounded by the likes it already holds. The text is a parsed
-- `domain::Emoji` (a Unicode emoji or a `:shortcode:`); the check is a last guard
-- (length counts characters here as in SQLite).
ALTER TABLE reactions ADD COLUMN emoji TEXT CHECK (emoji IS NULL OR length(emoji) <= 72);

-- The page counts each emoji of a post's likes.
CREATE INDEX reactions_emoji ON reactions(post_id, emoji) WHERE emoji IS NOT NULL;
