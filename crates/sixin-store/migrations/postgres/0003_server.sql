-- The server API (issue 11): members provisioned by the app's backend under the app's own id,
-- moderation with expiry, the app's registration policy, and single-use server tokens.
-- Same tables, columns and meaning on SQLite and PostgreSQL.

-- The app's own id for a member, unique per app (NULLs — self-registered members — repeat).
-- Provisioned members have no password: their password_hash is the empty string, which no
-- password verifies (the column stays NOT NULL, so both backends keep one schema).
ALTER TABLE members ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX members_external_id ON members (app_id, external_id);

-- A ban (the existing `banned` flag) is in force until banned_until (for good when NULL).
ALTER TABLE members ADD COLUMN banned_until BIGINT;
ALTER TABLE members ADD COLUMN ban_reason TEXT;
-- A mute: the member may read, not send; in force until muted_until (for good when NULL).
ALTER TABLE members ADD COLUMN muted BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE members ADD COLUMN muted_until BIGINT;

-- Who may create members: 'open' (anyone registers) or 'closed' (the backend and the CLI).
ALTER TABLE apps ADD COLUMN registration TEXT NOT NULL DEFAULT 'open'
    CHECK (registration IN ('open', 'closed'));

-- Each server token's jti, kept until the token expires, so a replay is refused on every node
-- sharing the database. Expired rows are pruned on insert.
CREATE TABLE server_token_uses (
    app_id     BIGINT NOT NULL REFERENCES apps (id),
    jti        TEXT   NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (app_id, jti)
);
CREATE INDEX server_token_uses_expiry ON server_token_uses (app_id, expires_at);
