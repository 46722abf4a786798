import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import Redis from 'ioredis';
import { withTimeout } from '../common/timeout';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';

/** A sign-in must not wait on a Redis that does not answer. */
const REDIS_TIMEOUT_MS = 300;

/**
 * Sign-in attempts counted in Redis, so the limit holds across every web process (in memory, two
 * processes allowed twice as many guesses). When Redis is away, sign-in keeps working: attempts are
 * counted per process until it answers again, and the log says so once per outage.
 */
@Injectable()
export class LoginThrottleStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly logger = new Logger('LoginThrottle');
  private readonly redis: Redis;
  private readonly shared: ThrottlerStorageRedisService;
  private readonly local = new ThrottlerStorageService();
  private degraded = false;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.redis = new Redis(config.redisUrl!, {
      keyPrefix: `${config.redisPrefix}:throttle:`,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 1000,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    this.redis.on('error', () => undefined);
    void this.redis.connect().catch(() => undefined);
    this.shared = new ThrottlerStorageRedisService(this.redis);
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    try {
      const record = await withTimeout(
        this.shared.increment(key, ttl, limit, blockDuration, throttlerName),
        REDIS_TIMEOUT_MS,
        'Redis did not answer',
      );
      if (this.degraded) {
        this.degraded = false;
        this.logger.log('Redis is back: sign-in attempts are counted across all web processes again');
      }
      return record;
    } catch (e) {
      if (!this.degraded) {
        this.degraded = true;
        this.logger.warn(
          { err: e },
          'Redis is unavailable: sign-in attempts are counted per process until it returns',
        );
      }
      return this.local.increment(key, ttl, limit, blockDuration, throttlerName);
    }
  }

  onApplicationShutdown(): void {
    this.local.onApplicationShutdown();
    this.redis.disconnect();
  }
}
