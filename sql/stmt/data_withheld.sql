-- Failure rows since :since whose job data redaction could not read (stored
-- as a "[withheld: why; N bytes]" placeholder, see agent/jobdata.h).
SELECT COUNT(*) FROM failures
WHERE event_time >= :since AND data_json = 0 AND instr(data, '[withheld: ') > 0;
