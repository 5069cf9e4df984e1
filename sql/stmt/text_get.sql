-- The text stored under an id (is this text already there?).
SELECT body, last_at FROM texts WHERE id = :id;
