-- bullwatch purge: delete dead jobs the way BullMQ's Job.remove does for a
-- job in the failed set (shared/bullmq-internals.md sections 5.5 and 10);
-- written from that description, not BullMQ's code.
-- KEYS: 1 failed, 2 wait, 3 paused, 4 meta, 5 prioritized, 6 pc, 7 marker,
--       8 events, 9 active (the same list as replay.lua)
-- ARGV: 1 key prefix of the queue ("bull:q:"), 2 fleet ("5"/"6"), 3 unused,
--       4.. job ids
-- Returns one status per id: 1 purged, -1 job hash missing (its id is
-- taken out of the failed set), -2 locked, -3 not in the failed set, -8 the
-- current job of a job scheduler.
local P = ARGV[1]
local maxEvents = redis.call('HGET', KEYS[4], 'opts.maxLenEvents')
if not maxEvents then
  maxEvents = 10000
  redis.call('HSET', KEYS[4], 'opts.maxLenEvents', maxEvents)
end
local out = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  local jk = P .. id
  if not redis.call('ZSCORE', KEYS[1], id) then
    out[#out + 1] = -3
  elseif redis.call('EXISTS', jk) == 0 then
    redis.call('ZREM', KEYS[1], id)
    out[#out + 1] = -1
  elseif redis.call('EXISTS', jk .. ':lock') == 1 then
    out[#out + 1] = -2
  else
    local f = redis.call('HMGET', jk, 'rjk', 'parentKey', 'deid')
    local sched = false
    if f[1] then
      local s = redis.call('ZSCORE', P .. 'repeat', f[1])
      sched = s ~= false and s ~= nil and id == ('repeat:' .. f[1] .. ':' .. s)
    end
    if sched then
      out[#out + 1] = -8
    else
      if f[2] then
        redis.call('SREM', f[2] .. ':dependencies', jk)
        if redis.call('TYPE', f[2] .. ':failed').ok == 'hash' then
          redis.call('HDEL', f[2] .. ':failed', jk)
        end
        if redis.call('TYPE', f[2] .. ':unsuccessful').ok == 'zset' then
          redis.call('ZREM', f[2] .. ':unsuccessful', jk)
        end
      end
      if f[3] and redis.call('GET', P .. 'de:' .. f[3]) == id then
        redis.call('DEL', P .. 'de:' .. f[3])
      end
      redis.call('ZREM', KEYS[1], id)
      redis.call('DEL', jk, jk .. ':logs', jk .. ':dependencies', jk .. ':processed',
        jk .. ':failed', jk .. ':unsuccessful')
      redis.call('XADD', KEYS[8], 'MAXLEN', '~', maxEvents, '*', 'event', 'removed', 'jobId', id,
        'prev', 'failed')
      out[#out + 1] = 1
    end
  end
end
return out
