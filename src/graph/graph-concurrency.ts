import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ProviderError } from '../policies/policy-source';

/**
 * Takes a slot when fewer than `limit` unexpired leases exist. Leases are members of a sorted set
 * scored by their expiry (Redis' clock, so process clocks do not matter): a process killed while
 * holding one loses it when it expires, instead of leaking the slot for good.
 */
const ACQUIRE = `
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local lease_ms = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + lease_ms, ARGV[2])
  redis.call('PEXPIRE', KEYS[1], lease_ms)
  return 1
end
return 0
`;

export interface Lease {
  release(): Promise<void>;
}

export interface ConcurrencyOptions {
  /** Keys live under `${prefix}:graph:sem:<tenant>`. */
  prefix: string;
  limit: number;
  /** How long a lease outlives a process that died holding it; longer than any one request. */
  leaseMs: number;
}

/** In-process FIFO gate, so only `width` callers per process poll Redis for a slot. */
class LocalGate {
  private active = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(private readonly width: number) {}

  get idle(): boolean {
    return this.active === 0 && this.waiters.length === 0;
  }

  async enter(): Promise<void> {
    if (this.active < this.width) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  leave(): void {
    const next = this.waiters.shift();
    // The slot passes straight to the next waiter; `active` only drops when nobody waits.
    if (next) next();
    else this.active--;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * At most `limit` Graph requests in flight per Microsoft tenant across every process (web and
 * workers) sharing the Redis: a counting semaphore of expiring leases.
 */
export class GraphConcurrencyLimiter {
  private readonly logger = new Logger('GraphConcurrency');
  private readonly gates = new Map<string, LocalGate>();

  constructor(
    private readonly redis: Redis,
    private readonly options: ConcurrencyOptions,
  ) {
    redis.defineCommand('graphSemAcquire', { numberOfKeys: 1, lua: ACQUIRE });
  }

  get limit(): number {
    return this.options.limit;
  }

  key(tenant: string): string {
    return `${this.options.prefix}:graph:sem:${tenant.toLowerCase()}`;
  }

  async acquire(tenant: string): Promise<Lease> {
    const gateKey = tenant.toLowerCase();
    let gate = this.gates.get(gateKey);
    if (!gate) {
      gate = new LocalGate(this.options.limit);
      this.gates.set(gateKey, gate);
    }
    await gate.enter();
    const key = this.key(tenant);
    const lease = randomUUID();
    try {
      // Polling with a growing, jittered pause: slots free up within one request's time, and
      // waiters of several processes should not wake in lockstep.
      for (let pause = 5; ; pause = Math.min(pause * 1.5, 100)) {
        const got = await (this.redis as Redis & { graphSemAcquire: SemaphoreCommand }).graphSemAcquire(
          key,
          this.options.limit,
          lease,
          this.options.leaseMs,
        );
        if (got === 1) break;
        await sleep(pause / 2 + Math.random() * pause);
      }
    } catch (e) {
      this.leaveGate(gateKey, gate);
      this.logger.warn(
        `Redis refused a Graph concurrency slot: ${e instanceof Error ? e.message : String(e)}`,
      );
      throw new ProviderError(
        'provider_unavailable',
        'The Graph request limiter (Redis) is unavailable, so no request was sent.',
      );
    }
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        this.leaveGate(gateKey, gate);
        try {
          await this.redis.zrem(key, lease);
        } catch (e) {
          // The lease expires on its own; a failed release only holds the slot a little longer.
          this.logger.warn(
            `could not release a Graph concurrency slot: ${e instanceof Error ? e.message : String(e)}`,
          );
        }
      },
    };
  }

  private leaveGate(key: string, gate: LocalGate): void {
    gate.leave();
    if (gate.idle) this.gates.delete(key);
  }
}

type SemaphoreCommand = (key: string, limit: number, lease: string, leaseMs: number) => Promise<number>;

/** The Redis connection of the Graph module (the app's REDIS_URL, resolved before boot). */
@Injectable()
export class GraphRedis implements OnModuleDestroy {
  readonly client: Redis;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    if (!config.redisUrl) throw new Error('The Graph module needs REDIS_URL to be resolved before boot.');
    // Few retries per command: a Graph request should fail readably, not hang, while Redis is down.
    this.client = new Redis(config.redisUrl, { maxRetriesPerRequest: 2, connectionName: 'graph-limiter' });
  }

  async onModuleDestroy(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
