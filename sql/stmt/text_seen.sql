-- A row an hour or more newer than a text's last_at refers to it: move it on
-- (texts.last_at, in 0008).
UPDATE texts SET last_at = :at WHERE id = :id;
