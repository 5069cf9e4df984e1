-- The texts with this hash (sql/schema/0010): the caller compares bodies
SELECT id, body, last_at FROM texts WHERE hash = :hash;
