SELECT attempts FROM outbox WHERE id = :id;
