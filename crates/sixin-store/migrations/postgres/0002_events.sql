-- Per-member event streams (PostgreSQL twin of sqlite/0002_events.sql). Every write that a member should hear of appends one row for that
-- member, in the write's own transaction, at the member's next position (1, 2, 3, … no gaps).

CREATE TABLE member_streams (
    member_id     BIGINT PRIMARY KEY REFERENCES members (id),
    last_position BIGINT NOT NULL DEFAULT 0
);
INSERT INTO member_streams (member_id) SELECT id FROM members;

CREATE TABLE events (
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
);
