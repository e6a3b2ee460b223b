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

/** The scripts as commands of a connection. */
export interface Scripts {
  lpAcquire(leases: string, producer: string, want: number, cap: number): Promise<number>;
  lpRelease(leases: string, producer: string, n: number, room: string): Promise<number>;
  lpNotify(stream: string, producers: string, jobId: string, kind: string, value: string, producer: string): Promise<number>;
  lpGroupAdd(group: string, delta: number, channel: string, ttl: number): Promise<[number, number]>;
  lpReclaim(producers: string, leases: string, now: number, deadAfter: number, queuePrefix: string, room: string): Promise<number>;
}

/** Defines the scripts on `redis` (ioredis sends each by its SHA, loading it once). */
export function withScripts(redis: Redis): Redis & Scripts {
  redis.defineCommand('lpAcquire', { numberOfKeys: 1, lua: ACQUIRE });
  redis.defineCommand('lpRelease', { numberOfKeys: 1, lua: RELEASE });
  redis.defineCommand('lpNotify', { numberOfKeys: 2, lua: NOTIFY });
  redis.defineCommand('lpGroupAdd', { numberOfKeys: 1, lua: GROUP_ADD });
  redis.defineCommand('lpReclaim', { numberOfKeys: 2, lua: RECLAIM });
  return redis as Redis & Scripts;
}
