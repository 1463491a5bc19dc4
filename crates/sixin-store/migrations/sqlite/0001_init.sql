-- sixin schema, SQLite flavour. Same tables, columns and meaning as postgres/0001_init.sql.
-- Times are Unix milliseconds; JSON is stored as text exactly as the core validated it.

CREATE TABLE apps (
    id           INTEGER PRIMARY KEY,
    key          TEXT    NOT NULL UNIQUE,
    secret       TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    require_sign BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   BIGINT  NOT NULL
);

CREATE TABLE members (
    id            INTEGER PRIMARY KEY,
    app_id        BIGINT  NOT NULL REFERENCES apps (id),
    uuid          TEXT    NOT NULL UNIQUE,
    username      TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    ext_info      TEXT    NOT NULL DEFAULT '{}',
    banned        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT  NOT NULL,
    UNIQUE (app_id, username)
);

CREATE TABLE sessions (
    token_hash TEXT   PRIMARY KEY,
    app_id     BIGINT NOT NULL REFERENCES apps (id),
    member_id  BIGINT NOT NULL REFERENCES members (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_member ON sessions (member_id);

CREATE TABLE conversations (
    id               INTEGER PRIMARY KEY,
    app_id           BIGINT  NOT NULL REFERENCES apps (id),
    kind             TEXT    NOT NULL CHECK (kind IN ('direct', 'group')),
    subject          TEXT,
    owner_id         BIGINT  NOT NULL REFERENCES members (id),
    -- "<smaller member id>:<larger member id>" for direct conversations: one per pair.
    direct_key       TEXT,
    created_at       BIGINT  NOT NULL,
    last_activity_at BIGINT  NOT NULL,
    last_message_id  BIGINT  NOT NULL DEFAULT 0,
    message_count    BIGINT  NOT NULL DEFAULT 0,
    member_count     BIGINT  NOT NULL DEFAULT 0,
    UNIQUE (app_id, direct_key)
);

CREATE TABLE conversation_members (
    conversation_id  BIGINT  NOT NULL REFERENCES conversations (id),
    member_id        BIGINT  NOT NULL REFERENCES members (id),
    app_id           BIGINT  NOT NULL REFERENCES apps (id),
    role             TEXT    NOT NULL CHECK (role IN ('owner', 'member')),
    joined_at        BIGINT  NOT NULL,
    -- Messages with id > visible_from are visible to this member (0: the whole history).
    visible_from     BIGINT  NOT NULL DEFAULT 0,
    -- Everything up to here is read; later messages may be read one by one (message_reads).
    last_read_id     BIGINT  NOT NULL DEFAULT 0,
    unread_count     BIGINT  NOT NULL DEFAULT 0,
    read_updated_at  BIGINT  NOT NULL,
    -- The conversation's last activity, copied here so the list is one index range scan.
    last_activity_at BIGINT  NOT NULL,
    PRIMARY KEY (conversation_id, member_id)
);
CREATE INDEX conversation_members_list
    ON conversation_members (member_id, last_activity_at DESC, conversation_id DESC);
CREATE INDEX conversation_members_unread
    ON conversation_members (member_id) WHERE unread_count > 0;

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    app_id          BIGINT NOT NULL REFERENCES apps (id),
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    sender_id       BIGINT NOT NULL REFERENCES members (id),
    kind            TEXT   NOT NULL CHECK (kind IN ('text', 'html', 'image', 'link', 'custom')),
    data            TEXT   NOT NULL,
    ext_data        TEXT,
    client_msg_id   TEXT,
    created_at      BIGINT NOT NULL,
    recalled_at     BIGINT
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);
CREATE UNIQUE INDEX messages_client_key
    ON messages (sender_id, conversation_id, client_msg_id) WHERE client_msg_id IS NOT NULL;

CREATE TABLE message_reads (
    member_id       BIGINT NOT NULL REFERENCES members (id),
    message_id      BIGINT NOT NULL REFERENCES messages (id),
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    PRIMARY KEY (member_id, message_id)
);
CREATE INDEX message_reads_conversation ON message_reads (member_id, conversation_id);

CREATE TABLE message_hides (
    member_id       BIGINT NOT NULL REFERENCES members (id),
    message_id      BIGINT NOT NULL REFERENCES messages (id),
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    PRIMARY KEY (member_id, message_id)
);
