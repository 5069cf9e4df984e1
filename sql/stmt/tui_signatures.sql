-- TUI signature view: one queue's signatures over the whole store, from the
-- hourly summary failure_hours (kept with the rows).
SELECT SUM(failures), NULLIF(signature, ''),
       strftime('%m-%d %H:%M:%S', MIN(first_seen) / 1000, 'unixepoch'),
       strftime('%m-%d %H:%M:%S', MAX(last_seen) / 1000, 'unixepoch'), MAX(sample_reason)
FROM failure_hours
WHERE queue = ?2 AND endpoint = ?1
GROUP BY signature
ORDER BY SUM(failures) DESC, MAX(last_seen) DESC LIMIT 200;
