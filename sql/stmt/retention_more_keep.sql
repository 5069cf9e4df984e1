-- Anything left for the slices with their own cutoffs (storeadmin.c)?
SELECT EXISTS (SELECT 1 FROM queue_signatures WHERE last_seen < :sig_cutoff)
    OR EXISTS (SELECT 1 FROM minute_counts WHERE minute < :counts_cutoff / 60000);
