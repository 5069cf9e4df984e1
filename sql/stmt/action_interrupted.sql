UPDATE actions SET state = 'interrupted', finished_at = :now WHERE id = :id AND state = 'running';
