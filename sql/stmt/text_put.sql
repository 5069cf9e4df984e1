-- A stack trace or opts text, stored once per distinct value (texts_body).
INSERT OR IGNORE INTO texts (body) VALUES (:body);
