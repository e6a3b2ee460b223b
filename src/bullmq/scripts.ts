/**
 * The Lua scripts that make the pool's Redis steps atomic. Each is one round trip and runs alone on the
 * server, so no check-then-act race exists between producers or workers.
 * @module
 */
import type { Redis } from 'ioredis';

/** Grants up to ARGV[2] leases to producer ARGV[1], keeping the sum over producers at most ARGV[3]. */
const ACQUIRE = `
local total = 0
local held = redis.call('HVALS', KEYS[1])
for i = 1, #held do total = total + tonumber(held[i]) end
local grant = math.min(tonumber(ARGV[2]), tonumber(ARGV[3]) - total)
if grant <= 0 then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], grant)
return grant
`;

/** Gives back ARGV[2] leases of producer ARGV[1] and tells waiting producers (channel ARGV[3]). */
const RELEASE = `
local left = redis.call('HINCRBY', KEYS[1], ARGV[1], -tonumber(ARGV[2]))
if left <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
redis.call('PUBLISH', ARGV[3], ARGV[1])
return left
`;

/**
 * Appends an outcome to a producer's stream (KEYS[1]); nothing when the producer (ARGV[4]) is no longer
 * registered (KEYS[2]): it closed, and nobody will read it. The stream's time to live is the producer's to
 * set and renew, with its heartbeat: the stream of a producer that died goes by itself.
 */
const NOTIFY = `
if redis.call('ZSCORE', KEYS[2], ARGV[4]) == false then return 0 end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', '100000', '*', 't', ARGV[1], 'k', ARGV[2], 'v', ARGV[3])
return 1
`;

/**
 * Adds ARGV[1] to a shared group's count (KEYS[1]), never below zero: returns {1, count} or {0, count} when
 * refused. At zero the key goes and the group's channel (ARGV[2]) hears it; otherwise it lives ARGV[3] ms.
 */
const GROUP_ADD = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
local next = count + tonumber(ARGV[1])
if next < 0 then return {0, count} end
if next == 0 then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], '0')
else
  redis.call('SET', KEYS[1], next, 'PX', ARGV[3])
end
return {1, next}
`;

/**
 * Reclaims the leases of producers whose heartbeat (KEYS[1], id → ms) is older than ARGV[2] ms at ARGV[1]:
 * each keeps as many leases (KEYS[2]) as it has jobs still in the queue (lists and sets of ARGV[3], the
 * queue's key prefix: a job's data starts with its producer, `{"p":"<id>"`), and leaves once it has none; waiting producers
 * hear of it on ARGV[4]. Admission bounds the queue, so the scan is bounded by the pool's capacity.
 */
const RECLAIM = `
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if #dead == 0 then return 0 end
local ids = {}
for _, list in ipairs({'wait', 'active', 'paused'}) do
  for _, id in ipairs(redis.call('LRANGE', ARGV[3] .. list, 0, -1)) do ids[#ids + 1] = id end
end
for _, set in ipairs({'delayed', 'prioritized', 'waiting-children'}) do
  for _, id in ipairs(redis.call('ZRANGE', ARGV[3] .. set, 0, -1)) do ids[#ids + 1] = id end
end
local owners = {}
for _, id in ipairs(ids) do
  local data = redis.call('HGET', ARGV[3] .. id, 'data')
  if data then
    local owner = string.match(data, '^{"p":"([^"]*)"')
    if owner then owners[owner] = (owners[owner] or 0) + 1 end
  end
end
for _, p in ipairs(dead) do
  local jobs = owners[p] or 0
  if jobs == 0 then
    redis.call('HDEL', KEYS[2], p)
    redis.call('ZREM', KEYS[1], p)
  else
    redis.call('HSET', KEYS[2], p, jobs)
  end
end
redis.call('PUBLISH', ARGV[4], 'reclaimed')
return #dead
`;

/**
 * Lets one attempt start, or says how long to wait: the pool's pause (KEYS[3], its time to live) and every
 * rate window of the pool (KEYS[1]: `limit:interval,…`) over the log of starts (KEYS[2], a sorted set scored
 * by start time). A window has room when fewer than `limit` starts lie in `(now - interval, now]`; else the
 * wait is until the oldest start that must leave has left. Time is Redis's own, so every worker counts on one
 * clock. Returns `{wait, now, active}` as strings (ms with a fraction; active: '1' while a rate or a pause
 * is set, so that a worker stops asking once neither is); a start is recorded (as ARGV[1]) only when the
 * wait is 0.
 */
const RATE_START = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local wait = 0
local hold = redis.call('PTTL', KEYS[3])
if hold > 0 then wait = hold end
local cfg = redis.call('GET', KEYS[1])
local longest = 0
if cfg then
  for limit, interval in string.gmatch(cfg, '(%d+):([%d%.]+)') do
    limit = tonumber(limit)
    interval = tonumber(interval)
    if interval > longest then longest = interval end
    local from = '(' .. string.format('%.3f', now - interval)
    local n = redis.call('ZCOUNT', KEYS[2], from, '+inf')
    if n >= limit then
      local oldest = redis.call('ZRANGEBYSCORE', KEYS[2], from, '+inf', 'WITHSCORES', 'LIMIT', n - limit, 1)
      local w = tonumber(oldest[2]) + interval - now
      if w > wait then wait = w end
    end
  end
end
local active = (cfg or hold > 0) and '1' or '0'
if wait > 0 then return {string.format('%.3f', wait), string.format('%.3f', now), active} end
if longest > 0 then
  redis.call('ZADD', KEYS[2], string.format('%.3f', now), ARGV[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', string.format('%.3f', now - longest))
  redis.call('PEXPIRE', KEYS[2], math.ceil(longest))
end
return {'0', string.format('%.3f', now), active}
`;

/** Holds every start of the pool for ARGV[1] ms (KEYS[1]) unless a longer hold is in force; tells workers (ARGV[2]). */
const HOLD = `
local left = redis.call('PTTL', KEYS[1])
if left >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
redis.call('PUBLISH', ARGV[2], 'hold')
return 1
`;

/** The scripts as commands of a connection. */
export interface Scripts {
  lpAcquire(leases: string, producer: string, want: number, cap: number): Promise<number>;
  lpRelease(leases: string, producer: string, n: number, room: string): Promise<number>;
  lpNotify(stream: string, producers: string, jobId: string, kind: string, value: string, producer: string): Promise<number>;
  lpGroupAdd(group: string, delta: number, channel: string, ttl: number): Promise<[number, number]>;
  lpReclaim(producers: string, leases: string, now: number, deadAfter: number, queuePrefix: string, room: string): Promise<number>;
  lpRateStart(rate: string, starts: string, hold: string, member: string): Promise<[string, string, string]>;
  lpHold(hold: string, ms: number, channel: string): Promise<number>;
}

/** Defines the scripts on `redis` (ioredis sends each by its SHA, loading it once). */
export function withScripts(redis: Redis): Redis & Scripts {
  redis.defineCommand('lpAcquire', { numberOfKeys: 1, lua: ACQUIRE });
  redis.defineCommand('lpRelease', { numberOfKeys: 1, lua: RELEASE });
  redis.defineCommand('lpNotify', { numberOfKeys: 2, lua: NOTIFY });
  redis.defineCommand('lpGroupAdd', { numberOfKeys: 1, lua: GROUP_ADD });
  redis.defineCommand('lpReclaim', { numberOfKeys: 2, lua: RECLAIM });
  redis.defineCommand('lpRateStart', { numberOfKeys: 3, lua: RATE_START });
  redis.defineCommand('lpHold', { numberOfKeys: 1, lua: HOLD });
  return redis as Redis & Scripts;
}
