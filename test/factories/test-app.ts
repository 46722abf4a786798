import { DynamicModule } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import Redis from 'ioredis';
import { createConnection } from 'mysql2/promise';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import TestAgent from 'supertest/lib/agent';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module';
import { AppLogger } from '../../src/common/app-logger';
import { configureApp } from '../../src/bootstrap';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { CacheBus, resolveRedis } from '../../src/queue';
import { TenantsService } from '../../src/tenants';
import { waitFor } from './wait';

export const DEMO_PASSWORD = 'test-password-1';
/** One fixed key for every test app, so two processes of one test share what they encrypt. */
export const TEST_ENCRYPTION_KEYS = `t1:${Buffer.alloc(32, 7).toString('base64')}`;

/** Where a test app keeps its data: a database and a Redis key prefix of its own, removed afterwards. */
export interface TestBackends {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  cleanup(): Promise<void>;
}

/**
 * With DATABASE_URL/REDIS_URL set (CI), each test file gets its own MySQL database and Redis key prefix
 * on those shared servers; without them, a temp SQLite file and an embedded redis-server.
 */
export async function createBackends(): Promise<TestBackends> {
  const id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const cleanups: Array<() => Promise<void>> = [];

  let databaseUrl: string;
  const mysqlUrl = process.env.DATABASE_URL;
  if (mysqlUrl?.startsWith('mysql://')) {
    const name = `t_${id}`;
    const admin = await createConnection(mysqlUrl);
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await admin.end();
    const url = new URL(mysqlUrl);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
    cleanups.push(async () => {
      const c = await createConnection(mysqlUrl);
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    });
  } else {
    const file = join(tmpdir(), `ops-test-${id}.sqlite`);
    databaseUrl = `sqlite:${file}`;
    cleanups.push(async () => {
      for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
    });
  }

  const redisPrefix = `t${id}`;
  let redisUrl: string;
  if (process.env.REDIS_URL) {
    redisUrl = process.env.REDIS_URL;
    cleanups.push(async () => {
      const r = new Redis(redisUrl);
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', `${redisPrefix}:*`, 'COUNT', 1000);
        if (keys.length) await r.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      await r.quit();
    });
  } else {
    const embedded = await resolveRedis(undefined);
    redisUrl = embedded.url;
    cleanups.push(() => embedded.stop());
  }

  return {
    databaseUrl,
    redisUrl,
    redisPrefix,
    cleanup: async () => {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
    },
  };
}

export interface TestApp {
  app: NestExpressApplication;
  config: AppConfig;
  backends: TestBackends;
  server: ReturnType<NestExpressApplication['getHttpServer']>;
  dataSource: DataSource;
  get<T>(token: unknown): T;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  imports?: DynamicModule['imports'];
  /** Reuse another app's database and Redis (e.g. a web and a worker process). */
  backends?: TestBackends;
}

/** The real app in-process, on the real database and Redis, with the demo tenants and users seeded. */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const backends = options.backends ?? (await createBackends());
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'error',
    BCRYPT_ROUNDS: '4',
    DEMO_SEED: 'true',
    DEMO_PASSWORD,
    JOB_BACKOFF_MS: '50',
    RECONCILE_INTERVAL_SECONDS: '0',
    // Secrets at rest need a key; the embedded default would write a key file beside the temp database.
    APP_ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
    ...options.env,
    DATABASE_URL: backends.databaseUrl,
    REDIS_URL: backends.redisUrl,
    REDIS_PREFIX: backends.redisPrefix,
  });
  const ownsBackends = !options.backends;
  let app: NestExpressApplication | undefined;
  try {
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule.forRoot(config, options.imports ?? [])],
    }).compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, bufferLogs: true });
    // The app's own logger (pino, with its sanitizing error serializer), as main.ts uses it.
    app.useLogger(app.get(AppLogger));
    await configureApp(app, config);
    await app.init();
  } catch (e) {
    // A boot that fails (e.g. on purpose, in a test) must not leave queues or servers running. Nest's
    // close() first awaits the failed init promise and would rethrow before closing anything.
    if (app) {
      (app as unknown as { initializationPromise?: Promise<void> }).initializationPromise = undefined;
      await app.close().catch(() => undefined);
    }
    if (ownsBackends) await backends.cleanup();
    throw e;
  }
  const started = app;
  return {
    app: started,
    config,
    backends,
    server: started.getHttpServer(),
    dataSource: started.get(DataSource),
    get: <T>(token: unknown) => started.get(token as never) as T,
    close: async () => {
      await started.close();
      if (ownsBackends) await backends.cleanup();
    },
  };
}

/**
 * Until `listener` has heard every cache invalidation `speaker` announced (two processes on one Redis).
 * Redis passes each message on as it is published, but the listening process reads it on its own next
 * turn: a check that a change made in one process applies "at once" in the other starts after this.
 * Two seconds at most, well under the few seconds a copy is kept without being told.
 */
export function heardAll(listener: TestApp, speaker: TestApp): Promise<true> {
  const bus = listener.get<CacheBus>(CacheBus);
  const other = speaker.get<CacheBus>(CacheBus);
  return waitFor(async () => bus.hasHeardAllOf(other), 'the other process to hear the change', 2000);
}

export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token on the page');
  return m[1];
}

export interface Session {
  agent: TestAgent;
  /** A CSRF token for this session, read from a page as a browser would. */
  csrf(): Promise<string>;
}

export async function login(t: TestApp, email: string, password = DEMO_PASSWORD): Promise<Session> {
  const agent = request.agent(t.server);
  const page = await agent.get('/login').expect(200);
  const res = await agent
    .post('/login')
    .type('form')
    .send({ email, password, _csrf: csrfFrom(page.text) });
  if (res.status !== 303) throw new Error(`login as ${email} failed: ${res.status}`);
  return {
    agent,
    csrf: async () => csrfFrom((await agent.get('/admin/profile').expect(200)).text),
  };
}

/** The demo tenants' ids and a signed-in session for each demo user. */
export async function demoActors(t: TestApp): Promise<{
  contoso: number;
  fabrikam: number;
  admin: Session;
  operator: Session;
  readonly: Session;
}> {
  const tenants = t.get<TenantsService>(TenantsService);
  const [contoso, fabrikam, admin, operator, readonly] = await Promise.all([
    tenants.findBySlug('contoso'),
    tenants.findBySlug('fabrikam'),
    login(t, 'admin@example.com'),
    login(t, 'operator@example.com'),
    login(t, 'readonly@example.com'),
  ]);
  return { contoso: contoso!.id, fabrikam: fabrikam!.id, admin, operator, readonly };
}
