-- Is this signature known for the queue (sigtab.c: new or not)?
SELECT first_seen FROM queue_signatures
WHERE queue = :queue AND signature = :signature AND endpoint = :endpoint;
