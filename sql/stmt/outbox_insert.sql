INSERT INTO outbox (sink, fingerprint, rule, queue, kind, body, created_at, next_at)
VALUES (:sink, :fingerprint, :rule, :queue, :kind, :body, :now, :now);
