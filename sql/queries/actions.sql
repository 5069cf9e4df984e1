-- actions: operator actions (replay, purge), newest first.
-- params: queue (optional), limit (optional, default 100)
-- columns: id, queue, verb, os_user, reason, selection, frozen_count, state, done, skipped,
--          left_alone, started_at, finished_at
SELECT id, queue, verb, os_user, reason, selection, frozen_count, state, done, skipped,
       left_alone, started_at, finished_at
FROM actions
WHERE (:queue IS NULL OR queue = :queue)
ORDER BY id DESC
LIMIT COALESCE(:limit, 100);
