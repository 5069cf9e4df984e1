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
local ids = {}
for i = 4, #ARGV do
  ids[#ids + 1] = ARGV[i]
end
-- which ids are still in the failed set: one call for the batch
local ok, scores = pcall(redis.call, 'ZMSCORE', KEYS[1], unpack(ids))
if not ok then -- Redis < 6.2
  scores = {}
  for i, id in ipairs(ids) do
    scores[i] = redis.call('ZSCORE', KEYS[1], id)
  end
end
local gone = {}
for i, id in ipairs(ids) do
  local jk = P .. id
  if not scores[i] then
    out[i] = -3
  else
    -- every BullMQ job hash has opts: none means the hash is gone
    local f = redis.call('HMGET', jk, 'opts', 'rjk', 'parentKey', 'deid')
    if redis.call('EXISTS', jk .. ':lock') == 1 then
      out[i] = -2 -- never a locked job
    elseif not f[1] and redis.call('EXISTS', jk) == 0 then
      gone[#gone + 1] = id
      out[i] = -1
    else
      local sched = false
      if f[2] then
        local s = redis.call('ZSCORE', P .. 'repeat', f[2])
        sched = s ~= false and s ~= nil and id == ('repeat:' .. f[2] .. ':' .. s)
      end
      if sched then
        out[i] = -8
      else
        if f[3] then
          redis.call('SREM', f[3] .. ':dependencies', jk)
          if redis.call('TYPE', f[3] .. ':failed').ok == 'hash' then
            redis.call('HDEL', f[3] .. ':failed', jk)
          end
          if redis.call('TYPE', f[3] .. ':unsuccessful').ok == 'zset' then
            redis.call('ZREM', f[3] .. ':unsuccessful', jk)
          end
        end
        if f[4] and redis.call('GET', P .. 'de:' .. f[4]) == id then
          redis.call('DEL', P .. 'de:' .. f[4])
        end
        redis.call('DEL', jk, jk .. ':logs', jk .. ':dependencies', jk .. ':processed',
          jk .. ':failed', jk .. ':unsuccessful')
        redis.call('XADD', KEYS[8], 'MAXLEN', '~', maxEvents, '*', 'event', 'removed', 'jobId', id,
          'prev', 'failed')
        gone[#gone + 1] = id
        out[i] = 1
      end
    end
  end
end
if #gone > 0 then
  redis.call('ZREM', KEYS[1], unpack(gone))
end
return out
