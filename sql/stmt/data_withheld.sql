-- Failure rows finished since :since whose job data redaction could not read
-- (stored as a "[withheld: why; N bytes]" placeholder, see agent/jobdata.h);
-- finished_at: an index reaches them.
SELECT COUNT(*) FROM failures
WHERE finished_at >= :since AND data_json = 0 AND instr(data, '[withheld: ') > 0;
