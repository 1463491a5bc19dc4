-- Each member's total unread count (issue 15 item 3), kept beside their stream position so that
-- reading it (GET /v1/unread, GetAllUnreadNum, the total every event carries) is one row, not a
-- sum over their conversations. It is always the sum of the member's
-- conversation_members.unread_count: every write that changes one changes the other in the same
-- transaction (ops::events::append applies the change with the event). Same on both backends.
ALTER TABLE member_streams ADD COLUMN unread_total BIGINT NOT NULL DEFAULT 0;
UPDATE member_streams SET unread_total = (SELECT COALESCE(SUM(cm.unread_count), 0)
    FROM conversation_members cm WHERE cm.member_id = member_streams.member_id);

-- The per-conversation unread entries are paged by conversation id: one index range from the
-- cursor. unread_count stays out of the key, so a send that adds to an already unread
-- conversation leaves this index alone.
DROP INDEX conversation_members_unread;
CREATE INDEX conversation_members_unread
    ON conversation_members (member_id, conversation_id) WHERE unread_count > 0;
