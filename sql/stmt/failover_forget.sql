DELETE FROM failure_log WHERE id = :id;
