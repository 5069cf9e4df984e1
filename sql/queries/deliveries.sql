-- deliveries: every attempt to send a notification, oldest first, with
-- the state of its outbox row (pending, delivered, gave_up).
-- params: sink (optional), state (optional), limit (optional, default 500)
-- columns: outbox_id, sink, rule, queue, kind, attempt, at, http_status, error, ms,
--          outbox_state, next_at
SELECT d.outbox_id, o.sink, o.rule, o.queue, o.kind, d.attempt, d.at, d.http_status, d.error,
       d.ms, o.state AS outbox_state, o.next_at
FROM deliveries d JOIN outbox o ON o.id = d.outbox_id
WHERE (:sink IS NULL OR o.sink = :sink) AND (:state IS NULL OR o.state = :state)
ORDER BY d.outbox_id, d.attempt
LIMIT COALESCE(:limit, 500);
