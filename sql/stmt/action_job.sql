INSERT OR REPLACE INTO action_jobs (action_id, job_id, outcome, detail, at, target_queue,
                                    target_job_id)
VALUES (:action_id, :job_id, :outcome, :detail, :now, :target_queue, :target_job_id);
