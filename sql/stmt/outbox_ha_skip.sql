-- HA follower: pending rows of an endpoint created before :before are left to
-- the leader, whose lease says it had delivered (or given up on) everything
-- it created before then (agent/lease.h: clear). Not sent by this agent.
UPDATE outbox SET state = 'skipped', last_error = :why
WHERE state = 'pending' AND endpoint = :endpoint AND created_at < :before;
