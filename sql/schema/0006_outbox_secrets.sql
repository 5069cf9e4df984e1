-- 0006_outbox_secrets: the outbox keeps no secrets, and each row its message id.
-- * A PagerDuty body used to carry the sink's routing key in clear: the key is
--   now added from the sink's configuration at send time, and the keys already
--   stored are scrubbed here. secure_delete makes SQLite overwrite the freed
--   bytes of the old bodies instead of leaving them in free pages.
-- * msg_id: the message id (Standard Webhooks webhook-id) fixed when the row
--   is created, derived from the alert's identity and its transition, so a
--   retry, a resend after a crash or another agent send the same id. Rows
--   from before keep the id they were sent with (msg_<row id>).
-- * target: which URL of the sink (an alertmanager sink can list the
--   Alertmanagers of an HA cluster; each gets every push, in its own row).
-- * kind gains 'repush' (an alertmanager api push of a firing alert, sent
--   again every resend_interval; not a notification), 'test' (`bullwatch sink
--   test`), and state 'superseded' (a pending push replaced by a newer one).
PRAGMA secure_delete = ON;
UPDATE outbox SET body = json_remove(body, '$.routing_key')
WHERE json_valid(body) AND json_type(body, '$.routing_key') IS NOT NULL;
ALTER TABLE outbox ADD COLUMN msg_id TEXT;
ALTER TABLE outbox ADD COLUMN target INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET msg_id = 'msg_' || id;
DROP INDEX outbox_pending;
CREATE INDEX outbox_pending ON outbox (sink, target, fingerprint, id) WHERE state = 'pending';
