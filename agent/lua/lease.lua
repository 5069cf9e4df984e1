-- bullwatch: the HA leader lease of an endpoint (agent/lease.h).
-- KEYS[1] the lease hash (<prefix>:bullwatch:lease): holder, run, token, until,
-- clear. ARGV[1] 'take' or 'release', ARGV[2] the caller's ha_id, ARGV[3] the
-- lease time (ms), ARGV[4] the caller's delivery watermark (ms, its clock),
-- ARGV[5] the caller's run (a nonce of this run of the agent: the lease is
-- ours only for the same ha_id and run, so a restarted agent, or a second one
-- configured with the same ha_id, waits for the lease like any other).
-- Times are Redis's own (TIME), so the agents' clocks need not agree.
-- Take: free or expired -> the caller holds it (token + 1 when the holder
-- changes); ours -> renewed; another's -> who holds it and for how long.
-- Returns {held 0|1, token, holder, ms until it expires, clear}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local h = redis.call('HMGET', KEYS[1], 'holder', 'token', 'until', 'clear', 'run')
local holder = h[1] or ''
local token = tonumber(h[2]) or 0
local till = tonumber(h[3]) or 0
local clear = tonumber(h[4]) or 0
local ours = holder == ARGV[2] and (h[5] or '') == ARGV[5]
if ARGV[1] == 'release' then
  if ours then
    redis.call('HSET', KEYS[1], 'until', 0, 'clear', ARGV[4])
  end
  return {0, token, holder, 0, clear}
end
if not ours and till > now then
  return {0, token, holder, till - now, clear}
end
if not ours then
  token = token + 1
end
local ms = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'holder', ARGV[2], 'run', ARGV[5], 'token', token, 'until', now + ms,
  'clear', ARGV[4])
return {1, token, ARGV[2], ms, tonumber(ARGV[4])}
