-- Failure rows of one queue read from its stream lately: after a master
-- switch, the ones whose entries the new master lacks were lost with the
-- old master (failover.c).
-- :endpoint, :queue, :since (epoch ms) -> id, stream_id
SELECT id, stream_id FROM failure_rows
WHERE queue = :queue AND finished_at >= :since AND endpoint = :endpoint AND stream_id IS NOT NULL
ORDER BY id;
