-- The id of a queue's name in failure_log (sql/schema/0010)
INSERT OR IGNORE INTO queue_names (queue) VALUES (:queue);
