-- TUI deliveries view: the last 500 notifications (a reverse walk of the
-- table's rowid, stopped by the LIMIT).
SELECT id, sink, queue, kind, state, attempts, last_status, last_error FROM outbox
ORDER BY id DESC LIMIT 500;
