-- The app's before-send hook (issue 13 item 5): NULL for none, else a JSON object
-- {"url", "secret", "timeout_ms", "on_failure"} the core wrote and reads back. Same on both
-- backends.
ALTER TABLE apps ADD COLUMN before_send TEXT;

-- Pruning (issue 13 item 6) deletes outbox entries left without deliveries: found by outbox id.
CREATE INDEX webhook_deliveries_by_outbox ON webhook_deliveries (outbox_id);
