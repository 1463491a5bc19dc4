-- Presence (issue 13 item 3): which members have an open event stream on which node, so a
-- message.created webhook can name the recipients who had none on any node at its commit.
-- Each node writes its own rows when a member's first stream on it opens and deletes them
-- when the last one closes; a node renews alive_until (Unix ms) while it runs, so the rows of
-- a node that died stop counting when it runs out, and pruning deletes them later.
-- Same tables on both backends.
CREATE TABLE nodes (
    id          TEXT   PRIMARY KEY,
    alive_until BIGINT NOT NULL
);

CREATE TABLE stream_presence (
    member_id BIGINT NOT NULL,
    node_id   TEXT   NOT NULL,
    PRIMARY KEY (member_id, node_id)
);
CREATE INDEX stream_presence_by_node ON stream_presence (node_id);
