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
    state         TEXT    NOT NULL DEFAULT 'running', -- running|done|partial|stopped|interrupted|failed
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    done          INTEGER NOT NULL DEFAULT 0,
    skipped       INTEGER NOT NULL DEFAULT 0,
    left_alone    INTEGER                      -- dead jobs that arrived after the snapshot
);
CREATE INDEX actions_queue ON actions (queue, started_at);

CREATE TABLE action_jobs (
    action_id     INTEGER NOT NULL REFERENCES actions (id),
    job_id        TEXT    NOT NULL,
    outcome       TEXT    NOT NULL,  -- replayed | purged | skipped
    detail        TEXT,              -- why skipped, or where a wrapper's original went
    at            INTEGER NOT NULL,
    -- lineage of a replay: the job that runs again (the same job, or the
    -- original re-added from a dead-letter queue) and how it ended, filled
    -- in by the agent when it reads that job's completed or failed event
    target_queue  TEXT,
    target_job_id TEXT,
    result        TEXT,              -- completed | failed
    result_at     INTEGER,
    result_reason TEXT,
    PRIMARY KEY (action_id, job_id)
);
CREATE INDEX action_jobs_job ON action_jobs (job_id);
CREATE INDEX action_jobs_pending ON action_jobs (at) WHERE outcome = 'replayed' AND result IS NULL;
