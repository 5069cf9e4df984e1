UPDATE gaps SET done = 1, reconciled = reconciled + :n
WHERE endpoint = :endpoint AND queue = :queue AND after_id = :after_id;
