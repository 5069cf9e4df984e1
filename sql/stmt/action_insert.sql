INSERT INTO actions (endpoint, queue, verb, os_user, pid, reason, selection, snapshot_at,
                     frozen_count, options, started_at)
VALUES (:endpoint, :queue, :verb, :os_user, :pid, :reason, :selection, :snapshot_at,
        :frozen_count, :options, :now);
