-- alert_history: every alert transition (pending, firing, resolved,
-- inactive), with value, threshold and the silence that held it back;
-- newest first.
-- params: rule (optional), queue (optional), limit (optional, default 200)
-- columns: id, rule, queue, from_state, to_state, value, threshold, severity, summary, at,
--          silenced_by, fingerprint
SELECT id, rule, queue, from_state, to_state, value, threshold, severity, summary, at,
       silenced_by, fingerprint
FROM alert_transitions
WHERE (:rule IS NULL OR rule = :rule) AND (:queue IS NULL OR queue = :queue)
ORDER BY id DESC
LIMIT COALESCE(:limit, 200);
