-- The id of an endpoint in failure_log (sql/schema/0010)
INSERT OR IGNORE INTO endpoints (name) VALUES (:endpoint);
