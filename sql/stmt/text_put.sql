INSERT INTO texts (hash, body, last_at) VALUES (:hash, :body, :at);
