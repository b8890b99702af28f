-- Mastodon 4.3's grouped notifications: a notification's group, set when it is made.
-- favourite/reblog group by post, follow by itself, each within an hour bucket; a new
-- one joins the bucket of the latest row of the same prefix while that bucket is less
-- than 12 hours old (Mastodon keeps that bucket in Redis; it is the latest row here).
-- NULL for other types: the API shows those as `ungrouped-{id}`.
ALTER TABLE notifications ADD COLUMN group_key TEXT;
CREATE INDEX notifications_by_group ON notifications(author, group_key, id)
    WHERE group_key IS NOT NULL;

-- One trigger on notifications itself, so every path that writes a notification (the
-- triggers of 0020 and 0021) gets its key. `prefix-` .. `prefix.` is the range of that
-- prefix's keys ('.' follows '-'); buckets are hours since the epoch.
CREATE TRIGGER notifications_group AFTER INSERT ON notifications
WHEN NEW.kind IN ('favourite', 'reblog', 'follow') BEGIN
    UPDATE notifications SET group_key = (
        SELECT p.prefix || '-' || CASE
                 WHEN prev.bucket IS NOT NULL AND NEW.created_at / 3600000 < prev.bucket + 12
                 THEN prev.bucket ELSE NEW.created_at / 3600000 END
          FROM (SELECT CASE NEW.kind WHEN 'follow' THEN 'follow'
                       ELSE NEW.kind || '-' || COALESCE(NEW.post_id, '') END AS prefix) p
          LEFT JOIN (SELECT CAST(substr(n.group_key, length(p2.prefix) + 2) AS INTEGER) AS bucket
                       FROM notifications n,
                            (SELECT CASE NEW.kind WHEN 'follow' THEN 'follow'
                                    ELSE NEW.kind || '-' || COALESCE(NEW.post_id, '') END AS prefix) p2
                      WHERE n.author = NEW.author AND n.id < NEW.id
                        AND n.group_key > p2.prefix || '-' AND n.group_key < p2.prefix || '.'
                      ORDER BY n.id DESC LIMIT 1) prev)
     WHERE id = NEW.id;
END;

-- The backfill: the groupable rows are written again, oldest first and with their
-- ids, so the trigger above keys each one after the ones before it.
CREATE TEMP TABLE notifications_regroup AS
    SELECT id, author, kind, actor_id, post_id, reply_id, quote_id, created_at
      FROM notifications WHERE kind IN ('favourite', 'reblog', 'follow');
DELETE FROM notifications WHERE id IN (SELECT id FROM temp.notifications_regroup);
INSERT INTO notifications (id, author, kind, actor_id, post_id, reply_id, quote_id, created_at)
    SELECT id, author, kind, actor_id, post_id, reply_id, quote_id, created_at
      FROM temp.notifications_regroup ORDER BY id;
DROP TABLE temp.notifications_regroup;
