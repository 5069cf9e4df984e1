-- the pending rows of one alert for one sink target (coalescing pushes)
SELECT id FROM outbox
WHERE state = 'pending' AND sink = :sink AND target = :target AND fingerprint = :fingerprint;
