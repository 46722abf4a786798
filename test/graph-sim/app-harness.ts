import { Logger, LoggerService } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { ConfigModule } from '../../src/config/config.module';
import { GraphConcurrencyLimiter } from '../../src/graph/graph-concurrency';
import {
  GRAPH_CREDENTIALS,
  GraphCredential,
  GraphCredentialsProvider,
} from '../../src/graph/graph-credentials';
import { GraphHttpClient, GraphRetryPolicy } from '../../src/graph/graph-http.client';
import { GraphPolicySource } from '../../src/graph/graph-policy-source';
import { GraphTokenProvider } from '../../src/graph/graph-token.provider';
import { GraphModule } from '../../src/graph/graph.module';
import { READ_PERMISSIONS, TenantFixture, loadFixture } from './fixture';
import type { GraphSimulator } from './simulator';

/**
 * The app's Graph module wired against a running simulator, for the specs of src/graph: config,
 * a fixed credential, a unique Redis prefix, and every Nest log line captured.
 */

export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Retries that do not make a test wait for seconds (Retry-After is still honoured as sent). */
export const FAST_RETRY: Partial<GraphRetryPolicy> = { backoffBaseMs: 5, backoffMaxMs: 40 };

/** Every line the Graph module logged through Nest's Logger since the last `logLines.length = 0`. */
export const logLines: string[] = [];

const capture: LoggerService = {
  log: (m: unknown) => logLines.push(`log ${String(m)}`),
  error: (m: unknown, ...rest: unknown[]) =>
    logLines.push(`error ${String(m)} ${rest.map(String).join(' ')}`),
  warn: (m: unknown) => logLines.push(`warn ${String(m)}`),
  debug: (m: unknown) => logLines.push(`debug ${String(m)}`),
  verbose: (m: unknown) => logLines.push(`verbose ${String(m)}`),
};

export function graphTestConfig(sim: GraphSimulator, env: Record<string, string> = {}): AppConfig {
  return loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: 'sqlite::memory:',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: `graphtest-${process.pid}-${randomBytes(4).toString('hex')}`,
    GRAPH_AUTHORITY_HOST: sim.authorityHost,
    GRAPH_BASE_URL: sim.graphBaseUrl,
    GRAPH_CA_FILE: sim.caFile,
    GRAPH_TIMEOUT_MS: '5000',
    ...env,
  });
}

export interface SimTenantHandle {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  credential: GraphCredential;
}

let defaultFixture: TenantFixture | undefined;

/**
 * A copy of the default fixture under a fresh tenant GUID with its own consented app, so each test
 * has its own log, permissions and in-flight counts.
 */
export function addFixtureTenant(sim: GraphSimulator, base?: TenantFixture): SimTenantHandle {
  defaultFixture ??= loadFixture();
  const fixture = base ?? defaultFixture;
  const tenantId = randomUUID();
  const clientId = randomUUID();
  const clientSecret = `sim8Q~${randomBytes(24).toString('base64url')}`;
  sim.addTenant({
    ...fixture,
    tenantId,
    domains: [`t${tenantId.slice(0, 8)}.onmicrosoft.com`],
    apps: [{ clientId, secrets: [{ value: clientSecret }], permissions: READ_PERMISSIONS }],
  });
  return {
    tenantId,
    clientId,
    clientSecret,
    credential: { microsoftTenantId: tenantId, clientId, version: '1', secret: { clientSecret } },
  };
}

export interface GraphHarness {
  module: TestingModule;
  config: AppConfig;
  source: GraphPolicySource;
  http: GraphHttpClient;
  tokens: GraphTokenProvider;
  limiter: GraphConcurrencyLimiter;
  /** What GRAPH_CREDENTIALS answers; change it to simulate a saved credential. */
  credential: GraphCredential | null;
  close(): Promise<void>;
}

/** The Graph module as the app will wire it, in its own Nest container: one "process". */
export async function startGraphModule(
  config: AppConfig,
  credential: GraphCredential | null,
  retryPolicy: Partial<GraphRetryPolicy> = FAST_RETRY,
): Promise<GraphHarness> {
  Logger.overrideLogger(capture);
  const harness = { credential } as GraphHarness;
  const credentials: GraphCredentialsProvider = { forTenant: async () => harness.credential };
  const module = await Test.createTestingModule({
    imports: [
      ConfigModule.forRoot(config),
      GraphModule.register({
        credentials: { provide: GRAPH_CREDENTIALS, useValue: credentials },
        retryPolicy,
      }),
    ],
  })
    .setLogger(capture)
    .compile();
  await module.init();
  Object.assign(harness, {
    module,
    config,
    source: module.get(GraphPolicySource),
    http: module.get(GraphHttpClient),
    tokens: module.get(GraphTokenProvider),
    limiter: module.get(GraphConcurrencyLimiter),
    close: () => module.close(),
  });
  return harness;
}

/** Removes every Redis key under a prefix (tests share the machine's Redis). */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}
