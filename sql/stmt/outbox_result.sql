-- An attempt's result. A row superseded meanwhile stays superseded; a push
-- to retry (:coalesce, alertmanager api) gives way to a newer pending one of
-- the same alert and target: the newer carries the current endsAt.
UPDATE outbox SET
       state = CASE
           WHEN state = 'superseded' THEN 'superseded'
           WHEN :state = 'pending' AND :coalesce = 1 AND EXISTS (
               SELECT 1 FROM outbox n WHERE n.state = 'pending' AND n.sink = outbox.sink
                 AND n.target = outbox.target AND n.fingerprint = outbox.fingerprint
                 AND n.id > outbox.id) THEN 'superseded'
           ELSE :state END,
       attempts = attempts + 1, next_at = :next_at,
       last_status = :status, last_error = :error,
       delivered_at = CASE WHEN :state = 'delivered' THEN :now ELSE delivered_at END
WHERE id = :id;
