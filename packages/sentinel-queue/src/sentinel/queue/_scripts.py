"""Lua scripts that make each state change of a job one atomic step.

Every script receives all keys of the queue, in :data:`KEY_ORDER`, so it
names every key it may touch, and reads the clock with ``TIME`` so that
leases and delays do not depend on the clocks of the worker machines.

A job's mutable status is a small JSON object that only these scripts write
with ``cjson``. The job's payload and result are stored as opaque JSON text
that the scripts never decode, because ``cjson`` turns an empty list into an
object and rounds integers beyond 14 digits.
"""

from __future__ import annotations

KEY_ORDER = (
    "queued",
    "active",
    "delayed",
    "jobs",
    "status",
    "results",
    "progress",
    "unique",
    "done",
    "failed",
    "expires",
    "stats",
    "wake",
)

# At most this many wake tokens wait in the wake list; one token wakes one
# idle worker, which then fetches until the queue is empty.
WAKE_CAP = 64

_PRELUDE_TEMPLATE = """
local K = {}
for i, name in ipairs({@KEY_NAMES@}) do K[name] = KEYS[i] end

local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end

local function load_status(id)
  local raw = redis.call('HGET', K.status, id)
  if not raw then return nil end
  return cjson.decode(raw)
end

local function save_status(id, status)
  redis.call('HSET', K.status, id, cjson.encode(status))
end

local function wake()
  redis.call('LPUSH', K.wake, '1')
  redis.call('LTRIM', K.wake, 0, @WAKE_CAP@ - 1)
end

local function is_unfinished(state)
  return state == 'queued' or state == 'active' or state == 'delayed'
end

local function close_job(id, status, state, t, ttl, cap)
  status.state = state
  status.finished_at = t
  redis.call('ZREM', K.active, id)
  redis.call('HDEL', K.progress, id)
  save_status(id, status)
  local list = K.failed
  if state == 'done' then list = K.done end
  redis.call('LPUSH', list, id)
  redis.call('LTRIM', list, 0, cap - 1)
  redis.call('HINCRBY', K.stats, state, 1)
  redis.call('ZADD', K.expires, t + ttl, id)
  local ukey = status.unique_key
  if type(ukey) == 'string' and redis.call('HGET', K.unique, ukey) == id then
    redis.call('HDEL', K.unique, ukey)
  end
end
"""
_PRELUDE = _PRELUDE_TEMPLATE.replace(
    "@KEY_NAMES@", ", ".join(f"'{name}'" for name in KEY_ORDER)
).replace("@WAKE_CAP@", str(WAKE_CAP))

# ARGV: job id, job JSON, max attempts, unique key or ''.
# Returns {job id, 1} for a new job or {existing id, 0} for a duplicate.
ENQUEUE = (
    _PRELUDE
    + """
local id, spec, max_attempts, ukey = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
if ukey ~= '' then
  local existing = redis.call('HGET', K.unique, ukey)
  if existing then
    local status = load_status(existing)
    if status and is_unfinished(status.state) then return {existing, 0} end
  end
  redis.call('HSET', K.unique, ukey, id)
end
local status = {state = 'queued', attempts = 0, token = 0,
                max_attempts = max_attempts, enqueued_at = now()}
if ukey ~= '' then status.unique_key = ukey end
redis.call('HSET', K.jobs, id, spec)
save_status(id, status)
redis.call('LPUSH', K.queued, id)
wake()
return {id, 1}
"""
)

# ARGV: lease seconds, worker name, max delayed jobs to promote.
# Promotes due retries, then moves the oldest queued job to active.
# Returns {id, job JSON, status JSON} or {'', seconds until the next retry or ''}.
FETCH = (
    _PRELUDE
    + """
local lease, worker, limit = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local t = now()
local due = redis.call('ZRANGEBYSCORE', K.delayed, '-inf', t, 'LIMIT', 0, limit)
for _, id in ipairs(due) do
  redis.call('ZREM', K.delayed, id)
  local status = load_status(id)
  if status then
    status.state = 'queued'
    save_status(id, status)
    redis.call('LPUSH', K.queued, id)
  end
end
while true do
  local id = redis.call('RPOP', K.queued)
  if not id then
    local first = redis.call('ZRANGE', K.delayed, 0, 0, 'WITHSCORES')
    if first[2] then return {'', tostring(tonumber(first[2]) - t)} end
    return {'', ''}
  end
  local status = load_status(id)
  local spec = redis.call('HGET', K.jobs, id)
  -- A queued id without data was purged by hand; skip it rather than stall.
  if status and spec then
    status.state = 'active'
    status.attempts = status.attempts + 1
    status.token = status.token + 1
    status.started_at = t
    status.worker = worker
    save_status(id, status)
    redis.call('ZADD', K.active, t + lease, id)
    return {id, spec, cjson.encode(status)}
  end
end
"""
)

# ARGV: lease seconds, then pairs of job id and fencing token.
# Returns one flag per job: 1 renewed, 0 the job is no longer this worker's.
HEARTBEAT = (
    _PRELUDE
    + """
local lease = tonumber(ARGV[1])
local t = now()
local renewed = {}
for i = 2, #ARGV, 2 do
  local id, token = ARGV[i], tonumber(ARGV[i + 1])
  local status = load_status(id)
  if status and status.state == 'active' and status.token == token then
    redis.call('ZADD', K.active, 'XX', t + lease, id)
    renewed[#renewed + 1] = 1
  else
    renewed[#renewed + 1] = 0
  end
end
return renewed
"""
)

# ARGV: job id, fencing token, result JSON, seconds to keep the job, list cap.
# Returns 1 when stored, 0 when the token is stale.
FINISH = (
    _PRELUDE
    + """
local id, token = ARGV[1], tonumber(ARGV[2])
local status = load_status(id)
if not status or status.state ~= 'active' or status.token ~= token then return 0 end
redis.call('HSET', K.results, id, ARGV[3])
status.error = nil
close_job(id, status, 'done', now(), tonumber(ARGV[4]), tonumber(ARGV[5]))
return 1
"""
)

# ARGV: job id, fencing token, error text, retry delay in seconds (negative:
# never retry), seconds to keep the job, list cap.
# Returns 'retry', 'failed' or 'stale'.
FAIL = (
    _PRELUDE
    + """
local id, token, delay = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[4])
local status = load_status(id)
if not status or status.state ~= 'active' or status.token ~= token then
  return 'stale'
end
status.error = ARGV[3]
local t = now()
if delay >= 0 and status.attempts < status.max_attempts then
  status.state = 'delayed'
  redis.call('ZREM', K.active, id)
  redis.call('HDEL', K.progress, id)
  redis.call('ZADD', K.delayed, t + delay, id)
  save_status(id, status)
  return 'retry'
end
close_job(id, status, 'failed', t, tonumber(ARGV[5]), tonumber(ARGV[6]))
return 'failed'
"""
)

# ARGV: job id, fencing token. Gives an unfinished job back without using up
# the attempt, at the head of the queue. Returns 1, or 0 when the token is stale.
RELEASE = (
    _PRELUDE
    + """
local id, token = ARGV[1], tonumber(ARGV[2])
local status = load_status(id)
if not status or status.state ~= 'active' or status.token ~= token then return 0 end
status.state = 'queued'
status.attempts = status.attempts - 1
redis.call('ZREM', K.active, id)
redis.call('HDEL', K.progress, id)
save_status(id, status)
redis.call('RPUSH', K.queued, id)
wake()
return 1
"""
)

# ARGV: max jobs to handle, seconds to keep failed jobs, list cap.
# Requeues active jobs whose lease expired (or fails them when no attempt is
# left) and deletes finished jobs whose time is up.
# Returns {requeued ids, failed ids}.
RECOVER = (
    _PRELUDE
    + """
local limit, ttl, cap = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = now()
local requeued, failed = {}, {}
local expired = redis.call('ZRANGEBYSCORE', K.active, '-inf', t, 'LIMIT', 0, limit)
for _, id in ipairs(expired) do
  local status = load_status(id)
  if not status then
    redis.call('ZREM', K.active, id)
  else
    status.error = 'lease expired during attempt ' .. status.attempts .. ' of ' ..
      status.max_attempts .. ': the worker stopped or lost its connection'
    if status.attempts >= status.max_attempts then
      close_job(id, status, 'failed', t, ttl, cap)
      failed[#failed + 1] = id
    else
      status.state = 'queued'
      redis.call('ZREM', K.active, id)
      redis.call('HDEL', K.progress, id)
      save_status(id, status)
      redis.call('RPUSH', K.queued, id)
      requeued[#requeued + 1] = id
    end
  end
end
if #requeued > 0 then wake() end
local stale = redis.call('ZRANGEBYSCORE', K.expires, '-inf', t, 'LIMIT', 0, limit)
for _, id in ipairs(stale) do
  redis.call('HDEL', K.jobs, id)
  redis.call('HDEL', K.status, id)
  redis.call('HDEL', K.results, id)
  redis.call('ZREM', K.expires, id)
end
return {requeued, failed}
"""
)

# ARGV: 'done' or 'failed' and a limit, or 'ids' followed by job ids.
# Returns a flat list of id, job JSON, status JSON, result JSON, progress JSON
# per job, with false for a missing part.
READ = (
    _PRELUDE
    + """
local ids
if ARGV[1] == 'ids' then
  ids = {}
  for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
else
  ids = redis.call('LRANGE', K[ARGV[1]], 0, tonumber(ARGV[2]) - 1)
end
local out = {}
for _, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', K.jobs, id)
  out[#out + 1] = redis.call('HGET', K.status, id)
  out[#out + 1] = redis.call('HGET', K.results, id)
  out[#out + 1] = redis.call('HGET', K.progress, id)
end
return out
"""
)

# Returns {queued, active, delayed, done, failed} as one consistent snapshot.
COUNTS = (
    _PRELUDE
    + """
return {
  redis.call('LLEN', K.queued),
  redis.call('ZCARD', K.active),
  redis.call('ZCARD', K.delayed),
  tonumber(redis.call('HGET', K.stats, 'done') or 0),
  tonumber(redis.call('HGET', K.stats, 'failed') or 0),
}
"""
)
