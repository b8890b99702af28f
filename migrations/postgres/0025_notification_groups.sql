-- Mastodon 4.3's grouped notifications: a notification's group, set when it is made.
-- favourite/reblog group by post, follow by itself, each within an hour bucket; a new
-- one joins the bucket of the latest row of the same prefix while that bucket is less
-- than 12 hours old (Mastodon keeps that bucket in Redis; it is the latest row here).
-- NULL for other types: the API shows those as `ungrouped-{id}`.
-- COLLATE "C": the trigger finds a prefix's keys as a range ('.' follows '-'), which
-- holds in byte order (SQLite's) but not in a language collation, which ignores
-- punctuation; the index then serves that range too.
ALTER TABLE notifications ADD COLUMN group_key TEXT COLLATE "C";
CREATE INDEX notifications_by_group ON notifications(author, group_key, id)
    WHERE group_key IS NOT NULL;

-- One trigger on notifications itself, so every path that writes a notification (the
-- triggers of 0020 and 0021) gets its key. `prefix-` .. `prefix.` is the range of that
-- prefix's keys ('.' follows '-'); buckets are hours since the epoch.
-- The bucket is read as SQLite's CAST(... AS INTEGER) reads it: leading digits, else 0.
CREATE FUNCTION notifications_group() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    prefix TEXT := CASE NEW.kind WHEN 'follow' THEN 'follow'
                   ELSE NEW.kind || '-' || COALESCE(NEW.post_id::text, '') END;
    bucket BIGINT;
    hour   BIGINT := NEW.created_at / 3600000;
BEGIN
    SELECT COALESCE(substring(substr(n.group_key, length(prefix) + 2) FROM '^[0-9]+'), '0')::bigint
      INTO bucket
      FROM notifications n
     WHERE n.author = NEW.author AND n.id < NEW.id
       AND n.group_key > prefix || '-' AND n.group_key < prefix || '.'
     ORDER BY n.id DESC LIMIT 1;
    UPDATE notifications SET group_key = prefix || '-' || CASE
             WHEN bucket IS NOT NULL AND hour < bucket + 12 THEN bucket ELSE hour END
     WHERE id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER notifications_group AFTER INSERT ON notifications
    FOR EACH ROW WHEN (NEW.kind IN ('favourite', 'reblog', 'follow'))
    EXECUTE FUNCTION notifications_group();

-- The backfill: the groupable rows are written again, oldest first and with their
-- ids, so the trigger above keys each one after the ones before it.
CREATE TEMP TABLE notifications_regroup AS
    SELECT id, author, kind, actor_id, post_id, reply_id, quote_id, created_at
      FROM notifications WHERE kind IN ('favourite', 'reblog', 'follow');
DELETE FROM notifications WHERE id IN (SELECT id FROM pg_temp.notifications_regroup);
INSERT INTO notifications (id, author, kind, actor_id, post_id, reply_id, quote_id, created_at)
    SELECT id, author, kind, actor_id, post_id, reply_id, quote_id, created_at
      FROM pg_temp.notifications_regroup ORDER BY id;
DROP TABLE pg_temp.notifications_regroup;
