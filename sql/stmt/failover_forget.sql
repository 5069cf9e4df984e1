-- A failure row read from an old master whose entry the new master does
-- not hold (lost in the failover by Redis itself). :id
DELETE FROM failure_rows WHERE id = :id;
