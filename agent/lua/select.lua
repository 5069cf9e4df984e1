-- bullwatch: the prologue shared by replay.lua and purge.lua (prepended to
-- each when loaded): which dead jobs a call acts on.
-- ARGV[4..]: job ids; or ARGV[4] = '' (no job id is empty) for a range:
-- ARGV[5] min and ARGV[6] max finishedOn (ZRANGEBYSCORE bounds), ARGV[7]
-- offset (jobs earlier calls left in the set), ARGV[8] limit; the oldest
-- first. Returns the ids, whether each is in the failed set, range mode.
local function dead_ids(failed)
  if ARGV[4] == '' then
    local ids = redis.call('ZRANGEBYSCORE', failed, ARGV[5], ARGV[6], 'LIMIT', ARGV[7], ARGV[8])
    local present = {}
    for i = 1, #ids do
      present[i] = true
    end
    return ids, present, true
  end
  local ids = {}
  for i = 4, #ARGV do
    ids[#ids + 1] = ARGV[i]
  end
  local ok, scores = pcall(redis.call, 'ZMSCORE', failed, unpack(ids))
  if not ok then -- Redis < 6.2
    scores = {}
    for i, id in ipairs(ids) do
      scores[i] = redis.call('ZSCORE', failed, id)
    end
  end
  return ids, scores, false
end

-- The reply: one status per id; in range mode {ids, statuses, for each 1
-- if the walk steps over it (left in the failed set), else 0}. removed: the
-- ids the call took out of the failed set; again: ids still there that the
-- walk must come back to (optional).
local function dead_reply(ids, out, range, removed, again)
  if not range then
    return out
  end
  local rm, kept = {}, {}
  for _, id in ipairs(removed) do
    rm[id] = true
  end
  for _, id in ipairs(again or {}) do
    rm[id] = true
  end
  for i, id in ipairs(ids) do
    kept[i] = rm[id] and 0 or 1
  end
  return {ids, out, kept}
end
