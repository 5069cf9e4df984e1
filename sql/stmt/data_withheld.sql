-- Failure rows finished since :since whose job data redaction could not read
-- (stored as a "[withheld: why; N bytes]" placeholder, see agent/jobdata.h);
-- finished_at: an index reaches them.
SELECT COUNT(*) FROM failure_log
WHERE finished_at >= :since AND flags & 2 AND instr(data, '[withheld: ') > 0;
