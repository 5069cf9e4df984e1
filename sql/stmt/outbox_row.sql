-- one row, to send it now (`bullwatch sink test`)
SELECT id, sink, body, attempts, next_at, msg_id, target, kind, state, last_status, last_error,
       rule, queue
FROM outbox WHERE id = :id;
