-- A stack trace or opts text under its id (a 64-bit hash of the text, or the
-- next free id after a collision: failrec.c).
INSERT INTO texts (id, body, last_at) VALUES (:id, :body, :at);
