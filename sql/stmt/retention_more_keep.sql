-- Anything left for the slices with their own cutoffs (storeadmin.c)?
SELECT EXISTS (SELECT 1 FROM queue_signatures WHERE last_seen < :sig_cutoff)
    OR EXISTS (SELECT 1 FROM queue_names CROSS JOIN endpoints CROSS JOIN minute_log m
                    ON m.queue_id = queue_names.id AND m.endpoint_id = endpoints.id
                   AND m.minute < :counts_cutoff / 60000);
