-- bullwatch purge: delete dead jobs the way BullMQ's Job.remove (with
-- removeChildren, its default) does for a job in the failed set
-- (shared/bullmq-internals.md sections 5.5 and 10); written from that
-- description, not BullMQ's code.
-- KEYS: 1 failed, 2 wait, 3 paused, 4 meta, 5 prioritized, 6 pc, 7 marker,
--       8 events, 9 active (the same list as replay.lua)
-- ARGV: 1 key prefix of the queue ("bull:q:"), 2 fleet ("5"/"6"), 3 unused,
--       4.. job ids or a range (select.lua, prepended when loaded)
-- Returns one status per id: 1 purged, -1 job hash missing (its id is
-- taken out of the failed set), -2 locked (the job, or a pending child of
-- it), -3 not in the failed set, -8 the current job of a job scheduler.
local P = ARGV[1]
-- the prefix before the queue name ("bull"): queue names hold no ':'
local base = string.match(P, '^(.*):[^:]*:$')

local function max_events(qp)
  local m = redis.call('HGET', qp .. 'meta', 'opts.maxLenEvents')
  if not m then
    m = 10000
    if qp == P then
      redis.call('HSET', qp .. 'meta', 'opts.maxLenEvents', m)
    end
  end
  return m
end
local maxEvents = max_events(P)

-- "bull:q:7" -> "bull:q:", "7"
local function split_key(k)
  local rest = string.sub(k, #base + 2)
  local q = string.match(rest, '^[^:]*')
  return base .. ':' .. q .. ':', string.sub(rest, #q + 2)
end

-- a job, or any pending child of it, is locked
local function locked(jk, depth)
  if redis.call('EXISTS', jk .. ':lock') == 1 then
    return true
  end
  if depth > 32 then
    return false
  end
  for _, ck in ipairs(redis.call('SMEMBERS', jk .. ':dependencies')) do
    if locked(ck, depth + 1) then
      return true
    end
  end
  return false
end

local function children(jk)
  local out = {}
  for _, ck in ipairs(redis.call('HKEYS', jk .. ':processed')) do out[#out + 1] = ck end
  if redis.call('TYPE', jk .. ':failed').ok == 'hash' then
    for _, ck in ipairs(redis.call('HKEYS', jk .. ':failed')) do out[#out + 1] = ck end
  end
  if redis.call('TYPE', jk .. ':unsuccessful').ok == 'zset' then
    for _, ck in ipairs(redis.call('ZRANGE', jk .. ':unsuccessful', 0, -1)) do out[#out + 1] = ck end
  end
  for _, ck in ipairs(redis.call('SMEMBERS', jk .. ':dependencies')) do out[#out + 1] = ck end
  return out
end

-- family: the job may have children keys (else only its hash and logs)
local function delete_keys(qp, id, deid, family)
  local jk = qp .. id
  if deid and redis.call('GET', qp .. 'de:' .. deid) == id then
    redis.call('DEL', qp .. 'de:' .. deid)
  end
  if not family then
    return redis.call('DEL', jk, jk .. ':logs')
  end
  return redis.call('DEL', jk, jk .. ':logs', jk .. ':dependencies', jk .. ':processed',
    jk .. ':failed', jk .. ':unsuccessful')
end

-- a child of a purged job: removed from whichever state holds it, its
-- own children first, with a `removed` event in its queue
local function remove_child(ck, depth)
  local qp, id = split_key(ck)
  if depth <= 32 then
    for _, gk in ipairs(children(ck)) do
      remove_child(gk, depth + 1)
    end
  end
  local prev
  for _, s in ipairs({'completed', 'waiting-children', 'delayed', 'failed', 'prioritized'}) do
    if redis.call('ZREM', qp .. s, id) == 1 then
      prev = s
      break
    end
  end
  if not prev then
    for _, s in ipairs({'wait', 'paused', 'active'}) do
      if redis.call('LREM', qp .. s, 1, id) == 1 then
        prev = s
        break
      end
    end
  end
  local deid = redis.call('HGET', ck, 'deid')
  if delete_keys(qp, id, deid, true) > 0 then
    redis.call('XADD', qp .. 'events', 'MAXLEN', '~', max_events(qp), '*', 'event', 'removed',
      'jobId', id, 'prev', prev or 'unknown')
  end
end

-- the purged job leaves its parent's dependencies; a parent waiting for
-- no other child goes to where its queue's workers take it
local function release_parent(pk, jk)
  redis.call('SREM', pk .. ':dependencies', jk)
  if redis.call('TYPE', pk .. ':failed').ok == 'hash' then
    redis.call('HDEL', pk .. ':failed', jk)
  end
  if redis.call('TYPE', pk .. ':unsuccessful').ok == 'zset' then
    redis.call('ZREM', pk .. ':unsuccessful', jk)
  end
  if redis.call('SCARD', pk .. ':dependencies') > 0 then
    return
  end
  local pq, pid = split_key(pk)
  if redis.call('ZREM', pq .. 'waiting-children', pid) ~= 1 then
    return
  end
  local meta = redis.call('HMGET', pq .. 'meta', 'paused', 'version')
  local paused = meta[1] ~= false and meta[1] ~= nil
  local v5 = meta[2] and string.sub(meta[2], 1, 8) == 'bullmq:5'
  local pf = redis.call('HMGET', pk, 'priority', 'opts')
  local prio = tonumber(pf[1]) or 0
  if prio > 0 then
    local n = redis.call('INCR', pq .. 'pc')
    redis.call('ZADD', pq .. 'prioritized', prio * 4294967296 + (n % 4294967296), pid)
  else
    local lifo = pf[2] and string.find(pf[2], '"lifo":true', 1, true) ~= nil
    redis.call(lifo and 'RPUSH' or 'LPUSH', (v5 and paused) and pq .. 'paused' or pq .. 'wait', pid)
  end
  if not paused then
    redis.call('ZADD', pq .. 'marker', 0, '0')
  end
  redis.call('XADD', pq .. 'events', 'MAXLEN', '~', max_events(pq), '*', 'event', 'waiting',
    'jobId', pid, 'prev', 'waiting-children')
end

local out = {}
local ids, scores, range = dead_ids(KEYS[1])
-- one probe for the whole batch: in the common case no job is locked and
-- none has children keys, and then no job is asked about on its own
local probe = {}
for i, id in ipairs(ids) do
  if scores[i] then
    local jk = P .. id
    probe[#probe + 1] = jk .. ':lock'
    probe[#probe + 1] = jk .. ':dependencies'
    probe[#probe + 1] = jk .. ':processed'
    probe[#probe + 1] = jk .. ':failed'
    probe[#probe + 1] = jk .. ':unsuccessful'
  end
end
local some = #probe > 0 and redis.call('EXISTS', unpack(probe)) > 0
local gone, dels = {}, {}
for i, id in ipairs(ids) do
  local jk = P .. id
  if not scores[i] then
    out[i] = -3
  else
    -- every BullMQ job hash has opts: none means the hash is gone
    local f = redis.call('HMGET', jk, 'opts', 'rjk', 'parentKey', 'deid')
    local family, lock = false, false
    if some then
      lock = redis.call('EXISTS', jk .. ':lock') == 1
      family = redis.call('EXISTS', jk .. ':dependencies', jk .. ':processed',
        jk .. ':failed', jk .. ':unsuccessful') > 0
    end
    if lock or (family and base and locked(jk, 0)) then
      out[i] = -2 -- never a locked job, nor one whose pending child is locked
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
        if f[3] and base then
          release_parent(f[3], jk)
        end
        if family and base then
          for _, ck in ipairs(children(jk)) do
            remove_child(ck, 1)
          end
        end
        if family or f[4] then
          delete_keys(P, id, f[4], family)
        else -- the common case: deleted with the rest of the batch
          dels[#dels + 1] = jk
          dels[#dels + 1] = jk .. ':logs'
        end
        -- trimmed once for the batch, below: the script is atomic, so
        -- readers see the same stream as with MAXLEN on every entry
        redis.call('XADD', KEYS[8], '*', 'event', 'removed', 'jobId', id, 'prev', 'failed')
        gone[#gone + 1] = id
        out[i] = 1
      end
    end
  end
end
if #dels > 0 then
  redis.call('DEL', unpack(dels))
end
if #gone > 0 then
  redis.call('ZREM', KEYS[1], unpack(gone))
  redis.call('XTRIM', KEYS[8], 'MAXLEN', '~', maxEvents)
end
return dead_reply(ids, out, range, gone)
