INSERT OR REPLACE INTO deliveries (outbox_id, attempt, at, http_status, error, ms)
VALUES (:id, (SELECT attempts FROM outbox WHERE id = :id), :now, :status, :error, :ms);
