-- Safety and abuse controls (issue 12): blocks, who may message a member, per-app rate limits,
-- failed-login lockout, per-app word lists and reports. Same tables, columns and meaning on
-- SQLite and PostgreSQL.

-- Who may start a new direct conversation with a member: 'everyone', 'contacts' (only members
-- who share a group conversation with them) or 'nobody'. The app's default applies to
-- members whose own setting is NULL.
ALTER TABLE apps ADD COLUMN dm_policy TEXT NOT NULL DEFAULT 'everyone'
    CHECK (dm_policy IN ('everyone', 'contacts', 'nobody'));
ALTER TABLE members ADD COLUMN dm_policy TEXT
    CHECK (dm_policy IN ('everyone', 'contacts', 'nobody'));

-- The app's own rate limits, a JSON object overriding the configuration's defaults key by key
-- (NULL: the defaults).
ALTER TABLE apps ADD COLUMN limits TEXT;

-- Failed password logins in a row, and until when the account refuses logins (Unix ms): the
-- lockout lives in the database so every node sees it.
ALTER TABLE members ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN login_locked_until BIGINT;

-- A member's blocks: blocked_id may not message blocker_id directly nor add them to a group.
CREATE TABLE blocks (
    blocker_id BIGINT NOT NULL REFERENCES members (id),
    blocked_id BIGINT NOT NULL REFERENCES members (id),
    app_id     BIGINT NOT NULL REFERENCES apps (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
-- Erasing a member deletes the blocks against them too.
CREATE INDEX blocks_blocked ON blocks (blocked_id);

-- Direct conversations a member opened, by time: the daily cap on new conversations counts
-- these (owner_id of a direct conversation is the member who sent its first message).
CREATE INDEX conversations_opened ON conversations (owner_id, created_at) WHERE kind = 'direct';

-- The app's sensitive words, stored folded as they are matched (NFKC, lower case, letters and
-- digits only: 'ＢＡＤ' and 'b.a.d' are one word, 'bad'); action 'reject' refuses a text
-- containing the word, 'mask' replaces it with '*'. word_list_version grows with every
-- change, so each node rebuilds its matcher when an app row it reads carries a newer one.
CREATE TABLE filter_words (
    app_id     BIGINT NOT NULL REFERENCES apps (id),
    word       TEXT   NOT NULL,
    action     TEXT   NOT NULL CHECK (action IN ('reject', 'mask')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (app_id, word)
);
ALTER TABLE apps ADD COLUMN word_list_version BIGINT NOT NULL DEFAULT 0;

-- Reports by members of a message or a member, for the app's backend to review.
CREATE TABLE reports (
    id          INTEGER PRIMARY KEY,
    app_id      BIGINT NOT NULL REFERENCES apps (id),
    reporter_id BIGINT NOT NULL REFERENCES members (id),
    member_id   BIGINT NOT NULL REFERENCES members (id),
    message_id  BIGINT REFERENCES messages (id),
    -- The reported message's type and data (JSON) as they were when it was reported, so a
    -- later recall or erase does not change what the app's backend reviews.
    message_kind TEXT,
    message_data TEXT,
    category    TEXT   NOT NULL DEFAULT 'other'
        CHECK (category IN ('spam', 'harassment', 'inappropriate', 'other')),
    reason      TEXT   NOT NULL,
    status      TEXT   NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    resolution  TEXT,
    created_at  BIGINT NOT NULL,
    resolved_at BIGINT
);
CREATE INDEX reports_by_status ON reports (app_id, status, id);
-- A reporter's recent reports (the daily cap) and their open report on a target.
CREATE INDEX reports_by_reporter ON reports (reporter_id, created_at);
