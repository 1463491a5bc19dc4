-- Appends :count text messages to direct conversation :conversation of a sixin PostgreSQL
-- database, straight into the store's tables: the twin of seed-history.sqlite.sql (see there
-- for what it keeps right). Used by `sixin-bench --scenario history --seed-postgres URL`; by
-- hand:
--   psql URL -v conversation=5 -v count=9999 -f seed-history.postgres.sql
\set ON_ERROR_STOP on
BEGIN;
SELECT id FROM conversations WHERE id = :conversation FOR UPDATE;
INSERT INTO messages (app_id, conversation_id, sender_id, kind, data, created_at)
SELECT c.app_id, c.id, CASE WHEN n.i % 2 = 0 THEN c.a ELSE c.b END, 'text',
       '{"content":"seeded message ' || n.i || '"}', c.t + n.i
FROM (SELECT id, app_id, last_activity_at AS t,
        (SELECT MIN(member_id) FROM conversation_members WHERE conversation_id = :conversation) AS a,
        (SELECT MAX(member_id) FROM conversation_members WHERE conversation_id = :conversation) AS b
      FROM conversations WHERE id = :conversation AND kind = 'direct') c,
     generate_series(1, :count) AS n(i)
ORDER BY n.i;
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
ANALYZE messages;
SELECT 'seeded', id, message_count, last_message_id FROM conversations WHERE id = :conversation;
