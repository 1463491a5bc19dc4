-- Appends :count text messages to direct conversation :conversation of a sixin SQLite database,
-- straight into the store's tables (issue 15: history at 10,000,000 messages, which the HTTP
-- API would take hours to send). Used by `sixin-bench --scenario history --seed-sqlite DB`;
-- by hand:
--   sqlite3 sixin.db -cmd '.parameter set :conversation 5' -cmd '.parameter set :count 9999' \
--     < seed-history.sqlite.sql
-- The bookkeeping reads need: the messages alternate between the two members, one
-- millisecond apart after the conversation's last activity; the conversation's last message,
-- count and activity move on; both members have read everything (last_read_id at the end), so
-- the unread counts (0 before: the bench marks the conversation read first) stay right and no
-- events are owed. Works on the schema before and after issue 15 (it touches no new column).
-- One transaction; about a minute per 10,000,000 messages on a quiet disk.
PRAGMA busy_timeout = 60000;
BEGIN IMMEDIATE;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count),
c AS (SELECT id, app_id, last_activity_at AS t,
        (SELECT MIN(member_id) FROM conversation_members WHERE conversation_id = :conversation) AS a,
        (SELECT MAX(member_id) FROM conversation_members WHERE conversation_id = :conversation) AS b
      FROM conversations WHERE id = :conversation AND kind = 'direct')
INSERT INTO messages (app_id, conversation_id, sender_id, kind, data, created_at)
SELECT c.app_id, c.id, CASE WHEN n.i % 2 = 0 THEN c.a ELSE c.b END, 'text',
       '{"content":"seeded message ' || n.i || '"}', c.t + n.i
FROM c, n;
UPDATE conversations SET
    last_message_id = (SELECT MAX(id) FROM messages WHERE conversation_id = :conversation),
    message_count = message_count + :count,
    last_activity_at = last_activity_at + :count
WHERE id = :conversation AND kind = 'direct';
UPDATE conversation_members SET
    last_read_id = (SELECT last_message_id FROM conversations WHERE id = :conversation),
    last_activity_at = (SELECT last_activity_at FROM conversations WHERE id = :conversation)
WHERE conversation_id = :conversation;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SELECT 'seeded', id, message_count, last_message_id FROM conversations WHERE id = :conversation;
