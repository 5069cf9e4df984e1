-- HA leader: the oldest pending row of each sink of an endpoint (its delivery
-- watermark is the oldest of the configured sinks', agent/lease.h: clear)
SELECT sink, min(created_at) FROM outbox
WHERE state = 'pending' AND endpoint = :endpoint
GROUP BY sink;
