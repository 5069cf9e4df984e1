-- The text stored under an id (is this text already there?).
SELECT body FROM texts WHERE id = :id;
