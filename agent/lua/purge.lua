-- bullwatch purge: delete dead jobs the way BullMQ's Job.remove (with
-- removeChildren, its default) does for a job in the failed set, in 5.71
-- and 6.7 alike; written from what their removeJob scripts do, not their
-- code. For each job:
--  - its parent (parentKey, when that hash exists) loses it from its
--    pending `:dependencies`; a parent then waiting for nothing more leaves
--    `waiting-children` and is RPUSHed (it runs next) onto the list
--    place.lua names, whatever its priority or delay (Job.remove ignores
--    both), with the marker unless paused or at its concurrency limit and
--    a `waiting` event (prev waiting-children). The parent's records of a
--    failed child (`:failed`, `:unsuccessful`) are kept, as Job.remove
--    keeps them: a parent that runs later still sees the failure;
--  - its children (processed, failed, unsuccessful, then pending), depth
--    first, each out of whichever state holds it, with a `removed` event in
--    its own queue (whose meta gets opts.maxLenEvents if it has none); a
--    descendant whose last pending child goes is released as above first
--    (marker, `waiting` event before that child's events) and then removed
--    from that list (prev `wait`, or `paused`);
--  - its keys (hash, logs, dependencies, processed, failed, unsuccessful)
--    and deduplication keys (`de:<id>` while it names the job, and 6.x's
--    `dn:<id>` with it);
--  - out of the failed set, and a `removed` event (prev failed) if any of
--    its keys existed: also for a job whose hash is gone (its logs, its
--    children go as well; status -1).
-- The events come in Job.remove's order: the parent's `waiting`, the
-- children's `removed`, the job's own.
-- Kept different on purpose: on a paused 6.x queue a released parent goes
-- to the legacy `paused` list, not `wait` (place.lua says why); a locked job
-- or tree is refused per job, not as a whole call; a large tree goes over
-- several calls (below), so its events interleave by call, a lost hash's
-- `removed` event is decided in its last call, and a descendant whose last
-- pending child went in an earlier call than itself is removed from
-- `waiting-children` (Job.remove, in one call, first releases it: see
-- released_at).
-- KEYS: 1 failed, 2 wait, 3 paused, 4 meta, 5 prioritized, 6 pc, 7 marker,
--       8 events, 9 active (the same list as replay.lua)
-- ARGV: 1 key prefix of the queue ("bull:q:"), 2, 3 unused, 4.. job ids or
--       a range (select.lua and place.lua, prepended when loaded)
-- Returns one status per id: purged, as 1, or as where its released parent
-- went ('wait' or 'paused'); -1 job hash missing (its id is taken out of
-- the failed set, its other keys and children removed), -2 locked (the
-- job, or a pending child of it), -3 not in the failed set, -8 the current
-- job of a job scheduler, -9 not yet: its children are being removed,
-- some each call (call again), -10 locked (a child), found after this call
-- had removed part of its tree, -11 unexpected data (a key of the wrong
-- type).
-- Work on children is bounded: a call reads and removes at most BUDGET
-- descendants, so a parent with a large tree is purged over several calls,
-- each well within 5 ms (a child costs about 20 us); BullMQ's Job.remove
-- does a whole tree in one call. A tree whose lock check does not fit in
-- one call is checked child by child as it is removed, so a lock found late
-- leaves the part already removed gone (-10; Job.remove is all or nothing).
local BUDGET = 100
local P = ARGV[1]
-- the prefix before the queue name ("bull"): queue names hold no ':'
local base = string.match(P, '^(.*):[^:]*:$')

local maxlen = {}
-- a queue's opts.maxLenEvents (false: none); set: write the default when
-- it has none, as BullMQ does before a `removed` event (getOrSetMaxEvents)
local function max_events(qp, set)
  local m = maxlen[qp]
  if m == nil then
    m = redis.call('HGET', qp .. 'meta', 'opts.maxLenEvents') or false
    maxlen[qp] = m
  end
  if not m and set then
    m = 10000
    redis.call('HSET', qp .. 'meta', 'opts.maxLenEvents', m)
    maxlen[qp] = m
  end
  return m
end

-- The events of the job being purged, written in Job.remove's order once
-- its part of the work is done (flush): the released parent's `waiting`
-- first, then its children's `removed`.
local evq = {}
local function flush()
  for _, e in ipairs(evq) do
    if e.max then
      redis.call('XADD', e.key, 'MAXLEN', '~', e.max, '*', unpack(e.f))
    else
      redis.call('XADD', e.key, '*', unpack(e.f))
    end
  end
  evq = {}
end

-- "bull:q:7" -> "bull:q:", "7"
local function split_key(k)
  local rest = string.sub(k, #base + 2)
  local q = string.match(rest, '^[^:]*')
  return base .. ':' .. q .. ':', string.sub(rest, #q + 2)
end

-- up to about `limit` members of a set (SSCAN) or fields of a hash (HSCAN),
-- appended to out. One that fits is read whole (SMEMBERS, HGETALL: the
-- order Job.remove walks them in); a large one a part at a time (removed
-- members leave it, and Redis shrinks a table under 10% full, so a scan
-- from the start finds the rest)
local function some_of(cmd, key, limit, out)
  local hash = cmd == 'HSCAN'
  local step = hash and 2 or 1
  local size = redis.call(hash and 'HLEN' or 'SCARD', key)
  if size == 0 then
    return out
  end
  if size <= limit then
    local all = redis.call(hash and 'HGETALL' or 'SMEMBERS', key)
    for j = 1, #all, step do
      out[#out + 1] = all[j]
    end
    return out
  end
  local cursor, n = '0', 0
  repeat
    local r = redis.call(cmd, key, cursor, 'COUNT', limit)
    cursor = r[1]
    for j = 1, #r[2], step do
      out[#out + 1] = r[2][j]
      n = n + 1
    end
  until cursor == '0' or n >= limit
  return out
end

-- a job, or any pending child of it, is locked; a tree too large to walk
-- here (`visits` over BUDGET) is checked child by child as it is removed
local visits, first = 0, 0 -- first: visits when this job's check began
local function locked(jk, depth)
  visits = visits + 1
  if visits > first + BUDGET then
    return false
  end
  if redis.call('EXISTS', jk .. ':lock') == 1 then
    return true
  end
  if depth > 32 then
    return false
  end
  for _, ck in ipairs(some_of('SSCAN', jk .. ':dependencies', BUDGET, {})) do
    if locked(ck, depth + 1) then
      return true
    end
  end
  return false
end

-- children of jk, up to about BUDGET of each kind, in Job.remove's order:
-- processed, failed (ignored), unsuccessful, pending
local function children(jk)
  local out = {}
  if redis.call('EXISTS', jk .. ':processed', jk .. ':failed', jk .. ':unsuccessful',
      jk .. ':dependencies') == 0 then
    return out
  end
  some_of('HSCAN', jk .. ':processed', BUDGET, out)
  if redis.call('TYPE', jk .. ':failed').ok == 'hash' then
    some_of('HSCAN', jk .. ':failed', BUDGET, out)
  end
  if redis.call('TYPE', jk .. ':unsuccessful').ok == 'zset' then
    for _, ck in ipairs(redis.call('ZRANGE', jk .. ':unsuccessful', 0, BUDGET - 1)) do out[#out + 1] = ck end
  end
  some_of('SSCAN', jk .. ':dependencies', BUDGET, out)
  return out
end

-- the lists of jk's children that children() reads still hold some (it
-- reads a part of a large one at a time)
local function has_children(jk)
  if redis.call('EXISTS', jk .. ':processed', jk .. ':dependencies') > 0 then
    return true
  end
  return redis.call('TYPE', jk .. ':failed').ok == 'hash' or
    redis.call('TYPE', jk .. ':unsuccessful').ok == 'zset'
end

-- ck, removed with the tree of the purged job, leaves the lists of its
-- parent pk (also being removed), so that a later call does not walk it
-- again. true: it was one of pk's pending children
local function unlink(pk, ck)
  local pending = redis.call('SREM', pk .. ':dependencies', ck) == 1
  redis.call('HDEL', pk .. ':processed', ck)
  if redis.call('TYPE', pk .. ':failed').ok == 'hash' then
    redis.call('HDEL', pk .. ':failed', ck)
  end
  if redis.call('TYPE', pk .. ':unsuccessful').ok == 'zset' then
    redis.call('ZREM', pk .. ':unsuccessful', ck)
  end
  return pending
end

-- family: the job may have children keys (else only its hash and logs).
-- Returns how many of its keys existed.
local function delete_keys(qp, id, deid, family)
  local jk = qp .. id
  if deid and redis.call('GET', qp .. 'de:' .. deid) == id then
    redis.call('DEL', qp .. 'de:' .. deid, qp .. 'dn:' .. deid)
  end
  if not family then
    return redis.call('DEL', jk, jk .. ':logs')
  end
  return redis.call('DEL', jk, jk .. ':logs', jk .. ':dependencies', jk .. ':processed',
    jk .. ':failed', jk .. ':unsuccessful')
end

-- Descendants that this call's removals left waiting for nothing: key ->
-- where the events of the child whose removal did it begin in evq.
-- Job.remove releases such a one to its list as that last pending child
-- goes (marker, `waiting` event), then removes it from there (prev `wait`);
-- so does this script when it removes the descendant in the same call.
local released_at = {}

-- a child ck of the purged job pk: its own children first, then it leaves
-- whichever state holds it, with a `removed` event in its queue, and pk's
-- lists. nil when done; 'locked' (a worker holds it) or 'budget' (this
-- call's share is spent).
local budget = BUDGET
local function remove_child(pk, ck, depth)
  if redis.call('EXISTS', ck .. ':lock') == 1 then
    return 'locked'
  end
  local mark = #evq + 1
  if depth <= 32 then
    for _, gk in ipairs(children(ck)) do
      local why = remove_child(ck, gk, depth + 1)
      if why then
        return why
      end
    end
    if has_children(ck) then
      return 'budget' -- more than one read's worth: the next call goes on
    end
  end
  if budget <= 0 then
    return 'budget'
  end
  budget = budget - 1
  local qp, id = split_key(ck)
  local prev
  if released_at[ck] and redis.call('ZREM', qp .. 'waiting-children', id) == 1 then
    local where, wake = place_where(qp .. 'meta', qp .. 'active', 0)
    if wake then
      redis.call('ZADD', qp .. 'marker', 0, '0')
    end
    table.insert(evq, released_at[ck], {key = qp .. 'events', max = max_events(qp, false),
      f = {'event', 'waiting', 'jobId', id, 'prev', 'waiting-children'}})
    prev = where
  end
  for _, s in ipairs(prev and {} or {'completed', 'waiting-children', 'delayed', 'failed', 'prioritized'}) do
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
    evq[#evq + 1] = {key = qp .. 'events', max = max_events(qp, true),
      f = {'event', 'removed', 'jobId', id, 'prev', prev or 'unknown'}}
  end
  if unlink(pk, ck) and redis.call('SCARD', pk .. ':dependencies') == 0 then
    released_at[pk] = mark
  end
end

-- The purged job jk leaves the pending children of its parent pk; a parent
-- then waiting for nothing more is released (place.lua's list, RPUSH: it
-- runs next). Returns where it went, or nil. Only the pending set changes:
-- the parent's records of failed children stay.
local function release_parent(pk, jk)
  if redis.call('EXISTS', pk) == 0 then
    return nil -- Job.remove leaves a parent whose hash is gone alone
  end
  local deps = pk .. ':dependencies'
  if redis.call('SISMEMBER', deps, jk) == 0 then
    return nil
  end
  local pq, pid = split_key(pk)
  -- reads first: a key of the wrong type stops the job here (-11), before
  -- any change
  local waiting = redis.call('ZSCORE', pq .. 'waiting-children', pid)
  if redis.call('SCARD', deps) > 1 or not waiting then
    redis.call('SREM', deps, jk)
    return nil
  end
  local where, wake = place_where(pq .. 'meta', pq .. 'active', 0)
  redis.call('LLEN', pq .. where)
  redis.call('ZCARD', pq .. 'marker')
  redis.call('XLEN', pq .. 'events')
  redis.call('SREM', deps, jk)
  redis.call('ZREM', pq .. 'waiting-children', pid)
  redis.call('RPUSH', pq .. where, pid)
  if wake then
    redis.call('ZADD', pq .. 'marker', 0, '0')
  end
  -- first of the job's events; trimmed only as the queue says (BullMQ's
  -- release sets no default)
  table.insert(evq, 1, {key = pq .. 'events', max = max_events(pq, false),
    f = {'event', 'waiting', 'jobId', pid, 'prev', 'waiting-children'}})
  return where
end

-- one job of the batch (in the failed set): its status; jobs whose keys
-- can go with the rest of the batch are added to dels
local gone, dels, again, events = {}, {}, {}, false
local function purge(id, some)
  local jk = P .. id
  -- every BullMQ job hash has opts: none means the hash is gone
  local f = redis.call('HMGET', jk, 'opts', 'rjk', 'parentKey', 'deid')
  local family, lock = false, false
  if some then
    lock = redis.call('EXISTS', jk .. ':lock') == 1
    family = redis.call('EXISTS', jk .. ':dependencies', jk .. ':processed',
      jk .. ':failed', jk .. ':unsuccessful') > 0
  end
  if family and base and not lock and (budget <= 0 or visits >= BUDGET) then
    -- this call's share of tree work is spent: a later call takes it
    again[#again + 1] = id
    return -9
  end
  first = visits
  if lock or (family and base and locked(jk, 0)) then
    return -2 -- never a locked job, nor one whose pending child is locked
  end
  -- the hash is gone: the rest of the job still goes, as with Job.remove
  -- (its hash told of no parent, deduplication or scheduler)
  local lost = not f[1] and redis.call('EXISTS', jk) == 0
  -- such a job gets its `removed` event when keys of it other than its
  -- pending set are there (Job.remove: when its DEL, after the children,
  -- deletes something; removing the children empties only that set)
  local told = not lost or redis.call('EXISTS', jk .. ':logs', jk .. ':processed', jk .. ':failed',
    jk .. ':unsuccessful') > 0
  if not lost and f[2] then
    local s = redis.call('ZSCORE', P .. 'repeat', f[2])
    if s and id == ('repeat:' .. f[2] .. ':' .. s) then
      return -8
    end
  end
  if family and base then
    local before = budget
    for _, ck in ipairs(children(jk)) do
      local why = remove_child(jk, ck, 1)
      if why == 'locked' then
        return budget < before and -10 or -2
      elseif why then
        again[#again + 1] = id
        return -9
      end
    end
    if has_children(jk) then
      again[#again + 1] = id -- more than one read's worth: the next call goes on
      return -9
    end
  end
  local placed
  if not lost and f[3] and f[3] ~= '' and base then
    placed = release_parent(f[3], jk)
  end
  if lost or family or f[4] then
    delete_keys(P, id, f[4], family)
    if not told then
      gone[#gone + 1] = id -- no event: Job.remove emits none either
      return -1
    end
  else -- the common case: deleted with the rest of the batch
    dels[#dels + 1] = jk
    dels[#dels + 1] = jk .. ':logs'
  end
  -- last, as Job.remove; trimmed once for the batch, below: the script is
  -- atomic, so readers see the same stream as with MAXLEN on every entry
  flush()
  redis.call('XADD', KEYS[8], '*', 'event', 'removed', 'jobId', id, 'prev', 'failed')
  events = true
  gone[#gone + 1] = id
  if lost then
    return -1
  end
  return placed or 1
end

local out = {}
-- not a stream, meta not a hash: the call fails here, before any change
redis.call('XLEN', KEYS[8])
max_events(P, false)
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
for i, id in ipairs(ids) do
  if not scores[i] then
    out[i] = -3
  else
    -- -11: unexpected data (a key of the wrong type); the rest goes on
    local ok, st = pcall(purge, id, some)
    out[i] = ok and st or -11
    -- what was done is told, also for a job left pending or stopped
    flush()
  end
end
if #dels > 0 then
  redis.call('DEL', unpack(dels))
end
if #gone > 0 then
  redis.call('ZREM', KEYS[1], unpack(gone))
end
if events then
  redis.call('XTRIM', KEYS[8], 'MAXLEN', '~', max_events(P, true))
end
return dead_reply(ids, out, range, gone, again)
