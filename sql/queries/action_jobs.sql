-- action_jobs: per-job outcomes of one action.
-- params: action (required: the action id)
-- columns: job_id, outcome, detail, at
SELECT job_id, outcome, detail, at FROM action_jobs WHERE action_id = :action ORDER BY at, job_id;
