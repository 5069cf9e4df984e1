UPDATE failure_hours SET failures = failures - 1
WHERE (queue, hour, signature, endpoint) =
      (SELECT q.queue, r.finished_at / 3600000, COALESCE(s.signature, ''), e.name
       FROM failure_log r JOIN queue_names q ON q.id = r.queue_id
       JOIN endpoints e ON e.id = r.endpoint_id
       LEFT JOIN signatures s ON s.id = r.sig_id
       WHERE r.id = :id);
