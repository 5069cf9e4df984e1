-- 0010_compact_rows: about 300 bytes a failure row at 10M rows (0008: ~455).
--
-- * `failure_log` holds the rows in compact form; the view `failures` gives
--   whole rows with every column of before (INSTEAD OF triggers let plain
--   SQL insert, update and delete through it), so `SELECT ... FROM
--   failures` keeps working. What is compact:
--   - endpoint and queue: small ids (`endpoints`, `queue_names`);
--   - job_id: an INTEGER when it is a canonical decimal (most BullMQ ids),
--     else the text (the column has no affinity; bw_job_id below);
--   - times: finished_at as is, the others as the (small) difference to it;
--     stream_id as its sequence number when it is `event_time-N`;
--   - the signature by its id in `signatures`; name and failed_reason
--     inline (TEXT) or, once a value repeats, by id in `texts` (INTEGER);
--   - data_size NULL when it is the stored data's length; the 0/1 columns
--     in one `flags` (1 data_truncated, 2 not JSON, 4 hash_missing,
--     8 reconciled, 16 finished_on NULL).
-- * texts get small ids; the agent finds a value by its 64-bit hash
--   (texts.hash; the old ids were that hash, so they carry over).
-- * one death = (queue_id, job_id, finished_at, endpoint_id): the agent's insert skips a
--   death already there (failure_log_job finds it), as plain SQL through
--   the view does.
-- Existing rows are moved over in this transaction (minutes at 10M rows).
--
-- bw_job_id(x), written out where it is needed:
--   CASE WHEN CAST(CAST(x AS INTEGER) AS TEXT) = x THEN CAST(x AS INTEGER) ELSE x END

CREATE TABLE queue_names (
    id    INTEGER PRIMARY KEY,
    queue TEXT NOT NULL UNIQUE
);
INSERT INTO queue_names (queue) SELECT DISTINCT queue FROM failure_rows ORDER BY queue;
CREATE TABLE endpoints (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
INSERT INTO endpoints (name) SELECT DISTINCT endpoint FROM failure_rows ORDER BY endpoint;

CREATE TABLE texts_new (
    id      INTEGER PRIMARY KEY,
    hash    INTEGER NOT NULL,     -- the agent's 64-bit hash of body (failrec.c); 0 from plain SQL
    body    TEXT NOT NULL,
    last_at INTEGER NOT NULL DEFAULT 0  -- as in 0008: the newest row that may refer to it
);
INSERT INTO texts_new (hash, body, last_at) SELECT id, body, last_at FROM texts ORDER BY id;
CREATE INDEX texts_hash ON texts_new (hash);

CREATE TABLE signatures_new (
    id             INTEGER PRIMARY KEY,
    signature      TEXT NOT NULL UNIQUE,
    signature_text TEXT
);
INSERT INTO signatures_new (signature, signature_text)
SELECT signature, signature_text FROM signatures ORDER BY signature;

CREATE TABLE failure_log (
    id               INTEGER PRIMARY KEY,
    queue_id         INTEGER NOT NULL,  -- queue_names.id
    endpoint_id      INTEGER NOT NULL,  -- endpoints.id
    job_id           BLOB    NOT NULL,  -- INTEGER (canonical decimal) or TEXT
    finished_at      INTEGER NOT NULL,  -- COALESCE(finished_on, event_time)
    event_gap        INTEGER NOT NULL DEFAULT 0,  -- finished_at - event_time
    stream_seq       BLOB,              -- NULL; N of 'event_time-N'; or the stream id (TEXT)
    name             BLOB,              -- TEXT, or texts.id
    attempts_made    INTEGER,
    attempts_allowed INTEGER,
    reason           BLOB,              -- failed_reason: TEXT, or texts.id
    sig_id           INTEGER,           -- signatures.id
    data             TEXT,
    data_size        INTEGER,           -- NULL: the byte length of data
    flags            INTEGER NOT NULL DEFAULT 0,
    opts_id          INTEGER,           -- texts.id
    stack_id         INTEGER,           -- texts.id
    created_gap      INTEGER,           -- finished_at - timestamp
    processed_gap    INTEGER,           -- finished_at - processed_on
    processed_by     TEXT,
    recorded_gap     INTEGER NOT NULL DEFAULT 0   -- recorded_at - finished_at
);
INSERT INTO failure_log (id, queue_id, endpoint_id, job_id, finished_at, event_gap, stream_seq, name,
                         attempts_made, attempts_allowed, reason, sig_id, data, data_size, flags,
                         opts_id, stack_id, created_gap, processed_gap, processed_by, recorded_gap)
SELECT f.id,
       (SELECT q.id FROM queue_names q WHERE q.queue = f.queue),
       (SELECT e.id FROM endpoints e WHERE e.name = f.endpoint),
       CASE WHEN CAST(CAST(f.job_id AS INTEGER) AS TEXT) = f.job_id
            THEN CAST(f.job_id AS INTEGER) ELSE f.job_id END,
       f.finished_at, f.finished_at - f.event_time,
       CASE WHEN f.stream_id IS NULL THEN NULL
            WHEN f.stream_id = f.event_time || '-' ||
                               CAST(substr(f.stream_id, length(f.event_time) + 2) AS INTEGER)
            THEN CAST(substr(f.stream_id, length(f.event_time) + 2) AS INTEGER)
            ELSE f.stream_id END,
       f.name, f.attempts_made, f.attempts_allowed, f.failed_reason,
       (SELECT s.id FROM signatures_new s WHERE s.signature = f.signature),
       f.data, NULLIF(f.data_size, length(CAST(f.data AS BLOB))),
       (f.data_truncated != 0) | ((f.data_json = 0) << 1) | ((f.hash_missing != 0) << 2) |
       ((f.reconciled != 0) << 3) | ((f.finished_on IS NULL) << 4),
       (SELECT t.id FROM texts_new t WHERE t.hash = f.opts_id),
       (SELECT t.id FROM texts_new t WHERE t.hash = f.stack_id),
       f.finished_at - f.timestamp, f.finished_at - f.processed_on, f.processed_by,
       f.recorded_at - f.finished_at
FROM failure_rows f ORDER BY f.id;

DROP VIEW failures;
DROP TABLE failure_rows;
DROP TABLE texts;
DROP TABLE signatures;
ALTER TABLE texts_new RENAME TO texts;
ALTER TABLE signatures_new RENAME TO signatures;
CREATE INDEX texts_last_at ON texts (last_at);

CREATE INDEX failure_log_job ON failure_log (queue_id, job_id);
CREATE INDEX failure_log_at ON failure_log (finished_at);
CREATE INDEX failure_log_queue_at ON failure_log (queue_id, finished_at);

CREATE VIEW failures AS
SELECT r.id, e.name AS endpoint, q.queue, CAST(r.job_id AS TEXT) AS job_id,
       CASE WHEN typeof(r.stream_seq) = 'integer'
            THEN (r.finished_at - r.event_gap) || '-' || r.stream_seq
            ELSE r.stream_seq END AS stream_id,
       r.finished_at - r.event_gap AS event_time,
       CASE WHEN typeof(r.name) = 'integer' THEN (SELECT body FROM texts WHERE id = r.name)
            ELSE r.name END AS name,
       r.attempts_made, r.attempts_allowed,
       CASE WHEN typeof(r.reason) = 'integer' THEN (SELECT body FROM texts WHERE id = r.reason)
            ELSE r.reason END AS failed_reason,
       s.signature, s.signature_text, r.data,
       COALESCE(r.data_size, length(CAST(r.data AS BLOB))) AS data_size,
       r.flags & 1 AS data_truncated, 1 - ((r.flags >> 1) & 1) AS data_json,
       o.body AS opts, t.body AS stacktrace,
       r.finished_at - r.created_gap AS timestamp, r.finished_at - r.processed_gap AS processed_on,
       CASE WHEN r.flags & 16 THEN NULL ELSE r.finished_at END AS finished_on, r.processed_by,
       (r.flags >> 2) & 1 AS hash_missing, (r.flags >> 3) & 1 AS reconciled,
       r.finished_at + r.recorded_gap AS recorded_at, r.finished_at
FROM failure_log r
JOIN queue_names q ON q.id = r.queue_id
JOIN endpoints e ON e.id = r.endpoint_id
LEFT JOIN signatures s ON s.id = r.sig_id
LEFT JOIN texts o ON o.id = r.opts_id
LEFT JOIN texts t ON t.id = r.stack_id;

-- plain SQL through the view (scripts, tests): each row's texts stored as
-- new ones (hash 0: the agent deduplicates its own), a death already there
-- skipped
CREATE TRIGGER failures_insert INSTEAD OF INSERT ON failures
BEGIN
    INSERT OR IGNORE INTO queue_names (queue) VALUES (NEW.queue);
    INSERT OR IGNORE INTO endpoints (name) VALUES (NEW.endpoint);
    INSERT OR IGNORE INTO signatures (signature, signature_text)
    SELECT NEW.signature, NEW.signature_text WHERE NEW.signature IS NOT NULL;
    INSERT INTO texts (hash, body, last_at)
    SELECT 0, NEW.stacktrace, COALESCE(NEW.finished_on, NEW.event_time)
    WHERE NEW.stacktrace IS NOT NULL;
    INSERT INTO texts (hash, body, last_at)
    SELECT 0, NEW.opts, COALESCE(NEW.finished_on, NEW.event_time) WHERE NEW.opts IS NOT NULL;
    INSERT INTO failure_log (id, queue_id, endpoint_id, job_id, finished_at, event_gap, stream_seq, name,
                             attempts_made, attempts_allowed, reason, sig_id, data, data_size,
                             flags, opts_id, stack_id, created_gap, processed_gap, processed_by,
                             recorded_gap)
    SELECT NEW.id, q.id, e.id, j.job_id, f.at, f.at - NEW.event_time,
           CASE WHEN NEW.stream_id IS NULL THEN NULL
                WHEN NEW.stream_id = NEW.event_time || '-' ||
                         CAST(substr(NEW.stream_id, length(NEW.event_time) + 2) AS INTEGER)
                THEN CAST(substr(NEW.stream_id, length(NEW.event_time) + 2) AS INTEGER)
                ELSE NEW.stream_id END,
           NEW.name, NEW.attempts_made, NEW.attempts_allowed, NEW.failed_reason,
           (SELECT s.id FROM signatures s WHERE s.signature = NEW.signature),
           NEW.data, NULLIF(NEW.data_size, length(CAST(NEW.data AS BLOB))),
           (COALESCE(NEW.data_truncated, 0) != 0) | ((COALESCE(NEW.data_json, 1) = 0) << 1) |
           ((COALESCE(NEW.hash_missing, 0) != 0) << 2) | ((COALESCE(NEW.reconciled, 0) != 0) << 3) |
           ((NEW.finished_on IS NULL) << 4),
           CASE WHEN NEW.opts IS NOT NULL THEN last_insert_rowid() END,
           CASE WHEN NEW.stacktrace IS NULL THEN NULL
                WHEN NEW.opts IS NULL THEN last_insert_rowid() ELSE last_insert_rowid() - 1 END,
           f.at - NEW.timestamp, f.at - NEW.processed_on, NEW.processed_by,
           COALESCE(NEW.recorded_at, f.at) - f.at
    FROM queue_names q, endpoints e,
         (SELECT COALESCE(NEW.finished_on, NEW.event_time) AS at) f,
         (SELECT CASE WHEN CAST(CAST(NEW.job_id AS INTEGER) AS TEXT) = NEW.job_id
                      THEN CAST(NEW.job_id AS INTEGER) ELSE NEW.job_id END AS job_id) j
    WHERE q.queue = NEW.queue AND e.name = NEW.endpoint
      AND NOT EXISTS (SELECT 1 FROM failure_log d
                      WHERE d.queue_id = q.id AND d.job_id = j.job_id AND +d.finished_at = f.at
                        AND d.endpoint_id = e.id);
    INSERT INTO failure_hours (endpoint, queue, signature, hour, failures, first_seen, last_seen,
                               sample_reason)
    SELECT NEW.endpoint, NEW.queue, COALESCE(NEW.signature, ''),
           COALESCE(NEW.finished_on, NEW.event_time) / 3600000, 1,
           COALESCE(NEW.finished_on, NEW.event_time), COALESCE(NEW.finished_on, NEW.event_time),
           NEW.failed_reason
    WHERE changes() > 0
    ON CONFLICT (queue, hour, signature, endpoint) DO UPDATE SET
        failures = failures + 1, first_seen = MIN(first_seen, excluded.first_seen),
        last_seen = MAX(last_seen, excluded.last_seen),
        sample_reason = MAX(COALESCE(sample_reason, excluded.sample_reason),
                            COALESCE(excluded.sample_reason, sample_reason));
END;
CREATE TRIGGER failures_update INSTEAD OF UPDATE ON failures
BEGIN
    INSERT OR IGNORE INTO queue_names (queue) VALUES (NEW.queue);
    INSERT OR IGNORE INTO endpoints (name) VALUES (NEW.endpoint);
    UPDATE failure_log SET
        queue_id = (SELECT id FROM queue_names WHERE queue = NEW.queue),
        endpoint_id = (SELECT id FROM endpoints WHERE name = NEW.endpoint),
        job_id = CASE WHEN CAST(CAST(NEW.job_id AS INTEGER) AS TEXT) = NEW.job_id
                      THEN CAST(NEW.job_id AS INTEGER) ELSE NEW.job_id END,
        reason = NEW.failed_reason, name = NEW.name, data = NEW.data,
        data_size = NULLIF(NEW.data_size, length(CAST(NEW.data AS BLOB)))
    WHERE id = OLD.id;
END;
CREATE TRIGGER failures_delete INSTEAD OF DELETE ON failures
BEGIN
    DELETE FROM failure_log WHERE id = OLD.id;
END;

-- per queue and minute: `minute_log`, clustered by its key (ids for queue
-- and endpoint, no rowid, no index by minute: the reads by minute go queue
-- by queue through the key); a month of 50 busy queues is 2.2M rows, 15
-- bytes a failure row at 10M rows in 0009, 6 now. The view minute_counts
-- gives the columns of before (plain SQL inserts and deletes through it).
INSERT OR IGNORE INTO queue_names (queue) SELECT DISTINCT queue FROM minute_counts;
INSERT OR IGNORE INTO endpoints (name) SELECT DISTINCT endpoint FROM minute_counts;
CREATE TABLE minute_log (
    queue_id    INTEGER NOT NULL,  -- queue_names.id
    endpoint_id INTEGER NOT NULL,  -- endpoints.id
    minute      INTEGER NOT NULL,  -- epoch ms / 60000
    added       INTEGER NOT NULL DEFAULT 0,
    completed   INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    retries     INTEGER NOT NULL DEFAULT 0,
    stalled     INTEGER NOT NULL DEFAULT 0,
    unknown     INTEGER NOT NULL DEFAULT 0,
    malformed   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (queue_id, endpoint_id, minute)
) WITHOUT ROWID;
INSERT INTO minute_log
SELECT q.id, e.id, m.minute, m.added, m.completed, m.failed, m.retries, m.stalled, m.unknown,
       m.malformed
FROM minute_counts m JOIN queue_names q ON q.queue = m.queue JOIN endpoints e ON e.name = m.endpoint
ORDER BY 1, 2, 3;
DROP TABLE minute_counts;
CREATE VIEW minute_counts AS
SELECT e.name AS endpoint, q.queue, m.minute, m.added, m.completed, m.failed, m.retries,
       m.stalled, m.unknown, m.malformed
FROM minute_log m JOIN queue_names q ON q.id = m.queue_id JOIN endpoints e ON e.id = m.endpoint_id;
CREATE TRIGGER minute_counts_insert INSTEAD OF INSERT ON minute_counts
BEGIN
    INSERT OR IGNORE INTO queue_names (queue) VALUES (NEW.queue);
    INSERT OR IGNORE INTO endpoints (name) VALUES (NEW.endpoint);
    INSERT INTO minute_log (queue_id, endpoint_id, minute, added, completed, failed, retries,
                            stalled, unknown, malformed)
    VALUES ((SELECT id FROM queue_names WHERE queue = NEW.queue),
            (SELECT id FROM endpoints WHERE name = NEW.endpoint), NEW.minute,
            COALESCE(NEW.added, 0), COALESCE(NEW.completed, 0), COALESCE(NEW.failed, 0),
            COALESCE(NEW.retries, 0), COALESCE(NEW.stalled, 0), COALESCE(NEW.unknown, 0),
            COALESCE(NEW.malformed, 0))
    ON CONFLICT (queue_id, endpoint_id, minute) DO UPDATE SET
        added = added + excluded.added, completed = completed + excluded.completed,
        failed = failed + excluded.failed, retries = retries + excluded.retries,
        stalled = stalled + excluded.stalled, unknown = unknown + excluded.unknown,
        malformed = malformed + excluded.malformed;
END;
CREATE TRIGGER minute_counts_delete INSTEAD OF DELETE ON minute_counts
BEGIN
    DELETE FROM minute_log
    WHERE queue_id = (SELECT id FROM queue_names WHERE queue = OLD.queue)
      AND endpoint_id = (SELECT id FROM endpoints WHERE name = OLD.endpoint)
      AND minute = OLD.minute;
END;
