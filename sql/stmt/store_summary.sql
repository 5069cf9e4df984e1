-- For `bullwatch store`: failure rows (from the hourly summary: exact but
-- for the hour retention is cutting into, and fast at 10M rows, where
-- COUNT(*) reads a whole index), the oldest and newest finish (indexed),
-- and the file's pages.
SELECT (SELECT COALESCE(SUM(failures), 0) FROM failure_hours) AS rows,
       (SELECT MIN(finished_at) FROM failure_log) AS oldest,
       (SELECT MAX(finished_at) FROM failure_log) AS newest,
       (SELECT page_count FROM pragma_page_count()) AS pages,
       (SELECT page_size FROM pragma_page_size()) AS page_size,
       (SELECT freelist_count FROM pragma_freelist_count()) AS free_pages;
