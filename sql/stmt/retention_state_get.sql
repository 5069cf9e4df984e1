SELECT cutoff, backlog_since, trimmed, last_slice_at, last_slice_ms, max_slice_ms, done_at
FROM store_state WHERE id = 1;
