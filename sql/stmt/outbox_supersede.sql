UPDATE outbox SET state = 'superseded', last_error = 'superseded by a newer push'
WHERE id = :id AND state = 'pending';
