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

/** Appends an outcome to a producer's stream (KEYS[1]) and keeps the stream for ARGV[1] ms after the last one. */
const NOTIFY = `
redis.call('XADD', KEYS[1], 'MAXLEN', '~', '100000', '*', 't', ARGV[2], 'k', ARGV[3], 'v', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
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

/** The scripts as commands of a connection. */
export interface Scripts {
  lpAcquire(leases: string, producer: string, want: number, cap: number): Promise<number>;
  lpRelease(leases: string, producer: string, n: number, room: string): Promise<number>;
  lpNotify(stream: string, ttl: number, jobId: string, kind: string, value: string): Promise<number>;
  lpGroupAdd(group: string, delta: number, channel: string, ttl: number): Promise<[number, number]>;
}

/** Defines the scripts on `redis` (ioredis sends each by its SHA, loading it once). */
export function withScripts(redis: Redis): Redis & Scripts {
  redis.defineCommand('lpAcquire', { numberOfKeys: 1, lua: ACQUIRE });
  redis.defineCommand('lpRelease', { numberOfKeys: 1, lua: RELEASE });
  redis.defineCommand('lpNotify', { numberOfKeys: 1, lua: NOTIFY });
  redis.defineCommand('lpGroupAdd', { numberOfKeys: 1, lua: GROUP_ADD });
  return redis as Redis & Scripts;
}
