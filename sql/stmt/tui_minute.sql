-- TUI queue list: each queue's counts of the last full minute (?2) and of the
-- minute under way (?2 + 1): the TUI uses the full minute, or at start, when a
-- queue has only the minute under way, that minute's counts per minute so far.
SELECT queue_names.queue, m.minute, m.completed, m.failed
FROM queue_names CROSS JOIN minute_log m
     ON m.queue_id = queue_names.id AND m.endpoint_id = (SELECT id FROM endpoints WHERE name = ?1)
    AND m.minute >= ?2 AND m.minute <= ?2 + 1
ORDER BY m.minute;
