-- Webhooks (issue 13): each app's endpoints, the outbox every change an endpoint may want is
-- written to (in the change's own transaction), and each event's delivery to each endpoint.
-- Same tables, columns and meaning on SQLite and PostgreSQL.

-- An app's endpoint. events: '*' or a JSON array of event types. A paused endpoint
-- (enabled = FALSE) gets no deliveries queued. lease_owner/lease_until: the node delivering
-- this endpoint's queue, and until when (Unix ms) unless it renews; free when NULL or past.
CREATE TABLE webhook_endpoints (
    id          INTEGER PRIMARY KEY,
    app_id      BIGINT  NOT NULL REFERENCES apps (id),
    url         TEXT    NOT NULL,
    secret      TEXT    NOT NULL,
    events      TEXT    NOT NULL DEFAULT '*',
    enabled     BOOLEAN NOT NULL DEFAULT TRUE,
    description TEXT,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT
);
CREATE INDEX webhook_endpoints_by_app ON webhook_endpoints (app_id, id);

-- One row per change, payload the exact request body. AUTOINCREMENT: an id is never handed
-- out twice, even after the newest rows are pruned, since it is the event's webhook-id.
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id     BIGINT NOT NULL REFERENCES apps (id),
    kind       TEXT   NOT NULL,
    payload    TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX outbox_by_app ON outbox (app_id, id);

-- One event's delivery to one endpoint. Each endpoint's pending rows are delivered one at a
-- time in outbox order; next_attempt_at is when the first of them is tried next.
CREATE TABLE webhook_deliveries (
    -- No foreign key: a change committing while its endpoint is deleted must not fail; such
    -- a leftover row names no endpoint and is never delivered.
    endpoint_id     BIGINT  NOT NULL,
    outbox_id       BIGINT  NOT NULL REFERENCES outbox (id),
    status          TEXT    NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'delivered', 'failed', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    queued_at       BIGINT  NOT NULL,
    next_attempt_at BIGINT  NOT NULL,
    last_attempt_at BIGINT,
    last_status     INTEGER,
    last_error      TEXT,
    PRIMARY KEY (endpoint_id, outbox_id)
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint_id, outbox_id)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_status ON webhook_deliveries (endpoint_id, status, outbox_id);
