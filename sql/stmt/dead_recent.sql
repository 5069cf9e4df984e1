SELECT COUNT(*) FROM failures WHERE endpoint = :endpoint AND queue = :queue AND event_time >= :since;
