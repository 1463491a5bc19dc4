-- Events stored in their primary key's b-tree (WITHOUT ROWID): every read and delete of events
-- goes by (member_id, position), so a rowid table kept each event twice, once as its row and
-- once in the primary key's index. About 25 bytes less per message of a direct conversation
-- (two events); reads and deletes are the same range scans of one b-tree.

CREATE TABLE events_compact (
    member_id       BIGINT NOT NULL REFERENCES members (id),
    position        BIGINT NOT NULL,
    app_id          BIGINT NOT NULL REFERENCES apps (id),
    kind            TEXT   NOT NULL
        CHECK (kind IN ('message', 'read', 'recalled', 'hidden', 'membership')),
    conversation_id BIGINT NOT NULL,
    -- The message of message, recalled and hidden events, and of single-message reads.
    message_id      BIGINT,
    -- Kind-specific fields (read: reader and last_read; membership: added and removed).
    data            TEXT   NOT NULL DEFAULT '{}',
    unread_total    BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (member_id, position)
) WITHOUT ROWID;

INSERT INTO events_compact (member_id, position, app_id, kind, conversation_id, message_id, data,
    unread_total, created_at)
SELECT member_id, position, app_id, kind, conversation_id, message_id, data, unread_total,
    created_at
FROM events;

DROP TABLE events;
ALTER TABLE events_compact RENAME TO events;
