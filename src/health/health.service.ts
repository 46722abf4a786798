import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { Db } from '../database/db';
import { withTimeout } from '../common/timeout';
import { RunsService } from '../runs';

export interface Check {
  status: 'up' | 'down';
  latency_ms?: number;
  error?: string;
}

const TIMEOUT_MS = 2000;

@Injectable()
export class HealthService implements OnApplicationShutdown {
  /** A dedicated connection: probing through a queue's client would wait in its offline queue. */
  private readonly redis: Redis;
  private readonly connected: Promise<void>;

  constructor(
    private readonly db: Db,
    private readonly runs: RunsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.redis = new Redis(config.redisUrl!, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: TIMEOUT_MS,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    this.redis.on('error', () => undefined);
    // Connected once, up front: probes arriving together must not race to connect it.
    this.connected = this.redis.connect().catch(() => undefined);
  }

  async check(): Promise<{ database: Check; redis: Check }> {
    const [database, redis] = await Promise.all([
      this.probe('database', () => this.db.query('SELECT 1')),
      this.probe('redis', async () => {
        await this.connected;
        await this.redis.ping();
        // Ready means a start would succeed: the queues' own connections must be back too.
        if (!this.runs.queuesReady()) throw new Error('the job queue connections are still reconnecting');
      }),
    ]);
    return { database, redis };
  }

  private async probe(what: string, fn: () => Promise<unknown>): Promise<Check> {
    const started = Date.now();
    try {
      await withTimeout(fn(), TIMEOUT_MS, `${what} did not answer within ${TIMEOUT_MS} ms`);
      return { status: 'up', latency_ms: Date.now() - started };
    } catch (e) {
      // Only the first line, and no connection strings: probes are public.
      const msg = String((e as Error).message ?? e)
        .split('\n')[0]
        .replace(/\/\/[^@\s]*@/g, '//[redacted]@');
      return { status: 'down', error: msg.slice(0, 200) };
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.redis.disconnect();
  }
}
