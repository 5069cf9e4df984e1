-- The engine's start: signatures first seen since :since (new_signatures).
SELECT queue, signature, first_seen FROM queue_signatures
WHERE first_seen >= :since AND endpoint = :endpoint;
