-- 0004_alert_identity: an alert is a rule plus a label set. `labels` is the
-- canonical JSON object of the set (keys in order:
-- {"endpoint":"default","queue":"payments"}), the same text the agent
-- fingerprints; `endpoint` names the Redis endpoint by its stable config
-- name ("default" for the plain [redis] section), not by host:port/db, so a
-- failover or a move of Redis changes no identity. Stores from before had
-- exactly one endpoint per agent, which is "default" now; the agent renames
-- the old host:port/db in the other tables at its first start.
CREATE TABLE alert_state_v4 (
    rule       TEXT    NOT NULL,
    labels     TEXT    NOT NULL,  -- canonical JSON of the label set
    endpoint   TEXT    NOT NULL,
    queue      TEXT    NOT NULL,
    state      TEXT    NOT NULL,  -- inactive | pending | firing
    since      INTEGER NOT NULL,  -- ms
    last_true  INTEGER,
    last_sent  INTEGER,           -- last firing notification (repeat_interval)
    value      REAL,
    threshold  REAL,
    PRIMARY KEY (rule, labels)
);
INSERT INTO alert_state_v4 (rule, labels, endpoint, queue, state, since, last_true, last_sent,
                            value, threshold)
SELECT rule, json_object('endpoint', 'default', 'queue', queue), 'default', queue, state, since,
       last_true, last_sent, value, threshold
FROM alert_state;
DROP TABLE alert_state;
ALTER TABLE alert_state_v4 RENAME TO alert_state;

ALTER TABLE alert_transitions ADD COLUMN labels TEXT;
ALTER TABLE alert_transitions ADD COLUMN endpoint TEXT;
UPDATE alert_transitions SET labels = json_object('endpoint', 'default', 'queue', queue),
                             endpoint = 'default';
CREATE INDEX alert_transitions_alert ON alert_transitions (rule, labels, id);

ALTER TABLE outbox ADD COLUMN labels TEXT;
ALTER TABLE outbox ADD COLUMN endpoint TEXT;
UPDATE outbox SET labels = json_object('endpoint', 'default', 'queue', queue), endpoint = 'default';
