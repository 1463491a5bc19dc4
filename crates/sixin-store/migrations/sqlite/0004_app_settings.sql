-- App settings of the server API (issue 11): secret rotation with a grace period, and what an
-- app-signed member token does on its first use. Same columns and meaning on both backends.

-- After a rotation the previous secret is still accepted (YesApi sign, PhalApi access tokens,
-- server API tokens, app-signed member tokens) until previous_secret_until (Unix ms).
ALTER TABLE apps ADD COLUMN previous_secret TEXT;
ALTER TABLE apps ADD COLUMN previous_secret_until BIGINT;

-- An app-signed member token whose `sub` names no member yet: 'existing' refuses it,
-- 'provision' creates the member from its claims.
ALTER TABLE apps ADD COLUMN member_tokens TEXT NOT NULL DEFAULT 'existing'
    CHECK (member_tokens IN ('existing', 'provision'));
