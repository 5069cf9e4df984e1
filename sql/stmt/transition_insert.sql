INSERT INTO alert_transitions (rule, labels, endpoint, queue, fingerprint, from_state, to_state,
                               value, threshold, severity, summary, at, silenced_by)
VALUES (:rule, :labels, :endpoint, :queue, :fingerprint, :from_state, :to_state, :value,
        :threshold, :severity, :summary, :now, :silenced_by);
