-- TUI audit view: the last 500 operator actions (a reverse walk of the
-- table's rowid, stopped by the LIMIT).
SELECT id, queue, verb, os_user, state, done, skipped, reason FROM actions
ORDER BY id DESC LIMIT 500;
