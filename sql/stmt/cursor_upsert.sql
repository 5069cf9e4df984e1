INSERT INTO cursors (endpoint, queue, stream_id, updated_at)
VALUES (:endpoint, :queue, :stream_id, :now)
ON CONFLICT (endpoint, queue) DO UPDATE SET stream_id = excluded.stream_id,
                                            updated_at = excluded.updated_at;
