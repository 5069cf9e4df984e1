-- 0008_store_year: the audit store after a year (10M failure rows).
--
-- * failure rows live in `failure_rows`; stack traces and opts are stored once
--   per distinct value in `texts` (content-addressed: the agent keys each by
--   a 64-bit hash of the text (failrec.c), probing the next id on a collision;
--   no index on the text itself, so a unique text costs its bytes once) and
--   referenced by id. The view
--   `failures` gives whole rows with every column of before (plus
--   `finished_at`), so `sqlite3 bullwatch.db "SELECT ... FROM failures"` and
--   the canned queries keep working; INSTEAD OF triggers let plain SQL
--   insert, update and delete through it.
-- * `finished_at` = COALESCE(finished_on, event_time) is stored and indexed:
--   the canned queries filter and sort on it, retention trims by it.
-- * the death key leads with (queue, job_id), which job_history, the TUI's
--   timeline and failure_known filter on.
-- * `failure_hours`: per queue, signature and hour, the count, first and
--   last finish and the largest reason, written in the same transaction as
--   the rows (failrec); top_signatures and the TUI's signature view read it.
-- * `store_state`: one row of retention progress, shown by `status`.
-- Existing rows are moved over in this transaction (minutes at 10M rows).
CREATE TABLE texts (
    id      INTEGER PRIMARY KEY,  -- 64-bit hash of body (top bit clear), or the next free on a collision
    body    TEXT NOT NULL,
    -- the newest finished_at of the rows that refer to it, at most an hour
    -- behind (failrec moves it on once it is an hour old): retention
    -- deletes a text once every row that may refer to it is gone
    last_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX texts_last_at ON texts (last_at);
-- the old rows' texts: deduplicated here (UNION), through a temporary index
-- for the lookups, under ids in insertion order; the agent's texts go under
-- their hash (an old id in the way is probed past), so a value seen before
-- and after the upgrade is stored at most twice
CREATE INDEX texts_migrate ON texts (body);

CREATE TABLE failure_rows (
    id               INTEGER PRIMARY KEY,
    endpoint         TEXT    NOT NULL,
    queue            TEXT    NOT NULL,
    job_id           TEXT    NOT NULL,
    stream_id        TEXT,
    event_time       INTEGER NOT NULL,
    finished_at      INTEGER NOT NULL,  -- COALESCE(finished_on, event_time)
    name             TEXT,
    attempts_made    INTEGER,
    attempts_allowed INTEGER,
    failed_reason    TEXT,
    signature        TEXT,
    data             TEXT,
    data_size        INTEGER,
    data_truncated   INTEGER NOT NULL DEFAULT 0,
    data_json        INTEGER NOT NULL DEFAULT 1,
    opts_id          INTEGER,           -- texts.id
    stack_id         INTEGER,           -- texts.id
    timestamp        INTEGER,
    processed_on     INTEGER,
    finished_on      INTEGER,
    processed_by     TEXT,
    hash_missing     INTEGER NOT NULL DEFAULT 0,
    reconciled       INTEGER NOT NULL DEFAULT 0,
    recorded_at      INTEGER NOT NULL
);

-- signature -> normalised text, once per signature
CREATE TABLE signatures (
    signature      TEXT PRIMARY KEY,
    signature_text TEXT
) WITHOUT ROWID;

INSERT INTO texts (body)
SELECT stacktrace FROM failures WHERE stacktrace IS NOT NULL
UNION SELECT opts FROM failures WHERE opts IS NOT NULL;
INSERT OR IGNORE INTO signatures (signature, signature_text)
SELECT signature, signature_text FROM failures WHERE signature IS NOT NULL;
INSERT INTO failure_rows (id, endpoint, queue, job_id, stream_id, event_time, finished_at, name,
                          attempts_made, attempts_allowed, failed_reason, signature, data,
                          data_size, data_truncated, data_json, opts_id, stack_id, timestamp,
                          processed_on, finished_on, processed_by, hash_missing, reconciled,
                          recorded_at)
SELECT f.id, f.endpoint, f.queue, f.job_id, f.stream_id, f.event_time,
       COALESCE(f.finished_on, f.event_time), f.name, f.attempts_made, f.attempts_allowed,
       f.failed_reason, f.signature, f.data, f.data_size, f.data_truncated, f.data_json,
       (SELECT id FROM texts WHERE body = f.opts), (SELECT id FROM texts WHERE body = f.stacktrace),
       f.timestamp, f.processed_on, f.finished_on, f.processed_by, f.hash_missing, f.reconciled,
       f.recorded_at
FROM failures f ORDER BY f.id;
DROP TABLE failures;
DROP INDEX texts_migrate;
UPDATE texts SET last_at = m.t
FROM (SELECT id, MAX(t) AS t
      FROM (SELECT stack_id AS id, finished_at AS t FROM failure_rows WHERE stack_id IS NOT NULL
            UNION ALL
            SELECT opts_id, finished_at FROM failure_rows WHERE opts_id IS NOT NULL)
      GROUP BY id) AS m
WHERE texts.id = m.id;

CREATE UNIQUE INDEX failure_rows_death ON failure_rows (queue, job_id, endpoint, finished_on);
CREATE INDEX failure_rows_at ON failure_rows (finished_at);
CREATE INDEX failure_rows_queue_at ON failure_rows (queue, finished_at);

CREATE VIEW failures AS
SELECT r.id, r.endpoint, r.queue, r.job_id, r.stream_id, r.event_time, r.name, r.attempts_made,
       r.attempts_allowed, r.failed_reason, r.signature, s.signature_text, r.data, r.data_size,
       r.data_truncated, r.data_json, o.body AS opts, t.body AS stacktrace, r.timestamp,
       r.processed_on, r.finished_on, r.processed_by, r.hash_missing, r.reconciled, r.recorded_at,
       r.finished_at
FROM failure_rows r
LEFT JOIN signatures s ON s.signature = r.signature
LEFT JOIN texts o ON o.id = r.opts_id
LEFT JOIN texts t ON t.id = r.stack_id;

-- plain SQL through the view (scripts, tests, the rename of an endpoint)
CREATE TRIGGER failures_insert INSTEAD OF INSERT ON failures
BEGIN
    -- plain SQL stores each row's texts as new ones (no lookup by content:
    -- texts has no index on it); the agent deduplicates by hash
    INSERT OR IGNORE INTO signatures (signature, signature_text)
    SELECT NEW.signature, NEW.signature_text WHERE NEW.signature IS NOT NULL;
    INSERT INTO texts (body, last_at)
    SELECT NEW.stacktrace, COALESCE(NEW.finished_on, NEW.event_time) WHERE NEW.stacktrace IS NOT NULL;
    INSERT INTO failure_rows (id, endpoint, queue, job_id, stream_id, event_time, finished_at,
                              name, attempts_made, attempts_allowed, failed_reason, signature,
                              data, data_size, data_truncated, data_json, opts_id, stack_id,
                              timestamp, processed_on, finished_on, processed_by, hash_missing,
                              reconciled, recorded_at)
    VALUES (NEW.id, NEW.endpoint, NEW.queue, NEW.job_id, NEW.stream_id, NEW.event_time,
            COALESCE(NEW.finished_on, NEW.event_time), NEW.name, NEW.attempts_made,
            NEW.attempts_allowed, NEW.failed_reason, NEW.signature, NEW.data, NEW.data_size,
            COALESCE(NEW.data_truncated, 0), COALESCE(NEW.data_json, 1), NULL,
            CASE WHEN NEW.stacktrace IS NOT NULL THEN last_insert_rowid() END, NEW.timestamp,
            NEW.processed_on, NEW.finished_on, NEW.processed_by, COALESCE(NEW.hash_missing, 0),
            COALESCE(NEW.reconciled, 0), NEW.recorded_at);
    INSERT INTO texts (body, last_at)
    SELECT NEW.opts, COALESCE(NEW.finished_on, NEW.event_time) WHERE NEW.opts IS NOT NULL;
    UPDATE failure_rows SET opts_id = last_insert_rowid()
    WHERE NEW.opts IS NOT NULL AND opts_id IS NULL AND queue = NEW.queue AND job_id = NEW.job_id
      AND endpoint = NEW.endpoint AND finished_on IS NEW.finished_on;
    INSERT INTO failure_hours (endpoint, queue, signature, hour, failures, first_seen, last_seen,
                               sample_reason)
    VALUES (NEW.endpoint, NEW.queue, COALESCE(NEW.signature, ''),
            COALESCE(NEW.finished_on, NEW.event_time) / 3600000, 1,
            COALESCE(NEW.finished_on, NEW.event_time), COALESCE(NEW.finished_on, NEW.event_time),
            NEW.failed_reason)
    ON CONFLICT (queue, hour, signature, endpoint) DO UPDATE SET
        failures = failures + 1, first_seen = MIN(first_seen, excluded.first_seen),
        last_seen = MAX(last_seen, excluded.last_seen),
        sample_reason = MAX(COALESCE(sample_reason, excluded.sample_reason),
                            COALESCE(excluded.sample_reason, sample_reason));
END;
CREATE TRIGGER failures_update INSTEAD OF UPDATE ON failures
BEGIN
    UPDATE failure_rows SET endpoint = NEW.endpoint, queue = NEW.queue, job_id = NEW.job_id,
        failed_reason = NEW.failed_reason, name = NEW.name, data = NEW.data
    WHERE id = OLD.id;
    UPDATE failure_hours SET endpoint = NEW.endpoint
    WHERE NEW.endpoint != OLD.endpoint AND endpoint = OLD.endpoint AND queue = OLD.queue;
END;
CREATE TRIGGER failures_delete INSTEAD OF DELETE ON failures
BEGIN
    DELETE FROM failure_rows WHERE id = OLD.id;
END;

-- per queue, signature and hour (finished_at / 3600000); '' for no signature
CREATE TABLE failure_hours (
    endpoint      TEXT    NOT NULL,
    queue         TEXT    NOT NULL,
    signature     TEXT    NOT NULL,
    hour          INTEGER NOT NULL,
    failures      INTEGER NOT NULL,
    first_seen    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    sample_reason TEXT,              -- MAX(failed_reason) of the hour
    PRIMARY KEY (queue, hour, signature, endpoint)
) WITHOUT ROWID;
CREATE INDEX failure_hours_hour ON failure_hours (hour);
INSERT INTO failure_hours (endpoint, queue, signature, hour, failures, first_seen, last_seen,
                           sample_reason)
SELECT endpoint, queue, COALESCE(signature, ''), finished_at / 3600000, COUNT(*),
       MIN(finished_at), MAX(finished_at), MAX(failed_reason)
FROM failure_rows GROUP BY queue, finished_at / 3600000, COALESCE(signature, ''), endpoint;

-- the growing per-minute tables: by time (retention, the engine's history,
-- the TUI's last minute)
CREATE INDEX minute_counts_minute ON minute_counts (minute, endpoint);
CREATE INDEX depth_samples_minute ON depth_samples (minute, endpoint);
CREATE INDEX gaps_detected ON gaps (detected_at);
CREATE INDEX outbox_created ON outbox (created_at) WHERE state != 'pending';
CREATE INDEX silences_expires ON silences (expires_at);
CREATE INDEX actions_running ON actions (id) WHERE state = 'running';

-- retention's progress (one row): what is left to trim, since when
CREATE TABLE store_state (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    cutoff          INTEGER,          -- rows finished before this are due
    backlog_since   INTEGER,          -- a backlog of more than a slice started (ms), or NULL
    trimmed         INTEGER NOT NULL DEFAULT 0,  -- rows trimmed in the current/last run
    last_slice_at   INTEGER,
    last_slice_ms   REAL,             -- how long the last slice's statements took
    max_slice_ms    REAL,             -- the longest slice so far
    done_at         INTEGER           -- the last time nothing was due
);
INSERT INTO store_state (id) VALUES (1);
