-- The app's before-send hook (issue 13 item 5): NULL for none, else a JSON object
-- {"url", "secret", "timeout_ms", "on_failure"} the core wrote and reads back. Same on both
-- backends.
ALTER TABLE apps ADD COLUMN before_send TEXT;
