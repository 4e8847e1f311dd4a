import type { Redis } from 'ioredis';
import type { RateLimitStore } from '../limits/rate-limit-store.ts';
import type { RateRule } from '../limits/token-bucket.ts';

/**
 * The token bucket of token-bucket.ts, run atomically inside Redis so every node takes
 * from the same bucket. The key expires once the bucket would have refilled (a full
 * bucket behaves exactly like an unseen key), so Redis memory stays bounded by itself.
 * `updated` never moves backwards, so nodes whose clocks differ a little cannot mint
 * tokens by alternating.
 */
const TAKE_SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 't', 'u')
local tokens = tonumber(state[1])
local updated = tonumber(state[2])
if tokens == nil or updated == nil then
  tokens = burst
  updated = now
end
if now > updated then
  tokens = math.min(burst, tokens + (now - updated) * rate / 1000)
  updated = now
end
local ok = 0
if tokens >= cost then
  tokens = tokens - cost
  ok = 1
end
redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 'u', string.format('%d', updated))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
return ok
`;

interface WithTake {
  petrelTake(key: string, perSec: number, burst: number, now: number, cost: number): Promise<number>;
}

/**
 * RateLimitStore shared by every relay node through Redis. While Redis is unreachable
 * each node answers from `fallback` (its own in-memory buckets) rather than refusing
 * every client or letting every request through: limits then hold per node, not per
 * cluster, until Redis is back (counted in `onFallback`).
 */
export class RedisRateLimitStore implements RateLimitStore {
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly fallback: RateLimitStore,
    private readonly onFallback: () => void = () => {},
  ) {
    if (!('petrelTake' in redis)) redis.defineCommand('petrelTake', { numberOfKeys: 1, lua: TAKE_SCRIPT });
  }

  async take(key: string, rule: RateRule, now: number, cost = 1): Promise<boolean> {
    if (this.redis.status === 'ready') {
      try {
        return (await (this.redis as unknown as WithTake).petrelTake(`${this.prefix}rl:${key}`, rule.perSec, rule.burst, now, cost)) === 1;
      } catch {
        // Unreachable or timed out: fall through to this node's buckets.
      }
    }
    this.onFallback();
    return this.fallback.take(key, rule, now, cost);
  }

  localEntries(): number {
    return this.fallback.localEntries();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fallback.close();
  }
}
