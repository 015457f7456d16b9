import { createHash } from 'node:crypto';

/**
 * The Lua scripts of the Redis jobboard. Redis runs a script atomically, so each check (state,
 * token, owner, lease time) and its writes cannot interleave with another client's. Lease
 * expiry is decided here by comparing the stored expiry with the server's clock (`TIME`),
 * never by key TTLs, which would silently delete a job whose owner died.
 *
 * Every time a script writes or compares (claim, renewal, completion, abandon, trash, conductor
 * heartbeats) is the server's, read inside the script: a command can wait in a socket or a
 * client's queue for seconds (a paused server, a reconnect), and a time the caller took before
 * sending it would grant a lease that has already run out when it arrives. Redis 7 replicates
 * a script's effects, not the script, so reading `TIME` before writing is allowed. Only a
 * post's `createdAt` is the poster's time: it orders jobs and is not a lease time.
 *
 * Keys, under the board's prefix `P`:
 * - `P:job:<id>` hash: spec (immutable JSON, never re-encoded by Lua), name, key, state, owner,
 *   lease, token, attempts, updated, outcome (JSON), reason, request (JSON), score (-priority),
 *   rank;
 * - `P:ready` sorted set of claimable jobs: score -priority, member rank = 15-digit createdAt
 *   ":" id, so ties order oldest first, then by id;
 * - `P:leases` sorted set of claimed job ids by lease expiry;
 * - `P:all` sorted set of job ids by createdAt, for listing;
 * - `P:key:<idempotency key>` the id of the job posted with it;
 * - channel `P:events`: one JSON message per change.
 */

// Shared by every script: ARGV[1] is the prefix; a job's fields come back as a flat list.
const PRELUDE = `
local p = ARGV[1]
local function jobkey(id) return p .. ':job:' .. id end
local function publish(kind, id, name, state, at)
  redis.call('PUBLISH', p .. ':events', cjson.encode({type = kind, jobId = id, jobName = name, state = state, at = tonumber(at)}))
end
-- The server's time in epoch milliseconds, and numbers written as whole decimals.
local function servertime()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function ms(n) return string.format('%.0f', n) end
local function held(k, token, owner)
  if redis.call('EXISTS', k) == 0 then return {'no-job'} end
  local h = redis.call('HMGET', k, 'state', 'token', 'owner')
  if h[1] ~= 'CLAIMED' or h[2] ~= token or h[3] ~= owner then
    return {'fenced', redis.call('HGETALL', k)}
  end
  return nil
end
`;

/** ARGV: prefix, id, spec, name, key, createdAt, score, rank. */
const POST = `
if ARGV[5] ~= '' then
  local existing = redis.call('GET', p .. ':key:' .. ARGV[5])
  if existing and redis.call('EXISTS', jobkey(existing)) == 1 then
    return {'existing', redis.call('HGETALL', jobkey(existing))}
  end
end
local k = jobkey(ARGV[2])
redis.call('HSET', k, 'spec', ARGV[3], 'name', ARGV[4], 'key', ARGV[5], 'state', 'UNCLAIMED',
  'owner', '', 'lease', '', 'token', 0, 'attempts', 0, 'updated', ARGV[6], 'outcome', '',
  'reason', '', 'score', ARGV[7], 'rank', ARGV[8])
redis.call('ZADD', p .. ':ready', ARGV[7], ARGV[8])
redis.call('ZADD', p .. ':all', ARGV[6], ARGV[2])
if ARGV[5] ~= '' then redis.call('SET', p .. ':key:' .. ARGV[5], ARGV[2]) end
publish('posted', ARGV[2], ARGV[4], 'UNCLAIMED', ARGV[6])
return {'posted', redis.call('HGETALL', k)}
`;

/** ARGV: prefix, owner, ttlMs. */
const CLAIM = `
local now = servertime()
local expires = ms(now + tonumber(ARGV[3]))
-- Expired claims rejoin the ready set (still CLAIMED), so they compete in claim order.
local expired = redis.call('ZRANGEBYSCORE', p .. ':leases', '-inf', ms(now), 'LIMIT', 0, 100)
for _, id in ipairs(expired) do
  local h = redis.call('HMGET', jobkey(id), 'score', 'rank')
  if h[2] then redis.call('ZADD', p .. ':ready', h[1], h[2]) end
  redis.call('ZREM', p .. ':leases', id)
end
while true do
  local best = redis.call('ZRANGE', p .. ':ready', 0, 0)[1]
  if not best then return {} end
  redis.call('ZREM', p .. ':ready', best)
  local id = string.sub(best, 17)
  local k = jobkey(id)
  local h = redis.call('HMGET', k, 'state', 'attempts', 'name')
  if h[1] == 'UNCLAIMED' or h[1] == 'CLAIMED' then
    local attempts = tonumber(h[2])
    if h[1] == 'CLAIMED' then attempts = attempts + 1 end
    redis.call('HINCRBY', k, 'token', 1)
    redis.call('HSET', k, 'state', 'CLAIMED', 'owner', ARGV[2], 'lease', expires,
      'attempts', attempts, 'updated', ms(now))
    redis.call('ZADD', p .. ':leases', expires, id)
    publish('claimed', id, h[3], 'CLAIMED', now)
    return redis.call('HGETALL', k)
  end
end
`;

/** ARGV: prefix, id, token, owner, ttlMs. */
const EXTEND = `
local k = jobkey(ARGV[2])
local refused = held(k, ARGV[3], ARGV[4])
if refused then return refused end
local now = servertime()
local expires = ms(now + tonumber(ARGV[5]))
redis.call('HSET', k, 'lease', expires, 'updated', ms(now))
redis.call('ZADD', p .. ':leases', expires, ARGV[2])
redis.call('ZREM', p .. ':ready', redis.call('HGET', k, 'rank'))
return {'written', redis.call('HGETALL', k)}
`;

/** ARGV: prefix, id, token, owner, outcome. */
const CONSUME = `
local k = jobkey(ARGV[2])
local refused = held(k, ARGV[3], ARGV[4])
if refused then return refused end
local now = servertime()
redis.call('HSET', k, 'state', 'COMPLETE', 'lease', '', 'outcome', ARGV[5], 'request', '',
  'updated', ms(now))
redis.call('ZREM', p .. ':leases', ARGV[2])
redis.call('ZREM', p .. ':ready', redis.call('HGET', k, 'rank'))
publish('completed', ARGV[2], redis.call('HGET', k, 'name'), 'COMPLETE', now)
return {'written', redis.call('HGETALL', k)}
`;

/** ARGV: prefix, id, token, owner, reason, maxAttempts ('' for none), increment (0 or 1). */
const ABANDON = `
local k = jobkey(ARGV[2])
local refused = held(k, ARGV[3], ARGV[4])
if refused then return refused end
local now = servertime()
local increment = tonumber(ARGV[7])
local attempts = tonumber(redis.call('HGET', k, 'attempts')) + increment
local dead = increment == 1 and ARGV[6] ~= '' and attempts >= tonumber(ARGV[6])
local state = dead and 'DEAD_LETTER' or 'UNCLAIMED'
redis.call('HSET', k, 'state', state, 'lease', '', 'attempts', attempts,
  'reason', dead and ARGV[5] or '', 'updated', ms(now))
redis.call('ZREM', p .. ':leases', ARGV[2])
local h = redis.call('HMGET', k, 'score', 'rank', 'name')
if dead then redis.call('ZREM', p .. ':ready', h[2]) else redis.call('ZADD', p .. ':ready', h[1], h[2]) end
publish('abandoned', ARGV[2], h[3], state, now)
return {'written', redis.call('HGETALL', k)}
`;

/** ARGV: prefix, id. */
const TRASH = `
local k = jobkey(ARGV[2])
if redis.call('EXISTS', k) == 0 then return {'no-job'} end
local now = servertime()
local h = redis.call('HMGET', k, 'state', 'lease', 'rank', 'key', 'name')
if h[1] == 'CLAIMED' and tonumber(h[2]) > now then
  return {'claimed', redis.call('HGETALL', k)}
end
redis.call('DEL', k)
redis.call('ZREM', p .. ':ready', h[3])
redis.call('ZREM', p .. ':leases', ARGV[2])
redis.call('ZREM', p .. ':all', ARGV[2])
if h[4] ~= '' and redis.call('GET', p .. ':key:' .. h[4]) == ARGV[2] then
  redis.call('DEL', p .. ':key:' .. h[4])
end
publish('trashed', ARGV[2], h[5], h[1], now)
return {'trashed'}
`;

/** ARGV: prefix, id, states as ",A,B,", before. TRASH, only for a finished job old enough. */
const DELETE_FINISHED = `
local k = jobkey(ARGV[2])
if redis.call('EXISTS', k) == 0 then return {'kept'} end
local h = redis.call('HMGET', k, 'state', 'updated', 'rank', 'key', 'name')
if not string.find(ARGV[3], ',' .. h[1] .. ',', 1, true) then return {'kept'} end
if tonumber(h[2]) >= tonumber(ARGV[4]) then return {'kept'} end
redis.call('DEL', k)
redis.call('ZREM', p .. ':ready', h[3])
redis.call('ZREM', p .. ':leases', ARGV[2])
redis.call('ZREM', p .. ':all', ARGV[2])
if h[4] ~= '' and redis.call('GET', p .. ':key:' .. h[4]) == ARGV[2] then
  redis.call('DEL', p .. ':key:' .. h[4])
end
publish('trashed', ARGV[2], h[5], h[1], servertime())
return {'deleted'}
`;

/** ARGV: prefix, id. A DEAD_LETTER job back to UNCLAIMED, in the ready set again. */
const REDRIVE = `
local k = jobkey(ARGV[2])
if redis.call('EXISTS', k) == 0 then return {'no-job'} end
local h = redis.call('HMGET', k, 'state', 'score', 'rank', 'name')
if h[1] ~= 'DEAD_LETTER' then return {'not-dead', redis.call('HGETALL', k)} end
local now = servertime()
redis.call('HSET', k, 'state', 'UNCLAIMED', 'lease', '', 'attempts', 0, 'reason', '',
  'updated', ms(now))
redis.call('ZADD', p .. ':ready', h[2], h[3])
publish('abandoned', ARGV[2], h[4], 'UNCLAIMED', now)
return {'redriven', redis.call('HGETALL', k)}
`;

/**
 * ARGV: prefix, id, request as JSON, the states it may be set in as ",A,B,". A COMPLETE job is
 * reopened: UNCLAIMED, in the ready set again.
 */
const REQUEST = `
local k = jobkey(ARGV[2])
if redis.call('EXISTS', k) == 0 then return {'no-job'} end
local h = redis.call('HMGET', k, 'state', 'request', 'score', 'rank', 'name')
if (h[2] and h[2] ~= '') or not string.find(ARGV[4], ',' .. h[1] .. ',', 1, true) then
  return {'refused', redis.call('HGETALL', k)}
end
local now = servertime()
local state = h[1]
if state == 'COMPLETE' then
  state = 'UNCLAIMED'
  redis.call('HSET', k, 'state', state, 'attempts', 0, 'outcome', '')
  redis.call('ZADD', p .. ':ready', h[3], h[4])
end
redis.call('HSET', k, 'request', ARGV[3], 'updated', ms(now))
publish('requested', ARGV[2], h[5], state, now)
return {'requested', redis.call('HGETALL', k)}
`;

/** ARGV: prefix, name, ttlMs, name as JSON, meta as JSON. Stored as the ConductorInfo JSON. */
const HEARTBEAT = `
local now = servertime()
redis.call('HSET', p .. ':conductors', ARGV[2], '{"name":' .. ARGV[4] .. ',"lastSeenAt":' ..
  ms(now) .. ',"expiresAt":' .. ms(now + tonumber(ARGV[3])) .. ',"meta":' .. ARGV[5] .. '}')
return ms(now)
`;

/** ARGV: prefix. Milliseconds until the earliest lease expires (by the server's clock), or -1. */
const UNTIL_LEASE_EXPIRY = `
local first = redis.call('ZRANGE', p .. ':leases', 0, 0, 'WITHSCORES')
if #first == 0 then return -1 end
return math.max(0, tonumber(first[2]) - servertime())
`;

/**
 * ARGV: prefix. The live conductors as a flat name, info list; the expired ones (dead without
 * unregistering) are deleted from the hash on the way, so it does not grow with every crash.
 */
const CONDUCTORS = `
local now = servertime()
local all = redis.call('HGETALL', p .. ':conductors')
local live = {}
for i = 1, #all, 2 do
  if tonumber(cjson.decode(all[i + 1]).expiresAt) > now then
    live[#live + 1] = all[i]
    live[#live + 1] = all[i + 1]
  else
    redis.call('HDEL', p .. ':conductors', all[i])
  end
end
return live
`;

/** A script and its SHA1, for EVALSHA with a fallback to EVAL after a server restart. */
export interface RedisScript {
  readonly source: string;
  readonly sha: string;
}

function script(body: string): RedisScript {
  const source = PRELUDE + body;
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

export const REDIS_JOB_SCRIPTS: {
  readonly post: RedisScript;
  readonly claim: RedisScript;
  readonly untilLeaseExpiry: RedisScript;
  readonly extend: RedisScript;
  readonly consume: RedisScript;
  readonly abandon: RedisScript;
  readonly trash: RedisScript;
  readonly redrive: RedisScript;
  readonly request: RedisScript;
  readonly deleteFinished: RedisScript;
  readonly heartbeat: RedisScript;
  readonly conductors: RedisScript;
} = {
  post: script(POST),
  claim: script(CLAIM),
  untilLeaseExpiry: script(UNTIL_LEASE_EXPIRY),
  extend: script(EXTEND),
  consume: script(CONSUME),
  abandon: script(ABANDON),
  trash: script(TRASH),
  redrive: script(REDRIVE),
  request: script(REQUEST),
  deleteFinished: script(DELETE_FINISHED),
  heartbeat: script(HEARTBEAT),
  conductors: script(CONDUCTORS),
};
