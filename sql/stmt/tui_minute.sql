-- TUI queue list: each queue's counts of the last full minute (?2) and of the
-- minute under way (?2 + 1): the TUI uses the full minute, or at start, when a
-- queue has only the minute under way, that minute's counts per minute so far.
SELECT queue, minute, completed, failed FROM minute_counts
WHERE endpoint = ?1 AND queue IN (SELECT queue FROM queue_counters WHERE endpoint = ?1)
  AND minute >= ?2 AND minute <= ?2 + 1
ORDER BY minute;
