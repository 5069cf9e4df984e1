-- bullwatch replay: move failed jobs back to where BullMQ workers take them.
-- Written from the documented behaviour of BullMQ's retry (see
-- shared/bullmq-internals.md sections 5.1, 8.3 and 10); not BullMQ's code.
-- KEYS: 1 failed, 2 wait, 3 paused, 4 meta, 5 prioritized, 6 pc, 7 marker,
--       8 events, 9 active
-- ARGV: 1 key prefix of the queue ("bull:q:"), 2 "5" for a 5.x fleet,
--       3 "1" to reset attempts made/started, 4.. job ids
-- Returns one status per id: 1 replayed, -1 job hash missing, -3 not in the
-- failed set.
local P = ARGV[1]
local v5 = ARGV[2] == '5'
local reset = ARGV[3] == '1'
local maxEvents = redis.call('HGET', KEYS[4], 'opts.maxLenEvents')
if not maxEvents then
  maxEvents = 10000
  redis.call('HSET', KEYS[4], 'opts.maxLenEvents', maxEvents)
end
local paused = redis.call('HEXISTS', KEYS[4], 'paused') == 1
local conc = tonumber(redis.call('HGET', KEYS[4], 'concurrency') or '')
local maxed = conc ~= nil and redis.call('LLEN', KEYS[9]) >= conc
local out = {}
local ready = false
for i = 4, #ARGV do
  local id = ARGV[i]
  local jk = P .. id
  if redis.call('EXISTS', jk) == 0 then
    out[#out + 1] = -1
  elseif redis.call('ZREM', KEYS[1], id) == 0 then
    out[#out + 1] = -3
  else
    if reset then
      redis.call('HDEL', jk, 'atm', 'ats', 'attemptsMade')
    end
    redis.call('HDEL', jk, 'finishedOn', 'processedOn', 'failedReason')
    local f = redis.call('HMGET', jk, 'priority', 'opts', 'parentKey')
    local prio = tonumber(f[1]) or 0
    if prio > 0 then
      -- both versions' workers take prioritized jobs from the zset
      local n = redis.call('INCR', KEYS[6])
      redis.call('ZADD', KEYS[5], prio * 4294967296 + (n % 4294967296), id)
    else
      local lifo = false
      if f[2] then
        local ok, o = pcall(cjson.decode, f[2])
        lifo = ok and type(o) == 'table' and o.lifo == true
      end
      -- 5.x keeps a paused queue's jobs in `paused`; 6.x always in `wait`
      local target = (v5 and paused) and KEYS[3] or KEYS[2]
      redis.call(lifo and 'RPUSH' or 'LPUSH', target, id)
    end
    -- a flow child goes back into its parent's pending dependencies
    if f[3] and redis.call('EXISTS', f[3]) == 1 then
      local back = redis.call('ZREM', f[3] .. ':unsuccessful', jk) == 1
      if redis.call('TYPE', f[3] .. ':failed').ok == 'hash' then
        back = (redis.call('HDEL', f[3] .. ':failed', jk) == 1) or back
      end
      if back then
        redis.call('SADD', f[3] .. ':dependencies', jk)
      end
    end
    redis.call('XADD', KEYS[8], 'MAXLEN', '~', maxEvents, '*', 'event', 'waiting', 'jobId', id,
      'prev', 'failed')
    ready = true
    out[#out + 1] = 1
  end
end
if ready and not paused and not maxed then
  redis.call('ZADD', KEYS[7], 0, '0')
end
return out
