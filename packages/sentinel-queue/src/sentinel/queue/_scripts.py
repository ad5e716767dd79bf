"""Lua scripts that make each state change of a job one atomic step.

Every script receives all keys of the queue, in :data:`KEY_ORDER`, so it
names every key it may touch (all share one hash tag, so a queue works on
Redis Cluster), and reads the clock with ``TIME`` so that leases and delays
do not depend on the clocks of the worker machines.

A job's mutable status is a small JSON object that only these scripts write
with ``cjson``. ``cjson`` prints numbers with 14 significant digits, so
timestamps are stored as strings of integer microseconds, never as numbers.
The job's payload and result are opaque JSON text that the scripts never
decode, because ``cjson`` turns an empty list into an object.

The queued jobs are a sorted set scored by priority and then by order of
arrival: ``-priority * 2^40 + sequence``, so ``ZPOPMIN`` takes the highest
priority first and jobs of one priority in order.
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
    "cancelled",
)

# At most this many wake tokens wait in the wake list; one token wakes one
# idle worker, which then fetches until the queue is empty.
WAKE_CAP = 64
# Priorities range over -PRIORITY_LIMIT..PRIORITY_LIMIT; higher runs first.
PRIORITY_LIMIT = 1000

_PRELUDE_TEMPLATE = """
local K = {}
for i, name in ipairs({@KEY_NAMES@}) do K[name] = KEYS[i] end

-- Seconds as a number (for sorted-set scores) and integer microseconds as
-- a string (for stored timestamps, which must keep full precision).
local function clock()
  local t = redis.call('TIME')
  local us = t[1] .. string.format('%06d', tonumber(t[2]))
  return tonumber(t[1]) + tonumber(t[2]) / 1000000, us
end

local function load_status(id)
  local raw = redis.call('HGET', K.status, id)
  if not raw then return nil end
  return cjson.decode(raw)
end

local function save_status(id, status)
  redis.call('HSET', K.status, id, cjson.encode(status))
end

-- LPUSH returns the new length, so a capped list is trimmed only when it
-- outgrew its cap by a margin: one command per push, and one LTRIM per
-- `margin` pushes. Readers of capped lists never look past the cap.
local function push_capped(key, value, cap, margin)
  local length
  if type(value) == 'table' then
    length = redis.call('LPUSH', key, unpack(value))
  else
    length = redis.call('LPUSH', key, value)
  end
  if length > cap + (margin or 0) then
    redis.call('LTRIM', key, 0, cap - 1)
  end
end

local function wake()
  push_capped(K.wake, '1', @WAKE_CAP@)
end

-- Jobs finished per final state in this call, added to the stats hash
-- once at the end of the script rather than once per job.
local tallies = {}

local function flush_tallies()
  for state, n in pairs(tallies) do redis.call('HINCRBY', K.stats, state, n) end
  tallies = {}
end

-- Progress reports exist only for jobs whose status carries the flag `p`,
-- so most jobs finish without an HDEL.
local function drop_progress(id, status)
  if status.p then
    redis.call('HDEL', K.progress, id)
    status.p = nil
  end
end

local function is_unfinished(state)
  return state == 'queued' or state == 'active' or state == 'delayed'
end

local function queue_score(status)
  return -(status.priority or 0) * 1099511627776 + status.seq
end

local function push_queued(id, status)
  status.state = 'queued'
  save_status(id, status)
  redis.call('ZADD', K.queued, queue_score(status), id)
end

local function drop_unique(id, status)
  local ukey = status.unique_key
  if type(ukey) == 'string' and redis.call('HGET', K.unique, ukey) == id then
    redis.call('HDEL', K.unique, ukey)
  end
end

-- The caller runs flush_tallies() before the script returns.
local function close_job(id, status, state, t, us, ttl, cap)
  local was = status.state
  if was == 'active' or was == 'queued' or was == 'delayed' then
    redis.call('ZREM', K[was], id)
  else
    redis.call('ZREM', K.active, id)
    redis.call('ZREM', K.queued, id)
    redis.call('ZREM', K.delayed, id)
  end
  status.state = state
  status.finished_at = us
  drop_progress(id, status)
  save_status(id, status)
  -- K.done, K.failed or K.cancelled.
  push_capped(K[state], id, cap, math.floor(cap / 8))
  tallies[state] = (tallies[state] or 0) + 1
  redis.call('ZADD', K.expires, t + ttl, id)
  drop_unique(id, status)
end

local function promote_due(t, limit)
  local due = redis.call('ZRANGEBYSCORE', K.delayed, '-inf', t, 'LIMIT', 0, limit)
  for _, id in ipairs(due) do
    redis.call('ZREM', K.delayed, id)
    local status = load_status(id)
    if status then push_queued(id, status) end
  end
end

-- A token bucket of `rate` jobs a second holding at most `burst`; returns
-- how many of `want` jobs may start now.
local function take_tokens(t, want, rate, burst)
  if rate <= 0 then return want end
  local state = redis.call('HMGET', K.stats, 'bucket_tokens', 'bucket_at')
  local tokens = tonumber(state[1]) or burst
  local at = tonumber(state[2]) or t
  tokens = math.min(burst, tokens + math.max(0, t - at) * rate)
  local n = math.min(want, math.floor(tokens))
  redis.call('HSET', K.stats, 'bucket_tokens', tostring(tokens - n),
             'bucket_at', tostring(t))
  return n
end

-- Counts the attempt of the current delivery of an active job when it
-- starts; a delivery that never started spends no attempt. Returns 1 when
-- marked (or already marked), 0 when the token is stale.
local function start_job(id, token, us)
  local status = load_status(id)
  if not status or status.state ~= 'active' or status.token ~= token then return 0 end
  if status.started ~= token then
    status.attempts = status.attempts + 1
    status.started = token
    status.started_at = us
    save_status(id, status)
  end
  return 1
end

-- Moves up to `count` queued jobs to active for `worker` and appends
-- id, job JSON and status JSON of each to `out`. The first `starts` of
-- them are marked started: their attempt is counted now.
local function take_jobs(out, t, us, lease, worker, count, starts)
  local taken = 0
  while taken < count do
    -- One ZPOPMIN and one ZADD per chunk of jobs, not per job.
    local popped = redis.call('ZPOPMIN', K.queued, math.min(count - taken, 100))
    if #popped == 0 then break end
    local leased = {}
    for i = 1, #popped, 2 do
      local id = popped[i]
      local status = load_status(id)
      local spec = redis.call('HGET', K.jobs, id)
      -- A queued id without data was purged by hand; skip it rather than stall.
      if status and spec then
        status.state = 'active'
        status.token = status.token + 1
        status.started = nil
        status.leased_at = us
        status.worker = worker
        if taken < starts then
          status.attempts = status.attempts + 1
          status.started = status.token
          status.started_at = us
        end
        local encoded = cjson.encode(status)
        redis.call('HSET', K.status, id, encoded)
        leased[#leased + 1] = t + lease
        leased[#leased + 1] = id
        out[#out + 1] = id
        out[#out + 1] = spec
        out[#out + 1] = encoded
        taken = taken + 1
      end
    end
    if #leased > 0 then redis.call('ZADD', K.active, unpack(leased)) end
  end
end

local function finish_job(id, token, result, t, us, ttl, cap)
  local status = load_status(id)
  if not status or status.state ~= 'active' or status.token ~= token then return 0 end
  -- A result proves the delivery ran, whether or not its start was marked.
  if status.started ~= token then
    status.attempts = status.attempts + 1
    status.started = token
  end
  -- A missing result reads as null, so a null result costs no HSET.
  if result ~= 'null' then redis.call('HSET', K.results, id, result) end
  status.error = nil
  close_job(id, status, 'done', t, us, ttl, cap)
  return 1
end
"""
_PRELUDE = _PRELUDE_TEMPLATE.replace(
    "@KEY_NAMES@", ", ".join(f"'{name}'" for name in KEY_ORDER)
).replace("@WAKE_CAP@", str(WAKE_CAP))

# ARGV: one group of six arguments per job: job id, job JSON, max attempts,
# unique key or '', priority, delay in seconds (<= 0: run now).
# Returns, per job in order, its id and 1 when added, or the id of the
# unfinished job holding its unique key and 0.
ENQUEUE = (
    _PRELUDE
    + """
local t, us = clock()
local n = #ARGV / 6
-- One HINCRBY reserves the arrival order of every job of the call.
local seq = redis.call('HINCRBY', K.stats, 'seq', n) - n
local reply, woken = {}, 0
for i = 1, #ARGV, 6 do
  local id, spec, max_attempts, ukey = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]),
                                       ARGV[i + 3]
  local priority, delay = tonumber(ARGV[i + 4]), tonumber(ARGV[i + 5])
  seq = seq + 1
  local existing = nil
  if ukey ~= '' then
    existing = redis.call('HGET', K.unique, ukey)
    if existing then
      local status = load_status(existing)
      if not (status and is_unfinished(status.state)) then existing = nil end
    end
  end
  if existing then
    reply[#reply + 1] = existing
    reply[#reply + 1] = 0
  else
    local status = {state = 'queued', attempts = 0, token = 0, priority = priority,
                    seq = seq, max_attempts = max_attempts, enqueued_at = us}
    if ukey ~= '' then
      status.unique_key = ukey
      redis.call('HSET', K.unique, ukey, id)
    end
    redis.call('HSET', K.jobs, id, spec)
    if delay > 0 then
      status.state = 'delayed'
      save_status(id, status)
      redis.call('ZADD', K.delayed, t + delay, id)
    else
      push_queued(id, status)
    end
    woken = woken + 1
    reply[#reply + 1] = id
    reply[#reply + 1] = 1
  end
end
-- One wake token per added job, up to the cap, in one push (a delayed job's
-- token tells idle workers when it is due).
if woken > 0 then
  local tokens = {}
  for i = 1, math.min(woken, @WAKE_CAP@) do tokens[i] = '1' end
  push_capped(K.wake, tokens, @WAKE_CAP@)
end
return reply
"""
).replace("@WAKE_CAP@", str(WAKE_CAP))

# ARGV: lease seconds, worker name, jobs to fetch, seconds to keep done jobs,
# list cap, concurrency limit (0: none), rate per second (0: none), burst,
# how many of the fetched jobs to mark started, the id and fencing token of
# a leased job to mark started ('' and 0: none), then id, fencing token and
# result JSON of each job to acknowledge as done.
# Acknowledges first, marks the start, promotes due delayed jobs, then
# leases up to the requested number of jobs, so a worker makes one call per
# job it starts (or per batch, when it marks a whole batch started).
# Returns {acks, started, jobs, wait}: one flag per acknowledged job (1
# stored, 0 stale), 1 when the start was marked (0 stale or none asked),
# id/job JSON/status JSON triples, and when no job was taken the seconds
# until a delayed job is due or ''.
ACK_FETCH = (
    _PRELUDE
    + """
local lease, worker, count = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local ttl, cap = tonumber(ARGV[4]), tonumber(ARGV[5])
local limit, rate, burst = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local starts, start_id, start_token = tonumber(ARGV[9]), ARGV[10], tonumber(ARGV[11])
local t, us = clock()
local acks = {}
for i = 12, #ARGV, 3 do
  acks[#acks + 1] = finish_job(ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2],
                               t, us, ttl, cap)
end
flush_tallies()
local started = 0
if start_id ~= '' then started = start_job(start_id, start_token, us) end
local jobs = {}
if count > 0 then
  promote_due(t, 100)
  if limit > 0 then
    count = math.min(count, limit - redis.call('ZCARD', K.active))
  end
  if count > 0 and rate > 0 and redis.call('ZCARD', K.queued) > 0 then
    count = take_tokens(t, count, rate, burst)
  end
  if count > 0 then take_jobs(jobs, t, us, lease, worker, count, starts) end
end
local wait = ''
if #jobs == 0 and tonumber(ARGV[3]) > 0 then
  local first = redis.call('ZRANGE', K.delayed, 0, 0, 'WITHSCORES')
  if first[2] then wait = tostring(tonumber(first[2]) - t) end
  if redis.call('ZCARD', K.queued) > 0 then wait = '0.05' end
end
return {acks, started, jobs, wait}
"""
)

# ARGV: lease seconds, then pairs of job id and fencing token.
# Returns one flag per job: 1 renewed, 0 the job is no longer this worker's,
# 2 renewed but cancellation was requested.
HEARTBEAT = (
    _PRELUDE
    + """
local lease = tonumber(ARGV[1])
local t = clock()
local renewed = {}
for i = 2, #ARGV, 2 do
  local id, token = ARGV[i], tonumber(ARGV[i + 1])
  local status = load_status(id)
  if status and status.state == 'active' and status.token == token then
    redis.call('ZADD', K.active, 'XX', t + lease, id)
    if status.cancel then renewed[#renewed + 1] = 2
    else renewed[#renewed + 1] = 1 end
  else
    renewed[#renewed + 1] = 0
  end
end
return renewed
"""
)

# ARGV: job id, fencing token, error text, retry delay in seconds (negative:
# never retry), seconds to keep the job, list cap, final state ('failed' or
# 'cancelled').
# Returns 'retry', 'failed', 'cancelled' or 'stale'.
FAIL = (
    _PRELUDE
    + """
local id, token, delay = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[4])
local status = load_status(id)
if not status or status.state ~= 'active' or status.token ~= token then
  return 'stale'
end
status.error = ARGV[3]
-- A failure proves the delivery ran, whether or not its start was marked.
if status.started ~= token then
  status.attempts = status.attempts + 1
  status.started = token
end
local t, us = clock()
if status.cancel then
  close_job(id, status, 'cancelled', t, us, tonumber(ARGV[5]), tonumber(ARGV[6]))
  flush_tallies()
  return 'cancelled'
end
if delay >= 0 and status.attempts < status.max_attempts then
  status.state = 'delayed'
  redis.call('ZREM', K.active, id)
  drop_progress(id, status)
  redis.call('ZADD', K.delayed, t + delay, id)
  save_status(id, status)
  return 'retry'
end
close_job(id, status, ARGV[7], t, us, tonumber(ARGV[5]), tonumber(ARGV[6]))
flush_tallies()
return ARGV[7]
"""
)

# ARGV: pairs of job id and fencing token. Gives unfinished jobs back
# without using up their attempt: a started delivery's attempt is undone.
# Returns one flag per job: 1 released, 0 stale token.
RELEASE = (
    _PRELUDE
    + """
local released = {}
for i = 1, #ARGV, 2 do
  local id, token = ARGV[i], tonumber(ARGV[i + 1])
  local status = load_status(id)
  if status and status.state == 'active' and status.token == token then
    if status.started == token then status.attempts = status.attempts - 1 end
    status.started = nil
    redis.call('ZREM', K.active, id)
    drop_progress(id, status)
    push_queued(id, status)
    released[#released + 1] = 1
  else
    released[#released + 1] = 0
  end
end
wake()
return released
"""
)

# ARGV: job id, fencing token, progress JSON.
# Stores the progress of an active job; returns 0 when the token is stale.
PROGRESS = (
    _PRELUDE
    + """
local id, token = ARGV[1], tonumber(ARGV[2])
local status = load_status(id)
if not status or status.state ~= 'active' or status.token ~= token then return 0 end
redis.call('HSET', K.progress, id, ARGV[3])
if not status.p then
  status.p = true
  save_status(id, status)
end
return 1
"""
)

# ARGV: max jobs to handle, seconds to keep failed jobs, list cap, lease.
# Requeues active jobs whose lease expired (or fails them when no attempt is
# left; a delivery that never started goes back without spending an
# attempt), promotes due delayed jobs and deletes finished jobs whose time
# is up.
# A server that started less than a lease ago was down, so no heartbeat
# could renew anything: then every lease is extended by one lease instead
# of expiring jobs whose workers are still running them.
# Returns {requeued ids, failed ids}.
RECOVER = (
    _PRELUDE
    + """
local limit, ttl, cap = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local lease = tonumber(ARGV[4])
local t, us = clock()
local requeued, failed = {}, {}
local info = redis.call('INFO', 'server')
local uptime = tonumber(string.match(info, 'uptime_in_seconds:(%d+)') or lease)
local expired = {}
if uptime < lease then
  local active = redis.call('ZRANGE', K.active, 0, -1)
  for _, id in ipairs(active) do
    redis.call('ZADD', K.active, 'GT', t + lease, id)
  end
else
  expired = redis.call('ZRANGEBYSCORE', K.active, '-inf', t, 'LIMIT', 0, limit)
end
for _, id in ipairs(expired) do
  local status = load_status(id)
  if not status then
    redis.call('ZREM', K.active, id)
  elseif status.started ~= status.token and not status.cancel then
    status.started = nil
    redis.call('ZREM', K.active, id)
    drop_progress(id, status)
    push_queued(id, status)
    requeued[#requeued + 1] = id
  else
    status.error = 'lease expired during attempt ' .. status.attempts .. ' of ' ..
      status.max_attempts .. ': the worker stopped or lost its connection'
    if status.cancel then
      close_job(id, status, 'cancelled', t, us, ttl, cap)
    elseif status.attempts >= status.max_attempts then
      close_job(id, status, 'failed', t, us, ttl, cap)
      failed[#failed + 1] = id
    else
      redis.call('ZREM', K.active, id)
      drop_progress(id, status)
      push_queued(id, status)
      requeued[#requeued + 1] = id
    end
  end
end
flush_tallies()
promote_due(t, limit)
if #requeued > 0 then wake() end
local stale = redis.call('ZRANGEBYSCORE', K.expires, '-inf', t, 'LIMIT', 0, limit)
for _, id in ipairs(stale) do
  -- Markers of enqueued cron ticks live in the stats hash.
  if string.sub(id, 1, 5) == 'tick:' then redis.call('HDEL', K.stats, id) end
  redis.call('HDEL', K.jobs, id)
  redis.call('HDEL', K.status, id)
  redis.call('HDEL', K.results, id)
  redis.call('HDEL', K.progress, id)
  redis.call('ZREM', K.expires, id)
end
return {requeued, failed}
"""
)

# ARGV: job id, seconds to keep the job, list cap.
# A queued or delayed job is cancelled at once; an active one is marked, and
# its worker learns it from the next heartbeat.
# Returns 'cancelled', 'cancelling', 'finished' (already done, failed or
# cancelled) or 'unknown'.
CANCEL = (
    _PRELUDE
    + """
local id = ARGV[1]
local status = load_status(id)
if not status then return 'unknown' end
if status.state == 'queued' or status.state == 'delayed' then
  local t, us = clock()
  status.error = 'cancelled'
  close_job(id, status, 'cancelled', t, us, tonumber(ARGV[2]), tonumber(ARGV[3]))
  flush_tallies()
  return 'cancelled'
end
if status.state == 'active' then
  status.cancel = true
  save_status(id, status)
  return 'cancelling'
end
return 'finished'
"""
)

# ARGV: job id, with 'reset' to start its attempts from zero.
# Queues a failed or cancelled job again. Returns 1, or 0 when the job is
# unknown or not finished as failed or cancelled.
REQUEUE = (
    _PRELUDE
    + """
local id = ARGV[1]
local status = load_status(id)
if not status or (status.state ~= 'failed' and status.state ~= 'cancelled') then
  return 0
end
local t, us = clock()
redis.call('LREM', K.failed, 0, id)
redis.call('LREM', K.cancelled, 0, id)
redis.call('ZREM', K.expires, id)
redis.call('HDEL', K.results, id)
status.attempts = 0
status.started = nil
status.cancel = nil
status.error = nil
status.finished_at = nil
status.seq = redis.call('HINCRBY', K.stats, 'seq', 1)
status.requeued_at = us
push_queued(id, status)
wake()
return 1
"""
)

# ARGV: state to purge ('queued', 'delayed', 'done', 'failed' or
# 'cancelled'), limit.
# Deletes up to `limit` jobs in that state; returns how many.
PURGE = (
    _PRELUDE
    + """
local state, limit = ARGV[1], tonumber(ARGV[2])
local ids
if state == 'queued' or state == 'delayed' then
  ids = redis.call('ZRANGE', K[state], 0, limit - 1)
else
  ids = redis.call('LRANGE', K[state], 0, limit - 1)
end
for _, id in ipairs(ids) do
  local status = load_status(id)
  if status then drop_unique(id, status) end
  redis.call('ZREM', K.queued, id)
  redis.call('ZREM', K.delayed, id)
  if state ~= 'queued' and state ~= 'delayed' then
    redis.call('LREM', K[state], 0, id)
  end
  redis.call('ZREM', K.expires, id)
  redis.call('HDEL', K.jobs, id)
  redis.call('HDEL', K.status, id)
  redis.call('HDEL', K.results, id)
  redis.call('HDEL', K.progress, id)
end
return #ids
"""
)

# ARGV: 'done', 'failed' or 'cancelled' and a limit, an offset and the list
# cap, 'queued',
# 'delayed' or 'active' and a limit and an offset, or 'ids' followed by job
# ids.
# Returns a flat list of id, job JSON, status JSON, result JSON, progress JSON
# per job, with false for a missing part.
READ = (
    _PRELUDE
    + """
local ids
local what = ARGV[1]
if what == 'ids' then
  ids = {}
  for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
else
  local first = tonumber(ARGV[3] or 0)
  local last = first + tonumber(ARGV[2]) - 1
  if what == 'done' or what == 'failed' or what == 'cancelled' then
    -- The lists may run past their cap until the next trim.
    if ARGV[4] then last = math.min(last, tonumber(ARGV[4]) - 1) end
    ids = redis.call('LRANGE', K[what], first, last)
  else
    ids = redis.call('ZRANGE', K[what], first, last)
  end
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

# ARGV: optionally the list cap.
# Returns {queued, active, delayed, done, failed, cancelled} as one snapshot,
# where the last three count the jobs finished since the queue was created.
# With the cap, three more numbers follow: the done, failed and cancelled jobs
# whose records are still stored (not expired or purged).
COUNTS = (
    _PRELUDE
    + """
local counts = {
  redis.call('ZCARD', K.queued),
  redis.call('ZCARD', K.active),
  redis.call('ZCARD', K.delayed),
  tonumber(redis.call('HGET', K.stats, 'done') or 0),
  tonumber(redis.call('HGET', K.stats, 'failed') or 0),
  tonumber(redis.call('HGET', K.stats, 'cancelled') or 0),
}
if ARGV[1] then
  -- Expiry removes a job's records but leaves its id in the capped list.
  local cap = tonumber(ARGV[1])
  for _, state in ipairs({'done', 'failed', 'cancelled'}) do
    local stored = 0
    for _, id in ipairs(redis.call('LRANGE', K[state], 0, cap - 1)) do
      stored = stored + redis.call('HEXISTS', K.status, id)
    end
    counts[#counts + 1] = stored
  end
end
return counts
"""
)

# ARGV: cron tick id (the schedule name and the tick's time), seconds to keep
# the marker, then the ENQUEUE arguments.
# Enqueues the tick's job unless another scheduler already did.
# Returns the job id, or '' when the tick was enqueued before.
ENQUEUE_TICK = (
    _PRELUDE
    + """
local field = 'tick:' .. ARGV[1]
if redis.call('HSETNX', K.stats, field, ARGV[3]) == 0 then return '' end
local t = clock()
redis.call('ZADD', K.expires, t + tonumber(ARGV[2]), field)
local id, spec, max_attempts = ARGV[3], ARGV[4], tonumber(ARGV[5])
local status = {state = 'queued', attempts = 0, token = 0,
                priority = tonumber(ARGV[7]),
                seq = redis.call('HINCRBY', K.stats, 'seq', 1),
                max_attempts = max_attempts, enqueued_at = select(2, clock())}
redis.call('HSET', K.jobs, id, spec)
push_queued(id, status)
wake()
return id
"""
)
