SELECT id, matchers FROM silences WHERE expires_at > :now ORDER BY id;
