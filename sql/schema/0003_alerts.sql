-- 0003_alerts: alert state and history, silences, and the delivery outbox.
-- The state of each rule on each queue survives a restart; every
-- transition is kept with its value and threshold (silenced ones too); each
-- notification is an outbox row per sink, written before it is sent, with
-- one deliveries row per attempt.
CREATE TABLE alert_state (
    rule       TEXT    NOT NULL,
    queue      TEXT    NOT NULL,
    state      TEXT    NOT NULL,  -- inactive | pending | firing
    since      INTEGER NOT NULL,  -- ms
    last_true  INTEGER,
    last_sent  INTEGER,           -- last firing notification (repeat_interval)
    value      REAL,
    threshold  REAL,
    PRIMARY KEY (rule, queue)
);

CREATE TABLE alert_transitions (
    id          INTEGER PRIMARY KEY,
    rule        TEXT    NOT NULL,
    queue       TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,  -- rule + labels (endpoint, queue)
    from_state  TEXT    NOT NULL,
    to_state    TEXT    NOT NULL,  -- pending | firing | resolved | inactive
    value       REAL,
    threshold   REAL,
    severity    TEXT,
    summary     TEXT,
    at          INTEGER NOT NULL,
    silenced_by INTEGER            -- silences.id that held its notification back
);
CREATE INDEX alert_transitions_at ON alert_transitions (at);

CREATE TABLE silences (
    id          INTEGER PRIMARY KEY,
    matchers    TEXT    NOT NULL,  -- rule=GLOB,queue=GLOB,severity=GLOB
    author      TEXT    NOT NULL,
    comment     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);

CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    sink         TEXT    NOT NULL,
    fingerprint  TEXT    NOT NULL,
    rule         TEXT    NOT NULL,
    queue        TEXT    NOT NULL,
    kind         TEXT    NOT NULL,   -- firing | resolved
    body         TEXT    NOT NULL,   -- exactly what is posted
    created_at   INTEGER NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'pending',  -- pending | delivered | gave_up
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      INTEGER NOT NULL,
    last_status  INTEGER,            -- HTTP status of the last attempt (0: no answer)
    last_error   TEXT,
    delivered_at INTEGER
);
CREATE INDEX outbox_pending ON outbox (sink, fingerprint, id) WHERE state = 'pending';

CREATE TABLE deliveries (
    outbox_id   INTEGER NOT NULL REFERENCES outbox (id),
    attempt     INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    http_status INTEGER,             -- 0: no answer (connect error, timeout)
    error       TEXT,
    ms          INTEGER,             -- how long the attempt took
    PRIMARY KEY (outbox_id, attempt)
);
