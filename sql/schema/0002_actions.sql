-- 0002_actions: operator actions on dead jobs (replay, purge), audited.
-- The action row is written before Redis is touched (intent: who, when, why,
-- the selection and the frozen count), per-job outcomes while it runs, and
-- the result at the end. A row still 'running' whose process is gone is
-- marked 'interrupted' at the next start.
CREATE TABLE actions (
    id            INTEGER PRIMARY KEY,
    endpoint      TEXT    NOT NULL,
    queue         TEXT    NOT NULL,
    verb          TEXT    NOT NULL,            -- replay | purge
    os_user       TEXT    NOT NULL,
    pid           INTEGER NOT NULL,
    reason        TEXT,                        -- --reason
    selection     TEXT    NOT NULL,            -- JSON: ids, --all or the filters
    snapshot_at   INTEGER NOT NULL,            -- ms: dead jobs after this are left alone
    frozen_count  INTEGER NOT NULL,
    options       TEXT,                        -- JSON: keep_attempts, rate, ...
    state         TEXT    NOT NULL DEFAULT 'running', -- running|done|partial|interrupted|failed
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    done          INTEGER NOT NULL DEFAULT 0,
    skipped       INTEGER NOT NULL DEFAULT 0,
    left_alone    INTEGER                      -- dead jobs that arrived after the snapshot
);
CREATE INDEX actions_queue ON actions (queue, started_at);

CREATE TABLE action_jobs (
    action_id INTEGER NOT NULL REFERENCES actions (id),
    job_id    TEXT    NOT NULL,
    outcome   TEXT    NOT NULL,  -- replayed | purged | skipped
    detail    TEXT,              -- why skipped
    at        INTEGER NOT NULL,
    PRIMARY KEY (action_id, job_id)
);
CREATE INDEX action_jobs_job ON action_jobs (job_id);
