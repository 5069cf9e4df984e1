SELECT stream_id FROM cursors WHERE endpoint = :endpoint AND queue = :queue;
