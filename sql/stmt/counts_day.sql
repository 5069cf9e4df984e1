-- baseline(): one queue's counts over minutes [:first, :last] of an
-- earlier day, and whether the store watched it then at all (a count or a
-- depth sample): from the primary keys, a window's minutes each.
SELECT (SELECT COUNT(*) FROM minute_log
        WHERE queue_id = (SELECT id FROM queue_names WHERE queue = :queue)
          AND endpoint_id = (SELECT id FROM endpoints WHERE name = :endpoint)
          AND minute BETWEEN :first AND :last)
     + (SELECT COUNT(*) FROM depth_samples
        WHERE endpoint = :endpoint AND queue = :queue AND minute BETWEEN :first AND :last),
       COALESCE(SUM(added), 0), COALESCE(SUM(completed), 0), COALESCE(SUM(failed), 0),
       COALESCE(SUM(retries), 0), COALESCE(SUM(stalled), 0)
FROM minute_log
WHERE queue_id = (SELECT id FROM queue_names WHERE queue = :queue)
  AND endpoint_id = (SELECT id FROM endpoints WHERE name = :endpoint)
  AND minute BETWEEN :first AND :last;
