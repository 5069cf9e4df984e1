SELECT after_id, kind, from_ms, to_ms FROM gaps
WHERE endpoint = :endpoint AND queue = :queue AND done = 0
ORDER BY id;
