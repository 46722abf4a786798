import { NestFactory } from '@nestjs/core';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { AppModule } from '../src/app.module';
import { configureApp } from '../src/bootstrap';
import { AppLogger } from '../src/common/app-logger';
import { AppConfig, loadConfig } from '../src/config/app-config';
import { RUN_EVENTS, RunEventMap } from '../src/runs/run-events';
import type { BenchBackends } from './backends';
import { BenchProducerModule } from './bench-producer.module';

export const BENCH_PASSWORD = 'bench-password-1';

export interface BenchApp {
  app: NestExpressApplication;
  config: AppConfig;
  ds: DataSource;
  port: number;
  baseUrl: string;
  get<T>(token: unknown): T;
  /** Resolves when the run finishes (any terminal status), with its final snapshot. */
  finished(runId: number): Promise<RunEventMap['run.finished']['run']>;
  close(): Promise<void>;
}

/**
 * The real app in-process, configured the way `npm start` runs in production (view cache, warn-level
 * logs), on the bench's database and Redis prefix, listening on a free loopback port. The only extra
 * module is the bench's one-item producer. `extraEnv` adds or overrides settings (a section's Graph
 * simulator, say); a second app on the same database takes a Redis prefix of its own (`b.appPrefix`), so
 * that neither app's workers take the other's jobs.
 */
export async function bootApp(
  b: Pick<BenchBackends, 'databaseUrl' | 'redisUrl' | 'appPrefix'>,
  concurrency: number,
  extraEnv: Record<string, string> = {},
): Promise<BenchApp> {
  const config = loadConfig({
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: b.databaseUrl,
    REDIS_URL: b.redisUrl,
    REDIS_PREFIX: b.appPrefix,
    SESSION_SECRET: randomBytes(32).toString('hex'),
    DEMO_SEED: 'true',
    DEMO_PASSWORD: BENCH_PASSWORD,
    QUEUE_CONCURRENCY: String(concurrency),
    // The seeded history spans 90 days; a retention sweep must not eat into it while we measure.
    RUNS_RETENTION_DAYS: '365',
    // The web section signs in ten sessions from one address within the throttle's minute.
    LOGIN_THROTTLE_LIMIT: '100',
    // MySQL wants the encryption keys given (the app warns otherwise); the bench stores no credential.
    APP_ENCRYPTION_KEYS: `bench:${Buffer.alloc(32, 7).toString('base64')}`,
    ...extraEnv,
  });
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(config, [BenchProducerModule]),
    { bufferLogs: true, bodyParser: false, abortOnError: false },
  );
  app.useLogger(app.get(AppLogger));
  await configureApp(app, config);
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;

  const events = app.get(EventEmitter2);
  const waiting = new Map<number, (run: RunEventMap['run.finished']['run']) => void>();
  const done = new Map<number, RunEventMap['run.finished']['run']>();
  events.on(RUN_EVENTS.finished, ({ run }: RunEventMap['run.finished']) => {
    const w = waiting.get(run.id);
    if (w) {
      waiting.delete(run.id);
      w(run);
    } else {
      done.set(run.id, run);
      // Runs nobody waits for (the bookkeeping section's thousands) must not pile up here.
      if (done.size > 1000) done.delete(done.keys().next().value as number);
    }
  });

  return {
    app,
    config,
    ds: app.get(DataSource),
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    get: <T>(token: unknown) => app.get(token as never, { strict: false }) as T,
    finished: (runId) => {
      const seen = done.get(runId);
      if (seen) {
        done.delete(runId);
        return Promise.resolve(seen);
      }
      return new Promise((resolve) => waiting.set(runId, resolve));
    },
    close: () => app.close(),
  };
}
