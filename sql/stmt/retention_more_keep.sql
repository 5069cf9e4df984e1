-- Anything left for the slices with their own cutoffs (storeadmin.c)?
SELECT EXISTS (SELECT 1 FROM queue_signatures WHERE last_seen < :sig_cutoff)
    OR EXISTS (SELECT 1 FROM queue_counters c CROSS JOIN minute_counts m
                         ON m.endpoint = c.endpoint AND m.queue = c.queue
                                   AND m.minute < :counts_cutoff / 60000);
