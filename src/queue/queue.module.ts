import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';

/**
 * Bull's root configuration. The Redis URL is resolved before the app is built (see bootstrap), so
 * here it is always concrete. Producers register their own queues with BullModule.registerQueue.
 */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        url: config.redisUrl,
        prefix: config.redisPrefix,
        defaultJobOptions: {
          attempts: config.queue.attempts,
          backoff: { type: 'exponential', delay: config.queue.backoffMs },
          removeOnComplete: config.queue.keepCompleted,
          removeOnFail: config.queue.keepFailed,
        },
        settings: {
          // A job whose worker stopped renewing its lock is handed to another worker this many times
          // before Bull gives up on it; the runs hub then records worker_lost.
          maxStalledCount: 2,
          stalledInterval: 15000,
          lockDuration: 30000,
        },
      }),
    }),
  ],
})
export class QueueModule {}
