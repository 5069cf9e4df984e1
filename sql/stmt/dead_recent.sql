SELECT COUNT(*) FROM failure_rows
WHERE queue = :queue AND finished_at >= :since AND endpoint = :endpoint;
