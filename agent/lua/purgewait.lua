-- bullwatch purge of wrapper jobs in a dead-letter queue: each is a plain
-- waiting BullMQ job, removed the way Job.remove removes a waiting job
-- (BullMQ 5.71's and 6.7's removeJob): out of wait or paused, its keys
-- (hash, logs, and the flow keys a wrapper does not have) and
-- deduplication keys (`de:<id>` while it names the job, 6.x's `dn:<id>`)
-- deleted, a `removed` event. Written from that description.
-- KEYS: 1 failed, 2 wait, 3 paused, 4 meta, 5 prioritized, 6 pc, 7 marker,
--       8 events, 9 active (the same list as replay.lua and purge.lua)
-- ARGV: 1 key prefix of the queue ("bull:dead-letter:"), 2, 3 unused,
--       4.. job ids
-- Returns one status per id: 1 purged, -1 job hash missing, -2 locked,
-- -3 not waiting in the queue.
local P = ARGV[1]
-- read now (meta of the wrong type fails the call before any change); its
-- default is written with the first `removed` event, as BullMQ does
local maxEvents = redis.call('HGET', KEYS[4], 'opts.maxLenEvents')
local out, trim = {}, false
for i = 4, #ARGV do
  local id = ARGV[i]
  local jk = P .. id
  local deid = redis.call('HGET', jk, 'deid')
  if redis.call('EXISTS', jk) == 0 then
    out[#out + 1] = -1
  elseif redis.call('EXISTS', jk .. ':lock') == 1 then
    out[#out + 1] = -2
  else
    local prev
    if redis.call('LREM', KEYS[2], 1, id) == 1 then
      prev = 'wait'
    elseif redis.call('LREM', KEYS[3], 1, id) == 1 then
      prev = 'paused'
    end
    if not prev then
      out[#out + 1] = -3
    else
      if deid and redis.call('GET', P .. 'de:' .. deid) == id then
        redis.call('DEL', P .. 'de:' .. deid, P .. 'dn:' .. deid)
      end
      redis.call('DEL', jk, jk .. ':logs', jk .. ':dependencies', jk .. ':processed',
        jk .. ':failed', jk .. ':unsuccessful')
      -- trimmed once for the batch, below (the script is atomic)
      redis.call('XADD', KEYS[8], '*', 'event', 'removed', 'jobId', id, 'prev', prev)
      trim = true
      out[#out + 1] = 1
    end
  end
end
if trim then
  if not maxEvents then
    maxEvents = 10000
    redis.call('HSET', KEYS[4], 'opts.maxLenEvents', maxEvents)
  end
  redis.call('XTRIM', KEYS[8], 'MAXLEN', '~', maxEvents)
end
return out
