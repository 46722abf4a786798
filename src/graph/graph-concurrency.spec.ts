import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { deleteRedisKeys, TEST_REDIS_URL } from '../../test/graph-sim/app-harness';
import { ProviderError } from '../policies/policy-source';
import { GraphConcurrencyLimiter } from './graph-concurrency';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`, or `fallback` after `ms`; the timer never outlives the race. */
async function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('GraphConcurrencyLimiter (Redis)', () => {
  const prefix = `graphsem-${process.pid}-${randomBytes(4).toString('hex')}`;
  // Two connections: two processes as far as Redis can tell.
  let first: Redis;
  let second: Redis;

  beforeAll(() => {
    // The limiter warns when Redis fails; that is what one test provokes.
    Logger.overrideLogger(false);
    first = new Redis(TEST_REDIS_URL);
    second = new Redis(TEST_REDIS_URL);
  });

  afterAll(async () => {
    await deleteRedisKeys(prefix);
    await Promise.all([first.quit(), second.quit()]);
  });

  it('never lets two racing processes exceed the limit together', async () => {
    const a = new GraphConcurrencyLimiter(first, { prefix, limit: 3, leaseMs: 10_000 });
    const b = new GraphConcurrencyLimiter(second, { prefix, limit: 3, leaseMs: 10_000 });
    let active = 0;
    let most = 0;
    let done = 0;
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const lease = await (i % 2 ? a : b).acquire('Tenant-Race');
        active++;
        most = Math.max(most, active);
        await sleep(1 + (i % 7));
        active--;
        done++;
        await lease.release();
      }),
    );
    expect(done).toBe(40);
    // Each process alone would allow 3; together they never had more than 3.
    expect(most).toBe(3);
    expect(await first.zcard(a.key('tenant-race'))).toBe(0);
  });

  it('keeps tenants apart', async () => {
    const a = new GraphConcurrencyLimiter(first, { prefix, limit: 1, leaseMs: 10_000 });
    const b = new GraphConcurrencyLimiter(second, { prefix, limit: 1, leaseMs: 10_000 });
    const held = await a.acquire('tenant-x');
    const other = await within(b.acquire('tenant-y'), 500, null);
    expect(other).not.toBeNull();
    await other?.release();
    await held.release();
  });

  it('frees the slot of a process that died holding it once its lease expires', async () => {
    const dead = new GraphConcurrencyLimiter(first, { prefix, limit: 1, leaseMs: 300 });
    const alive = new GraphConcurrencyLimiter(second, { prefix, limit: 1, leaseMs: 300 });
    await dead.acquire('tenant-crash');
    const started = Date.now();
    const lease = await alive.acquire('tenant-crash');
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(200);
    expect(waited).toBeLessThan(2000);
    await lease.release();
  });

  it('fails readably when Redis is unreachable', async () => {
    const down = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    down.on('error', () => undefined);
    const limiter = new GraphConcurrencyLimiter(down, { prefix, limit: 1, leaseMs: 1000 });
    const error = await limiter.acquire('tenant-z').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ reasonCode: 'provider_unavailable' });
    // The in-process gate was given back: the next caller is not stuck behind the failed one.
    const again = await within(
      limiter.acquire('tenant-z').catch(() => 'failed'),
      1000,
      'stuck',
    );
    expect(again).toBe('failed');
    down.disconnect();
  });
});
