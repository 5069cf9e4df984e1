-- bullwatch replay from a dead-letter queue: add each wrapped original job
-- to its original queue the way BullMQ adds a standard job (id counter,
-- hash fields, `added` then `waiting` events, the marker; see
-- shared/bullmq-internals.md 5.8 and 6), then remove the wrapper from the
-- dead-letter queue with a `removed` event. Written from that description.
-- KEYS: 1 original queue's id counter, 2 original meta, 3 original wait,
--       4 original paused, 5 original marker, 6 original events,
--       7 original active, 8 DLQ events, 9 DLQ meta
-- ARGV: 1 original key prefix ("bull:orders:"), 2 DLQ key prefix,
--       3 unused (it was the fleet's version: placement comes from the
--       keys, place.lua, prepended when loaded), 4 timestamp (ms),
--       then per wrapper: wrapper id, name, data JSON, opts JSON
-- Returns per wrapper the new job id, or -1 wrapper gone, -2 wrapper
-- locked, -3 wrapper not waiting in the dead-letter queue; then one more
-- element: where the re-added jobs went ('wait' or 'paused', place.lua's
-- rule; the new jobs have priority 0).
local OP, DP = ARGV[1], ARGV[2]
local ts = ARGV[4]
local function max_events(meta)
  local m = redis.call('HGET', meta, 'opts.maxLenEvents')
  if not m then
    m = 10000
    redis.call('HSET', meta, 'opts.maxLenEvents', m)
  end
  return m
end
local omax, dmax = max_events(KEYS[2]), max_events(KEYS[9])
local where, wake = place_where(KEYS[2], KEYS[7], 0)
local out = {}
local ready = false
for i = 5, #ARGV, 4 do
  local wid, name, data, opts = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local wk = DP .. wid
  local prev = nil
  if redis.call('EXISTS', wk) == 0 then
    out[#out + 1] = -1
  elseif redis.call('EXISTS', wk .. ':lock') == 1 then
    out[#out + 1] = -2
  else
    if redis.call('LREM', DP .. 'wait', 1, wid) == 1 then
      prev = 'wait'
    elseif redis.call('LREM', DP .. 'paused', 1, wid) == 1 then
      prev = 'paused'
    end
    if not prev then
      out[#out + 1] = -3
    else
      local id = tostring(redis.call('INCR', KEYS[1]))
      redis.call('HMSET', OP .. id, 'name', name, 'data', data, 'opts', opts, 'timestamp', ts,
        'delay', 0, 'priority', 0)
      redis.call('XADD', KEYS[6], '*', 'event', 'added', 'jobId', id, 'name', name)
      redis.call('LPUSH', where == 'paused' and KEYS[4] or KEYS[3], id)
      -- both streams are trimmed once for the batch, below: the script is
      -- atomic, so readers see the same streams as with MAXLEN on each entry
      redis.call('XADD', KEYS[6], '*', 'event', 'waiting', 'jobId', id)
      redis.call('DEL', wk, wk .. ':logs')
      redis.call('XADD', KEYS[8], '*', 'event', 'removed', 'jobId', wid, 'prev', prev)
      ready = true
      out[#out + 1] = id
    end
  end
end
if ready then
  if wake then
    redis.call('ZADD', KEYS[5], 0, '0')
  end
  redis.call('XTRIM', KEYS[6], 'MAXLEN', '~', omax)
  redis.call('XTRIM', KEYS[8], 'MAXLEN', '~', dmax)
end
out[#out + 1] = where
return out
