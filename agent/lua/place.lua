-- bullwatch: where a job that an action makes ready goes. This is the one
-- statement of the rule: dlq_script_load (agent/dlq.c) prepends this file
-- to replay.lua, readd.lua and purge.lua (a released flow parent), so the
-- three cannot drift apart.
--
-- The rule reads the queue's own keys, in the same atomic call that places
-- the job:
--   priority > 0 (for callers that honour it) -> `prioritized`, scored
--     priority * 2^32 + (INCR pc mod 2^32): 5.x and 6.x workers take it from
--     there, and neither version's pause or resume touches that zset;
--   the queue is paused (meta has `paused`) -> the legacy `paused` list:
--     5.x's resume RENAMEs it over `wait`, and 6.x's resume drains a legacy
--     `paused` list onto `wait` (bullmq 6.7 pause-7.lua: a RENAME when
--     `wait` is absent, else RPUSH of 7000 a call, looped by
--     Queue.resume()), so both versions find the job there. `wait` is not
--     safe: a 5.x resume RENAMEs `paused` over it and the job is in no list;
--   else -> `wait`.
--   Workers are woken (marker member "0" at score 0) unless the queue is
--   paused or at its global concurrency (meta `concurrency` <= LLEN
--   active), as BullMQ's isQueuePausedOrMaxed decides.
--
-- Why not meta.version: it is written by every BullMQ `Queue` when it
-- starts, so it names the version of the last producer or dashboard that
-- started, not of the workers that pause and resume the queue. During a
-- rolling upgrade a 6.x `Queue` writes it while 5.x workers still run the
-- queue; a replay into `wait` (6.x's place for a paused queue) was then
-- destroyed by the 5.x resume (3 of 3 jobs lost; issue 12). This
-- supersedes the "read meta.version" advice of bullmq-internals.md §10.

local place_seen = {}

-- The queue's state for placement (read once per queue per call: nothing a
-- script of ours does changes `paused`, `concurrency` or `active`).
local function place_state(meta, active)
  local s = place_seen[meta]
  if s then
    return s
  end
  local m = redis.call('HMGET', meta, 'paused', 'concurrency')
  local paused = m[1] ~= false and m[1] ~= nil
  local maxed = false
  if not paused and m[2] then
    local conc = tonumber(m[2])
    maxed = conc ~= nil and redis.call('LLEN', active) >= conc
  end
  s = {paused = paused, wake = not paused and not maxed}
  place_seen[meta] = s
  return s
end

-- Where a job with `priority` goes (0 or nil: a list): 'prioritized',
-- 'paused' or 'wait' (the key suffix), and whether to add the marker.
local function place_where(meta, active, priority)
  local s = place_state(meta, active)
  if priority and priority > 0 then
    return 'prioritized', s.wake
  end
  return s.paused and 'paused' or 'wait', s.wake
end

-- The `prioritized` score of a job with `priority`, taking the next value
-- of the queue's counter `pc` (as BullMQ's addJobWithPriority).
local function place_score(pc, priority)
  local n = redis.call('INCR', pc)
  return priority * 4294967296 + (n % 4294967296)
end

