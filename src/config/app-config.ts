import { z } from 'zod';

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'], { message: 'must be true or false' })
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const int = (min: number, max: number) =>
  z.coerce
    .number({ message: 'must be a whole number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

const databaseUrl = z
  .string()
  .trim()
  .refine((v) => /^sqlite:.+/.test(v) || /^mysql:\/\/[^/]+\/[^/?]+/.test(v), {
    message: 'must be sqlite:<file> or mysql://user:password@host:port/database',
  });

const redisUrl = z
  .string()
  .trim()
  .refine((v) => /^rediss?:\/\/[^/]+/.test(v), { message: 'must be redis://host:port[/db]' });

/** The demo source's simulated Graph round trip, per request: `instant`, `realistic` or a number of ms. */
export const DEMO_PACES = { instant: 0, realistic: 250 } as const;

const demoPace = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => v in DEMO_PACES || (/^\d{1,5}(ms)?$/.test(v) && parseInt(v, 10) <= 60_000), {
    message: 'must be instant, realistic or a number of milliseconds per request from 0 to 60000 (e.g. 250)',
  })
  .transform((v) => (v in DEMO_PACES ? DEMO_PACES[v as keyof typeof DEMO_PACES] : parseInt(v, 10)));

/**
 * Every key the app reads from the environment. `.env.example` mirrors this list; a bad value stops
 * the process before anything starts.
 */
const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: databaseUrl.default('sqlite:./data/ops.sqlite'),
  REDIS_URL: redisUrl.optional(),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,64}$/, 'must be 1-64 letters, digits, ":", "_" or "-"')
    .default('ops'),
  APP_ROLE: z.enum(['web', 'worker', 'all'], { message: 'must be web, worker or all' }).default('all'),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  COOKIE_SECURE: bool.default(false),
  TRUST_PROXY: bool.default(false),
  DEMO_SEED: bool.optional(),
  DEMO_PASSWORD: z.string().min(8, 'must be at least 8 characters').default('atlas-demo'),
  DEMO_PACE: demoPace.default(DEMO_PACES.instant),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      message: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  QUEUE_CONCURRENCY: int(1, 200).default(4),
  JOB_ATTEMPTS: int(1, 20).default(3),
  JOB_BACKOFF_MS: int(0, 3_600_000).default(2000),
  KEEP_COMPLETED_JOBS: int(0, 1_000_000).default(1000),
  KEEP_FAILED_JOBS: int(0, 1_000_000).default(5000),
  ENQUEUE_TIMEOUT_MS: int(100, 60_000).default(3000),
  JOB_LOCK_MS: int(1000, 3_600_000).default(30_000),
  STALLED_INTERVAL_MS: int(500, 3_600_000).default(15_000),
  RECONCILE_INTERVAL_SECONDS: int(0, 86_400).default(60),
  SHUTDOWN_GRACE_MS: int(0, 600_000).default(8000),
  STALL_THRESHOLD_SECONDS: int(0, 604_800).optional(),
  RUNS_RETENTION_DAYS: int(1, 3650).default(90),
  RUNS_PAGE_CACHE: bool.default(true),
  LOGIN_THROTTLE_LIMIT: int(1, 10_000).default(10),
  LOGIN_THROTTLE_TTL_SECONDS: int(1, 86_400).default(60),
  BCRYPT_ROUNDS: int(4, 15).default(10),
  POLICY_SOURCE: z.enum(['demo'], { message: 'must be demo' }).default('demo'),
  PUBLIC_URL: z
    .string()
    .trim()
    .regex(/^https?:\/\/[^/\s]+(\/[^\s]*)?$/, 'must be an http(s) URL such as https://ops.example.com')
    .optional(),
  SMTP_URL: z
    .string()
    .trim()
    .regex(/^smtps?:\/\/\S+$/, 'must be smtp://user:password@host:port or smtps://…')
    .optional(),
  SMTP_FROM: z.string().trim().min(3).default('Tenant Operations Hub <no-reply@localhost>'),
  APP_ENCRYPTION_KEYS: z
    .string()
    .trim()
    .regex(
      /^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/=_-]{43,44}(,[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/=_-]{43,44})*$/,
      'must be kid:base64key[,kid:base64key…] with 32-byte keys, current first',
    )
    .optional(),
  GRAPH_AUTHORITY_HOST: z
    .string()
    .trim()
    .regex(/^https:\/\/[^/\s]+$/, 'must be an https origin such as https://login.microsoftonline.com')
    .default('https://login.microsoftonline.com'),
  GRAPH_BASE_URL: z
    .string()
    .trim()
    .regex(/^https:\/\/[^/\s]+$/, 'must be an https origin such as https://graph.microsoft.com')
    .default('https://graph.microsoft.com'),
  GRAPH_CA_FILE: z.string().trim().min(1).optional(),
  GRAPH_MAX_CONCURRENCY: int(1, 64).default(4),
  GRAPH_TIMEOUT_MS: int(100, 600_000).default(30_000),
  GRAPH_BACKOFF_MS: int(1, 60_000).default(1000),
});

export type RawConfig = z.infer<typeof schema>;

export class ConfigError extends Error {}

export interface AppConfig {
  env: RawConfig['NODE_ENV'];
  port: number;
  host: string;
  database: { type: 'sqlite'; file: string } | { type: 'mysql'; url: string };
  /** undefined = start an embedded redis-server for this process */
  redisUrl: string | undefined;
  redisPrefix: string;
  role: RawConfig['APP_ROLE'];
  runsWeb: boolean;
  runsWorker: boolean;
  sessionSecret: string | undefined;
  cookieSecure: boolean;
  trustProxy: boolean;
  demoSeed: boolean;
  demoPassword: string;
  /**
   * The demo source's simulated latency per Graph request (DEMO_PACE), for tenants with no latency of
   * their own: 0 answers at once (tests); `realistic` makes demo runs take seconds to minutes.
   */
  demoPaceMs: number;
  logLevel: RawConfig['LOG_LEVEL'];
  queue: {
    concurrency: number;
    attempts: number;
    backoffMs: number;
    keepCompleted: number;
    keepFailed: number;
    enqueueTimeoutMs: number;
    lockDurationMs: number;
    stalledIntervalMs: number;
    reconcileIntervalSeconds: number;
    /** How long a stopping worker lets running jobs reach a batch boundary before handing them back. */
    shutdownGraceMs: number;
  };
  stallThresholdSeconds: number | undefined;
  retentionDays: number;
  /**
   * Web processes keep the first pages of each tenant's run list (RunPageCache) until a run of that
   * tenant changes in any process; off: every list and API page reads the database.
   */
  runsPageCache: boolean;
  loginThrottle: { limit: number; ttlSeconds: number };
  bcryptRounds: number;
  policySource: RawConfig['POLICY_SOURCE'];
  /** Absolute base of links printed by the CLI or shown for copying (invitations, set-password). */
  publicUrl: string;
  smtp: { url: string; from: string } | null;
  /** APP_ENCRYPTION_KEYS as given (kid:base64key, current first); undefined = the embedded key file. */
  encryptionKeys: string | undefined;
  graph: {
    authorityHost: string;
    baseUrl: string;
    caFile: string | undefined;
    maxConcurrency: number;
    timeoutMs: number;
    /** First pause of the exponential backoff (with jitter) when Graph sends no Retry-After. */
    backoffMs: number;
  };
}

/** Parses the environment; throws ConfigError whose message is one line naming the bad key. */
export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  // Empty strings in .env files mean "not set", as they do for most twelve-factor tools.
  const cleaned = Object.fromEntries(
    Object.keys(schema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]),
  );
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue.path[0] ?? 'environment');
    const shown = cleaned[key] === undefined ? '' : ` (got "${redactValue(key, cleaned[key] as string)}")`;
    throw new ConfigError(`Invalid configuration: ${key} ${issue.message}${shown}`);
  }
  const c = parsed.data;
  const database = c.DATABASE_URL.startsWith('sqlite:')
    ? { type: 'sqlite' as const, file: c.DATABASE_URL.slice('sqlite:'.length) }
    : { type: 'mysql' as const, url: c.DATABASE_URL };
  if (database.type === 'mysql' && !c.SESSION_SECRET && c.NODE_ENV === 'production') {
    throw new ConfigError(
      'Invalid configuration: SESSION_SECRET is required when DATABASE_URL is MySQL in production (all web processes must share it)',
    );
  }
  return {
    env: c.NODE_ENV,
    port: c.PORT,
    host: c.HOST,
    database,
    redisUrl: c.REDIS_URL,
    redisPrefix: c.REDIS_PREFIX,
    role: c.APP_ROLE,
    runsWeb: c.APP_ROLE !== 'worker',
    runsWorker: c.APP_ROLE !== 'web',
    sessionSecret: c.SESSION_SECRET,
    cookieSecure: c.COOKIE_SECURE,
    trustProxy: c.TRUST_PROXY,
    // The demo data is for the embedded default; a real deployment opts in explicitly.
    demoSeed: c.DEMO_SEED ?? database.type === 'sqlite',
    demoPassword: c.DEMO_PASSWORD,
    demoPaceMs: c.DEMO_PACE,
    logLevel: c.LOG_LEVEL,
    queue: {
      concurrency: c.QUEUE_CONCURRENCY,
      attempts: c.JOB_ATTEMPTS,
      backoffMs: c.JOB_BACKOFF_MS,
      keepCompleted: c.KEEP_COMPLETED_JOBS,
      keepFailed: c.KEEP_FAILED_JOBS,
      enqueueTimeoutMs: c.ENQUEUE_TIMEOUT_MS,
      lockDurationMs: c.JOB_LOCK_MS,
      stalledIntervalMs: c.STALLED_INTERVAL_MS,
      reconcileIntervalSeconds: c.RECONCILE_INTERVAL_SECONDS,
      shutdownGraceMs: c.SHUTDOWN_GRACE_MS,
    },
    stallThresholdSeconds: c.STALL_THRESHOLD_SECONDS,
    retentionDays: c.RUNS_RETENTION_DAYS,
    runsPageCache: c.RUNS_PAGE_CACHE,
    loginThrottle: { limit: c.LOGIN_THROTTLE_LIMIT, ttlSeconds: c.LOGIN_THROTTLE_TTL_SECONDS },
    bcryptRounds: c.BCRYPT_ROUNDS,
    policySource: c.POLICY_SOURCE,
    publicUrl: (c.PUBLIC_URL ?? `http://localhost:${c.PORT}`).replace(/\/+$/, ''),
    smtp: c.SMTP_URL ? { url: c.SMTP_URL, from: c.SMTP_FROM } : null,
    encryptionKeys: c.APP_ENCRYPTION_KEYS,
    graph: {
      authorityHost: c.GRAPH_AUTHORITY_HOST,
      baseUrl: c.GRAPH_BASE_URL,
      caFile: c.GRAPH_CA_FILE,
      maxConcurrency: c.GRAPH_MAX_CONCURRENCY,
      timeoutMs: c.GRAPH_TIMEOUT_MS,
      backoffMs: c.GRAPH_BACKOFF_MS,
    },
  };
}

function redactValue(key: string, value: string): string {
  if (/SECRET|PASSWORD|KEYS|SMTP_URL/.test(key)) return '[redacted]';
  const noCreds = value.replace(/\/\/[^@/]*@/, '//[redacted]@');
  return noCreds.length > 60 ? `${noCreds.slice(0, 57)}...` : noCreds;
}
