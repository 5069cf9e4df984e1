-- TUI queue list: each queue's counts of the last full minute.
SELECT queue, completed, failed FROM minute_counts WHERE endpoint = ?1 AND minute = ?2;
