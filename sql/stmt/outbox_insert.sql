INSERT INTO outbox (sink, fingerprint, rule, labels, endpoint, queue, kind, body, created_at,
                    next_at)
VALUES (:sink, :fingerprint, :rule, :labels, :endpoint, :queue, :kind, :body, :now, :now);
