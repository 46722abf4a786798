import { ExpressAdapter } from '@bull-board/express';
import { BullBoardModule } from '@bull-board/nestjs';
import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../common/app-error';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import {
  QUEUE_BOARD_GATE,
  QUEUE_BOARD_ROUTE,
  QUEUE_BOARD_UI,
  QueueBoard,
  QueueBoardGate,
} from './queue-board';

/**
 * To anyone but platform ops the board does not exist: the app's own 404, a styled page in its layout
 * (the exception filter renders it), or the app's JSON error body for the board's API and JSON clients.
 */
function notFound(req: Request, res: Response, next: NextFunction): void {
  const error = new AppError('not_found', 'There is no page at this address.');
  const wantsJson =
    req.path.startsWith('/api/') ||
    req.originalUrl.startsWith(`${QUEUE_BOARD_ROUTE}/api/`) ||
    req.accepts(['html', 'json']) === 'json';
  if (!wantsJson) return next(error);
  res
    .status(404)
    .setHeader('Cache-Control', 'no-store')
    .json({ error: error.code, message: error.message, status: 404 });
}

/**
 * Bull's root configuration and the Bull board. The Redis URL is resolved before the app is built
 * (see main.ts), so here it is always concrete. Producers register their own queues.
 */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        url: config.redisUrl,
        prefix: config.redisPrefix,
        // Back within a second of Redis returning (ioredis' default waits up to 2 s between tries).
        redis: { retryStrategy: (times: number) => Math.min(times * 100, 1000) },
        defaultJobOptions: {
          attempts: config.queue.attempts,
          backoff: { type: 'exponential', delay: config.queue.backoffMs },
          removeOnComplete: config.queue.keepCompleted,
          removeOnFail: config.queue.keepFailed,
        },
        settings: {
          // A job whose worker stopped renewing its lock is handed to another worker; after
          // maxStalledCount such hand-overs Bull gives up on it and the hub records worker_lost.
          maxStalledCount: 2,
          stalledInterval: config.queue.stalledIntervalMs,
          lockDuration: config.queue.lockDurationMs,
        },
      }),
    }),
    BullBoardModule.forRootAsync({
      inject: [ModuleRef],
      useFactory: (moduleRef: ModuleRef) => ({
        route: QUEUE_BOARD_ROUTE,
        adapter: ExpressAdapter,
        boardOptions: { uiConfig: QUEUE_BOARD_UI },
        // Platform ops only; to everyone else the board does not exist.
        middleware: (req: Request, res: Response, next: NextFunction) => {
          // The board quotes a bad parameter inside its error key, split on NUL: a NUL in the query
          // breaks that into a 500 of its own. Such an address is refused before the board sees it.
          if (/%00/.test(req.originalUrl))
            return void res.status(400).json({
              error: 'bad_request',
              message: 'This address holds a NUL character (%00), which no queue, job or filter has.',
              status: 400,
            });
          const gate = moduleRef.get<QueueBoardGate>(QUEUE_BOARD_GATE, { strict: false });
          gate(req).then(
            (ok) => (ok ? next() : notFound(req, res, next)),
            (e) => next(e),
          );
        },
      }),
    }),
  ],
  providers: [QueueBoard],
  exports: [QueueBoard],
})
export class QueueModule {}
