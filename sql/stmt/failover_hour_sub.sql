-- One failure row less in its hour's summary (before failover_forget
-- deletes it, in the same transaction). :id
UPDATE failure_hours SET failures = failures - 1
WHERE (queue, hour, signature, endpoint) =
      (SELECT queue, finished_at / 3600000, COALESCE(signature, ''), endpoint
       FROM failure_rows WHERE id = :id);
