/* The Lua scripts of the cluster, run atomically in Redis (send/cluster.h). */
#include "send/cluster.h"

/* KEYS[1] the arrival time; ARGV: T (µs a token), tau (µs of burst),
 * want, back. Returns {granted, µs until the next token}. */
const char cluster_rate_lua[] =
	"local t = redis.call('TIME')\n"
	"local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
	"local T, tau = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
	"local n, back = tonumber(ARGV[3]), tonumber(ARGV[4])\n"
	"local tat = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
	"if tat < now then tat = now end\n"
	"if back > 0 then tat = tat - back * T; if tat < now then tat = now end end\n"
	"local k = 0\n"
	"if n > 0 then\n"
	"  k = math.floor((now + tau - tat) / T)\n"
	"  if k > n then k = n end\n"
	"  if k < 0 then k = 0 end\n"
	"  tat = tat + k * T\n"
	"end\n"
	"redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.floor((tat - now) / 1000) + 60000)\n"
	"local wait = 0\n"
	"if k < n then wait = tat + T - tau - now; if wait < 0 then wait = 0 end end\n"
	"return {k, wait}\n";

/* KEYS[1] the period's counter; ARGV: limit, want (negative: hand
 * back), ttl s. Returns {granted, count}. Near the limit (less than ten
 * blocks left) one slot a call: a slot reserved is then used at once, so
 * no node spills over while another holds slots it will not use. */
const char cluster_count_lua[] =
	"local lim, n = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
	"local v = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
	"local k = 0\n"
	"if n < 0 then\n"
	"  local b = -n; if b > v then b = v end; v = v - b\n"
	"else\n"
	"  if lim - v < n * 10 then n = 1 end\n"
	"  k = lim - v; if k > n then k = n end; if k < 0 then k = 0 end; v = v + k\n"
	"end\n"
	"redis.call('SET', KEYS[1], v, 'EX', ARGV[3])\n"
	"return {k, v}\n";

/* KEYS: relay:nodes, relay:node:NAME, relay:throttles; ARGV: NAME,
 * queued, calls, seen s. Returns {nodes seen, Redis's time (s), then the
 * throttles on: DEST, "ACTION UNTIL CONC NODE REASON", ...} (issue 16:
 * the shared suspensions; those over are dropped here). */
const char cluster_beat_lua[] =
	"local t = tonumber(redis.call('TIME')[1])\n"
	"redis.call('ZADD', KEYS[1], t, ARGV[1])\n"
	"redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', t - tonumber(ARGV[4]))\n"
	"redis.call('HSET', KEYS[2], 'queued', ARGV[2], 'calls', ARGV[3], 'beat', t)\n"
	"redis.call('EXPIRE', KEYS[2], ARGV[4])\n"
	"local out = {redis.call('ZCARD', KEYS[1]), t}\n"
	"local h = redis.call('HGETALL', KEYS[3])\n"
	"for j = 1, #h, 2 do\n"
	"  local u = tonumber(string.match(h[j + 1], '^%S+ (%d+)') or '0')\n"
	"  if u <= t then redis.call('HDEL', KEYS[3], h[j])\n"
	"  elseif #out < 2 + 2 * 256 then out[#out + 1] = h[j]; out[#out + 1] = h[j + 1] end\n"
	"end\n"
	"return out\n";

/* issue 16: concurrency leases. KEYS: relay:lease:KEY, one per
 * destination; ARGV: NODE, the lease TTL (ms), then per key the leases
 * the node wants to hold (0: hand them all back) and the limit. A hash
 * per destination, a field per node: "LEASES:EXPIRY_MS" (Redis's clock);
 * a node refused writes "LEASES:EXPIRY_MS" with what it got (0 too): it
 * waits, and counts for the fair share. The fields of other nodes that
 * expired (a node killed) are dropped and do not count. Returns, per
 * key, the leases the node holds now and the fair share (the limit over
 * the nodes holding or waiting, rounded up): a node past it opens no
 * new session, so that its leases go back to the ones waiting. */
const char cluster_lease_lua[] =
	"local t = redis.call('TIME')\n"
	"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
	"local node, ttl = ARGV[1], tonumber(ARGV[2])\n"
	"local out = {}\n"
	"for i, k in ipairs(KEYS) do\n"
	"  local want, lim = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])\n"
	"  local h = redis.call('HGETALL', k)\n"
	"  local others, nodes = 0, 1\n"
	"  for j = 1, #h, 2 do\n"
	"    if h[j] ~= node then\n"
	"      local n, e = string.match(h[j + 1], '^(%d+):(%d+)$')\n"
	"      if not n or tonumber(e) <= now then redis.call('HDEL', k, h[j])\n"
	"      else others = others + tonumber(n); nodes = nodes + 1 end\n"
	"    end\n"
	"  end\n"
	"  local g = lim - others\n"
	"  if g > want then g = want end\n"
	"  if g < 0 then g = 0 end\n"
	"  if want > 0 then\n"
	"    redis.call('HSET', k, node, string.format('%d:%d', g, now + ttl))\n"
	"    redis.call('PEXPIRE', k, ttl * 2)\n"
	"  else redis.call('HDEL', k, node); nodes = nodes - 1 end\n"
	"  if nodes < 1 then nodes = 1 end\n"
	"  out[2 * i - 1] = g\n"
	"  out[2 * i] = math.floor((lim + nodes - 1) / nodes)\n"
	"end\n"
	"return out\n";

/* issue 16: a throttle seen here, for the others. KEYS[1]
 * relay:throttles; ARGV: DEST, ACTION, seconds, CONC, NODE, REASON. A
 * longer one already there stays. Returns {1} when set, else {0}. */
const char cluster_throttle_lua[] =
	"local t = tonumber(redis.call('TIME')[1])\n"
	"local u = t + tonumber(ARGV[3])\n"
	"local old = redis.call('HGET', KEYS[1], ARGV[1])\n"
	"if old then\n"
	"  local ou = tonumber(string.match(old, '^%S+ (%d+)') or '0')\n"
	"  if ou >= u then return {0} end\n"
	"end\n"
	"redis.call('HSET', KEYS[1], ARGV[1], string.format('%s %d %s %s %s', ARGV[2], u, ARGV[4], ARGV[5], ARGV[6]))\n"
	"return {1}\n";
