INSERT INTO outbox (sink, target, fingerprint, rule, labels, endpoint, queue, kind, body, msg_id,
                    state, created_at, next_at)
VALUES (:sink, :target, :fingerprint, :rule, :labels, :endpoint, :queue, :kind, :body, :msg_id,
        :state, :now, :now);
