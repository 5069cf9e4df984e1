SELECT id FROM queue_names WHERE queue = :queue;
