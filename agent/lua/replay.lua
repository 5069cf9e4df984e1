-- bullwatch replay: move failed jobs back to where BullMQ workers take them.
-- Written from the documented behaviour of BullMQ's retry (see
-- shared/bullmq-internals.md sections 5.1, 8.3 and 10); not BullMQ's code.
-- KEYS: 1 failed, 2 wait, 3 paused, 4 meta, 5 prioritized, 6 pc, 7 marker,
--       8 events, 9 active
-- ARGV: 1 key prefix of the queue ("bull:q:"), 2 unused (it was the
--       fleet's version: placement comes from the keys, place.lua),
--       3 "1" to reset attempts made/started, 4.. job ids or a range
--       (select.lua and place.lua, prepended when loaded)
-- Returns one status per id: replayed, as where the job went ('wait',
-- 'paused' or 'prioritized': place.lua's rule), -1 job hash missing, -3 not
-- in the failed set, -11 unexpected data (a key of the wrong type).
local P = ARGV[1]
local reset = ARGV[3] == '1'
-- the queue's keys this call writes: one of the wrong type fails the call
-- here, before any change
redis.call('LLEN', KEYS[2])
redis.call('LLEN', KEYS[3])
redis.call('ZCARD', KEYS[5])
local pc = redis.call('GET', KEYS[6])
if pc and not tonumber(pc) then
  error('the queue\'s pc is not a number')
end
redis.call('ZCARD', KEYS[7])
redis.call('XLEN', KEYS[8])
local maxEvents = redis.call('HGET', KEYS[4], 'opts.maxLenEvents')
if not maxEvents then
  maxEvents = 10000
  redis.call('HSET', KEYS[4], 'opts.maxLenEvents', maxEvents)
end
local _, wake = place_where(KEYS[4], KEYS[9], 0)
local out = {}
-- pushes are batched per target list, in order, like BullMQ's own bulk retry
local push = {}
local function queue_push(cmd, key, id)
  local last = push[#push]
  if not last or last.cmd ~= cmd or last.key ~= key then
    last = {cmd = cmd, key = key, ids = {}}
    push[#push + 1] = last
  end
  last.ids[#last.ids + 1] = id
end
local clear = reset and {'finishedOn', 'processedOn', 'failedReason', 'atm', 'ats', 'attemptsMade'}
  or {'finishedOn', 'processedOn', 'failedReason'}
local ids, scores, range = dead_ids(KEYS[1])
local moved = {}
-- one job of the batch (in the failed set): its status. Reads first: a key
-- of the wrong type (a parent's) stops the job (-11) before any change.
local function replay(id)
  local jk = P .. id
  -- every BullMQ job hash has opts: none means the hash is gone
  local f = redis.call('HMGET', jk, 'priority', 'opts', 'parentKey')
  if not f[2] then
    return -1
  end
  local parent = f[3] and redis.call('EXISTS', f[3]) == 1
  local pfailed = false
  if parent then
    redis.call('ZCARD', f[3] .. ':unsuccessful')
    redis.call('SCARD', f[3] .. ':dependencies')
    pfailed = redis.call('TYPE', f[3] .. ':failed').ok == 'hash'
  end
  -- a flow child goes back into its parent's pending dependencies
  if parent then
    local back = redis.call('ZREM', f[3] .. ':unsuccessful', jk) == 1
    if pfailed then
      back = (redis.call('HDEL', f[3] .. ':failed', jk) == 1) or back
    end
    if back then
      redis.call('SADD', f[3] .. ':dependencies', jk)
    end
  end
  redis.call('HDEL', jk, unpack(clear))
  local prio = tonumber(f[1]) or 0
  local where = place_where(KEYS[4], KEYS[9], prio)
  if where == 'prioritized' then
    redis.call('ZADD', KEYS[5], place_score(KEYS[6], prio), id)
  else
    -- opts is cjson output: a lifo job says "lifo":true
    local lifo = string.find(f[2], '"lifo":true', 1, true) ~= nil
    queue_push(lifo and 'RPUSH' or 'LPUSH', where == 'paused' and KEYS[3] or KEYS[2], id)
  end
  -- trimmed once for the batch, below: the script is atomic, so readers
  -- see the same stream as with MAXLEN on every entry
  redis.call('XADD', KEYS[8], '*', 'event', 'waiting', 'jobId', id, 'prev', 'failed')
  moved[#moved + 1] = id
  return where
end
for i, id in ipairs(ids) do
  if not scores[i] then
    out[i] = -3
  else
    -- -11: unexpected data (a key of the wrong type); the rest goes on
    local ok, st = pcall(replay, id)
    out[i] = ok and st or -11
  end
end
if #moved > 0 then
  redis.call('ZREM', KEYS[1], unpack(moved))
  for _, p in ipairs(push) do
    redis.call(p.cmd, p.key, unpack(p.ids))
  end
  if wake then
    redis.call('ZADD', KEYS[7], 0, '0')
  end
  redis.call('XTRIM', KEYS[8], 'MAXLEN', '~', maxEvents)
end
return dead_reply(ids, out, range, moved)
