SELECT id FROM endpoints WHERE name = :endpoint;
