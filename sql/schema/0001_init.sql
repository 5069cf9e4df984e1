-- 0001_init: the audit store.
-- Every timestamp is epoch milliseconds. `endpoint` names the Redis server
-- and db ("127.0.0.1:6379/0") so one store can watch several servers.

-- One row per terminal failure (a `failed` stream event, or a dead job found
-- in the failed set by reconciliation after a gap).
CREATE TABLE failures (
    id               INTEGER PRIMARY KEY,
    endpoint         TEXT    NOT NULL,
    queue            TEXT    NOT NULL,
    job_id           TEXT    NOT NULL,
    stream_id        TEXT,              -- NULL for reconciled rows
    event_time       INTEGER NOT NULL,  -- stream id time, or finishedOn when reconciled
    name             TEXT,
    attempts_made    INTEGER,
    attempts_allowed INTEGER,           -- opts.attempts, at least 1
    failed_reason    TEXT,
    signature        TEXT,              -- 12-hex id of signature_text
    signature_text   TEXT,              -- normalised reason
    data             TEXT,              -- redacted, capped (see data_truncated)
    data_size        INTEGER,           -- bytes of the original data
    data_truncated   INTEGER NOT NULL DEFAULT 0,
    data_json        INTEGER NOT NULL DEFAULT 1, -- 0: data was not valid JSON
    opts             TEXT,
    stacktrace       TEXT,              -- JSON array, capped
    timestamp        INTEGER,
    processed_on     INTEGER,
    finished_on      INTEGER,
    processed_by     TEXT,
    hash_missing     INTEGER NOT NULL DEFAULT 0, -- job hash already gone (removeOnFail)
    reconciled       INTEGER NOT NULL DEFAULT 0,
    recorded_at      INTEGER NOT NULL
);
-- One death = one job finishing once. This key makes ingest idempotent: a
-- stream entry read again after a crash, and the same death seen from the
-- stream and from reconciliation, are recorded once. finished_on is the job
-- hash's finishedOn (= its score in the failed set); when the hash was
-- already gone it is the failed event's stream time, so a re-read entry
-- still conflicts.
CREATE UNIQUE INDEX failures_death ON failures (endpoint, queue, job_id, finished_on);
CREATE INDEX failures_time ON failures (event_time);
CREATE INDEX failures_sig ON failures (queue, signature, event_time);

-- Where each queue's event stream has been read to. Written in the same
-- transaction as the rows the entries produced.
CREATE TABLE cursors (
    endpoint   TEXT    NOT NULL,
    queue      TEXT    NOT NULL,
    stream_id  TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (endpoint, queue)
);

-- Per queue per minute counts from the stream.
CREATE TABLE minute_counts (
    endpoint  TEXT    NOT NULL,
    queue     TEXT    NOT NULL,
    minute    INTEGER NOT NULL,  -- epoch ms / 60000
    added     INTEGER NOT NULL DEFAULT 0,
    completed INTEGER NOT NULL DEFAULT 0,
    failed    INTEGER NOT NULL DEFAULT 0,
    retries   INTEGER NOT NULL DEFAULT 0,
    stalled   INTEGER NOT NULL DEFAULT 0,
    unknown   INTEGER NOT NULL DEFAULT 0,  -- custom or unknown events
    malformed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (endpoint, queue, minute)
);

-- Stream entries lost to trimming before the agent read them ('trim'), and
-- the part of a queue's history older than its stream when the agent first
-- saw it ('initial'). Each is reconciled against the failed set once the
-- stream has been read past it (done = 1); `reconciled` counts the rows that
-- only reconciliation could add.
CREATE TABLE gaps (
    id            INTEGER PRIMARY KEY,
    endpoint      TEXT    NOT NULL,
    queue         TEXT    NOT NULL,
    kind          TEXT    NOT NULL DEFAULT 'trim',  -- 'trim' or 'initial'
    after_id      TEXT    NOT NULL,  -- last entry read before the gap ('0-0': initial)
    before_id     TEXT    NOT NULL,  -- first entry still in the stream ('' if empty)
    from_ms       INTEGER NOT NULL,
    to_ms         INTEGER NOT NULL,
    detected_at   INTEGER NOT NULL,
    done          INTEGER NOT NULL DEFAULT 0,
    reconciled    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (endpoint, queue, after_id)
);

-- Latest depth poll per queue (the agent keeps it current).
CREATE TABLE queue_depths (
    endpoint         TEXT    NOT NULL,
    queue            TEXT    NOT NULL,
    polled_at        INTEGER NOT NULL,
    waiting          INTEGER, active INTEGER, prioritized INTEGER, delayed INTEGER,
    completed        INTEGER, failed INTEGER, waiting_children INTEGER,
    paused           INTEGER, workers INTEGER, oldest_waiting_ms INTEGER,
    version          TEXT,
    PRIMARY KEY (endpoint, queue)
);

-- One sample per queue per minute, for trends.
CREATE TABLE depth_samples (
    endpoint  TEXT    NOT NULL,
    queue     TEXT    NOT NULL,
    minute    INTEGER NOT NULL,
    waiting   INTEGER, active INTEGER, prioritized INTEGER, delayed INTEGER,
    failed    INTEGER, workers INTEGER, oldest_waiting_ms INTEGER,
    PRIMARY KEY (endpoint, queue, minute)
);
