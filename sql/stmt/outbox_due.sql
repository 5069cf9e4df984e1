-- the oldest pending notification of each (sink, target, alert), when due: a
-- resolved never overtakes its firing
SELECT o.id, o.sink, o.body, o.attempts, o.next_at, o.msg_id, o.target, o.kind, o.endpoint,
       o.rule, o.queue
FROM outbox o
WHERE o.state = 'pending'
  AND NOT EXISTS (SELECT 1 FROM outbox p
                  WHERE p.state = 'pending' AND p.sink = o.sink AND p.target = o.target
                    AND p.fingerprint = o.fingerprint AND p.id < o.id)
ORDER BY o.next_at, o.id
LIMIT 64;
