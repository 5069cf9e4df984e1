UPDATE outbox SET state = :state, attempts = attempts + 1, next_at = :next_at,
       last_status = :status, last_error = :error,
       delivered_at = CASE WHEN :state = 'delivered' THEN :now ELSE delivered_at END
WHERE id = :id;
