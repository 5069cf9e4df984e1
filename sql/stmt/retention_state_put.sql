INSERT INTO store_state (id, cutoff, backlog_since, trimmed, last_slice_at, last_slice_ms,
                         max_slice_ms, done_at)
VALUES (1, :cutoff, :backlog_since, :trimmed, :now, :slice_ms, :max_slice_ms, :done_at)
ON CONFLICT (id) DO UPDATE SET
    cutoff = excluded.cutoff, backlog_since = excluded.backlog_since,
    trimmed = excluded.trimmed, last_slice_at = excluded.last_slice_at,
    last_slice_ms = excluded.last_slice_ms, max_slice_ms = excluded.max_slice_ms,
    done_at = excluded.done_at;
