import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { NextFunction, Request, Response } from 'express';
import { appPino } from '../../src/common/app-logger';
import { requestLog } from '../../src/web';
import { BENCH_PASSWORD } from '../app';
import { BenchContext, Figure, judge } from '../context';
import { ServerProcess, startServer } from '../server-process';
import { getOk, login } from '../session';
import { fmt, median, ratio } from '../stats';
import { CONNECTIONS } from './web';

const ROOT = join(__dirname, '..', '..');

/** What a page is, where it is served and how it signs in. */
interface Page {
  key: PageKey;
  label: string;
  server: ServerProcess;
  path: string;
  /** One entry per connection (a session each), or one shared by all. */
  headers: Array<Record<string, string>>;
  /** The page answers what we mean to measure. */
  check(body: string): boolean;
}

type PageKey =
  | 'hello'
  | 'rows'
  | 'healthz'
  | 'help'
  | 'list'
  | 'apiToken'
  | 'apiTokenOne'
  | 'apiSession'
  | 'listInfo'
  | 'listTwin'
  | 'listRead'
  | 'apiTokenRead';

export interface PageThroughput {
  label: string;
  rps: number;
  /** Round trip seen by the client, ms (the bare app sends no X-Response-Time). */
  clientP50: number;
  /** What the server wrote to its log per request while this page was measured. */
  logBytesPerRequest: number;
}

export interface BaselineResults {
  /** The app's request-log middleware alone, in this process, per request (µs): what LOG_LEVEL=info adds. */
  logMicros: number;
  seconds: number;
  rounds: number;
  pages: Record<PageKey, PageThroughput>;
  figures: Figure[];
}

/**
 * The app's own entry point (what `npm start` runs) in a process of its own, on the bench's database;
 * `pageCache` false (RUNS_PAGE_CACHE) makes every list and API page read the database.
 */
function startApp(
  ctx: BenchContext,
  logLevel: 'warn' | 'info',
  pageCache = true,
  role = '',
): Promise<ServerProcess> {
  const name = `app-${logLevel}${pageCache ? '' : '-no-page-cache'}${role}`;
  return startServer({
    name,
    script: join(ROOT, 'src', 'main.ts'),
    env: {
      NODE_ENV: 'production',
      LOG_LEVEL: logLevel,
      DATABASE_URL: ctx.backends.databaseUrl,
      REDIS_URL: ctx.backends.redisUrl,
      // Its own Bull prefix (cleaned up with the bench's), so its workers take no job of the bench app.
      REDIS_PREFIX: `${ctx.backends.appPrefix}-${name}`,
      RUNS_PAGE_CACHE: String(pageCache),
      SESSION_SECRET: randomBytes(32).toString('hex'),
      // The bench app has seeded the demo data already.
      DEMO_SEED: 'false',
      // As bench/app.ts: no retention sweep into the seeded history; ten sign-ins within a minute.
      RUNS_RETENTION_DAYS: '365',
      LOGIN_THROTTLE_LIMIT: '100',
    },
    readyPath: '/healthz',
    timeoutMs: 180_000,
  });
}

function startBare(): Promise<ServerProcess> {
  return startServer({
    name: 'bare',
    script: join(__dirname, '..', 'bare', 'main.ts'),
    env: { NODE_ENV: 'production' },
    readyPath: '/hello',
    timeoutMs: 120_000,
  });
}

async function sessionsOn(server: ServerProcess): Promise<Array<Record<string, string>>> {
  const out: Array<Record<string, string>> = [];
  for (let k = 0; k < CONNECTIONS; k++)
    out.push({ cookie: await login(server.baseUrl, 'admin@example.com', BENCH_PASSWORD) });
  return out;
}

/**
 * What every request pays before any page code runs: the app (its own `src/main.ts`, in a process of
 * its own, production settings) against a bare NestJS app started the same way (`bench/bare/`). Ten
 * keep-alive connections per page from the same load generator, the pages in alternating rounds so
 * drifting background load hits all of them alike. The app runs twice, with LOG_LEVEL=warn and info,
 * to price request logging.
 */
export async function runBaselinesSection(ctx: BenchContext, tenant: string): Promise<BaselineResults> {
  const { baselineSeconds, baselineRounds } = ctx.sizes;
  ctx.log(
    'starting the bare NestJS app and the app four times (LOG_LEVEL=warn, info, warn without the page cache, warn for the list alone), each in its own process…',
  );
  const started = await Promise.allSettled([
    startBare(),
    startApp(ctx, 'warn'),
    startApp(ctx, 'info'),
    startApp(ctx, 'warn', false),
    startApp(ctx, 'warn', true, '-twin'),
  ]);
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const [bare, warn, info, read, twin] = servers;
    const list = `/admin/t/${tenant}/operations`;
    const api = `/api/v1/tenants/${tenant}/runs`;
    const token = [{ authorization: `Bearer ${ctx.adminToken}` }];
    const newest = (JSON.parse(await getOk(warn.baseUrl, api, token[0])) as { data: Array<{ id: number }> })
      .data[0];
    if (!newest) throw new Error(`the runs API lists no run of ${tenant}`);
    const fullPage = (body: string) => (JSON.parse(body) as { data: unknown[] }).data.length === 25;
    const showsNewest = (body: string) => body.includes(`#${newest.id}`);
    const warnSessions = await sessionsOn(warn);
    const infoSessions = await sessionsOn(info);
    const readSessions = await sessionsOn(read);
    const twinSessions = await sessionsOn(twin);
    const pages: Page[] = [
      {
        key: 'hello',
        label: 'bare NestJS `/hello`',
        server: bare,
        path: '/hello',
        headers: [{}],
        check: (body) => body === '{"hello":"world"}',
      },
      {
        key: 'rows',
        label: 'bare NestJS 25-row Handlebars page',
        server: bare,
        path: '/rows',
        headers: [{}],
        check: (body) => (body.match(/<a href="\/runs\/\d+">#/g) ?? []).length === 25,
      },
      {
        key: 'healthz',
        label: '`/healthz`',
        server: warn,
        path: '/healthz',
        headers: [{}],
        check: (body) => body.startsWith('{'),
      },
      {
        key: 'help',
        label: '`/admin/help`',
        server: warn,
        path: '/admin/help',
        headers: warnSessions,
        check: (body) => body.includes('</html>'),
      },
      {
        key: 'list',
        label: 'Operations list',
        server: warn,
        path: list,
        headers: warnSessions,
        check: showsNewest,
      },
      {
        // Target 5's LOG_LEVEL=warn side: a process that, like the info one, serves the list alone.
        // Compared with the main warn process, which also serves the other pages, the info process
        // answered the list 13-19 % slower in A/A runs of this section (both at warn), more than any log
        // line costs; against this twin the same A/A run came out at 1.07. The figure list vs listTwin
        // shows that gap in every run.
        key: 'listTwin',
        label: 'Operations list, LOG_LEVEL=warn, serving the list alone',
        server: twin,
        path: list,
        headers: twinSessions,
        check: showsNewest,
      },
      {
        key: 'listInfo',
        label: 'Operations list, LOG_LEVEL=info',
        server: info,
        path: list,
        headers: infoSessions,
        check: showsNewest,
      },
      {
        key: 'apiToken',
        label: 'runs API, Bearer token',
        server: warn,
        path: api,
        headers: token,
        check: fullPage,
      },
      {
        // Not a target: the same request for one run, so the API's fixed price (routing, token, tenant,
        // ability, one indexed read, the answer) is told apart from what its 25 rows add.
        key: 'apiTokenOne',
        label: 'runs API, Bearer token, one run a page',
        server: warn,
        path: `${api}?limit=1`,
        headers: token,
        check: (body) => (JSON.parse(body) as { data: unknown[] }).data.length === 1,
      },
      {
        key: 'apiSession',
        label: 'runs API, browser session',
        server: warn,
        path: api,
        headers: warnSessions,
        check: fullPage,
      },
      {
        // Not targets: the same pages from a server without the page cache, each request reading its
        // rows from the database (what the first view after a change of the tenant's runs costs).
        key: 'listRead',
        label: 'Operations list, RUNS_PAGE_CACHE=false',
        server: read,
        path: list,
        headers: readSessions,
        check: showsNewest,
      },
      {
        key: 'apiTokenRead',
        label: 'runs API, Bearer token, RUNS_PAGE_CACHE=false',
        server: read,
        path: api,
        headers: token,
        check: fullPage,
      },
    ];
    for (const p of pages) {
      if (!p.check(await getOk(p.server.baseUrl, p.path, p.headers[0])))
        throw new Error(`GET ${p.path} on ${p.server.name} did not answer the page it should`);
    }

    const totals = new Map(
      pages.map((p) => [p.key, { count: 0, ms: 0, client: [] as number[], log: 0, logged: 0 }]),
    );
    for (let round = 0; round < baselineRounds; round++) {
      // Every other round runs the pages in reverse order, so no page always follows the same one
      // (the list with LOG_LEVEL=warn and with info sit side by side and swap places each round).
      for (const p of round % 2 ? [...pages].reverse() : pages) {
        const log0 = p.server.logBytes();
        // The processes are fresh: the first round warms their JIT and caches for longer.
        // Every round also warms each page for a second: a process that sat idle while the others were
        // measured answers slower for a while, more so the less it serves (see listTwin).
        const warmup = (round === 0 ? 50 : 5) * CONNECTIONS;
        const r = await ctx.load.run({
          paths: [p.server.url(p.path)],
          headers: p.headers[0],
          connectionHeaders: p.headers,
          connections: CONNECTIONS,
          durationMs: baselineSeconds * 1000,
          warmup,
          warmupMs: 1000,
        });
        if (r.errors.length) throw new Error(`GET ${p.path} on ${p.server.name}: ${r.errors.join(' | ')}`);
        const t = totals.get(p.key)!;
        t.count += r.count;
        t.ms += r.elapsedMs;
        t.client.push(...r.clientMs);
        t.log += p.server.logBytes() - log0;
        t.logged += r.count + r.warmed;
      }
    }
    const measured = Object.fromEntries(
      pages.map((p) => {
        const t = totals.get(p.key)!;
        return [
          p.key,
          {
            label: p.label,
            rps: (t.count / t.ms) * 1000,
            clientP50: median(t.client),
            logBytesPerRequest: t.log / t.logged,
          },
        ];
      }),
    ) as Record<PageKey, PageThroughput>;
    ctx.log(`  ${pages.map((p) => `${p.key} ${fmt(measured[p.key].rps)}`).join(', ')} req/s`);
    const logMicros = requestLogMicros(ctx.smoke ? 2000 : 100_000);
    ctx.log(`  the request log alone: ${fmt(logMicros)} µs a request`);
    return {
      logMicros,
      seconds: baselineSeconds * baselineRounds,
      rounds: baselineRounds,
      pages: measured,
      figures: baselineFigures(measured, logMicros),
    };
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
}

/**
 * What LOG_LEVEL=info adds to a request, measured where two server processes cannot differ: the app's
 * own request-log middleware and logger (src/web/request-log.ts, the app's pino options) in this
 * process, for one signed-in list request, its line serialized and handed to a sink that drops it.
 */
function requestLogMicros(n: number): number {
  let bytes = 0;
  const log = requestLog(appPino('info', { write: (line: string) => (bytes += line.length) }));
  if (!log) throw new Error('the request log is off at LOG_LEVEL=info');
  const req = {
    method: 'GET',
    path: '/admin/t/contoso/operations',
    originalUrl: '/admin/t/contoso/operations?bucket=failed',
    principal: { id: 1 },
    tenant: { slug: 'contoso' },
  } as unknown as Request;
  const next: NextFunction = () => undefined;
  const once = () => {
    const res = Object.assign(new EventEmitter(), { statusCode: 200 }) as unknown as Response;
    log(req, res, next);
    res.emit('finish');
  };
  for (let i = 0; i < Math.min(n, 20_000); i++) once();
  bytes = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) once();
  const micros = Number(process.hrtime.bigint() - t0) / n / 1000;
  if (bytes < n * 50) throw new Error('the request log wrote less than a line a request');
  return micros;
}

function baselineFigures(m: Record<PageKey, PageThroughput>, logMicros: number): Figure[] {
  const section = '6. Bare NestJS baselines';
  const vs = (key: PageKey, base: PageKey, limit: number, name: string): Figure => {
    const r = ratio(m[key].rps, m[base].rps);
    return {
      section,
      name: `${name}, requests/s, ${CONNECTIONS} connections`,
      value: `${fmt(m[key].rps)} vs ${fmt(m[base].rps)} req/s (client p50 ${fmt(m[key].clientP50)} vs ${fmt(m[base].clientP50)} ms)`,
      target: `≥ ${limit}`,
      ratio: r,
      ...judge(r, 'min', limit),
    };
  };
  const logging = ratio(m.listInfo.rps, m.listTwin.rps);
  const read = (key: PageKey, base: PageKey, name: string): Figure => ({
    section,
    name: `${name}, requests/s, ${CONNECTIONS} connections`,
    value: `${fmt(m[key].rps)} vs ${fmt(m[base].rps)} req/s (client p50 ${fmt(m[key].clientP50)} vs ${fmt(m[base].clientP50)} ms)`,
    target: 'none (the first view after a change)',
    ratio: ratio(m[key].rps, m[base].rps),
  });
  return [
    vs('healthz', 'hello', 0.7, '`/healthz` vs bare NestJS `/hello`'),
    vs(
      'list',
      'rows',
      0.3,
      'Operations list (signed in, 25 rows, chart, bell) vs bare 25-row Handlebars page',
    ),
    vs('help', 'rows', 0.5, '`/admin/help` vs bare 25-row Handlebars page'),
    vs('apiToken', 'hello', 0.3, 'runs API with a Bearer token vs bare NestJS `/hello`'),
    vs('apiSession', 'hello', 0.3, 'runs API with a browser session vs bare NestJS `/hello`'),
    read(
      'listRead',
      'rows',
      'Operations list read from the database on every request (RUNS_PAGE_CACHE=false) vs bare 25-row Handlebars page',
    ),
    read(
      'apiTokenRead',
      'hello',
      'runs API with a Bearer token read from the database on every request (RUNS_PAGE_CACHE=false) vs bare NestJS `/hello`',
    ),
    {
      section,
      name: `runs API with a Bearer token, one run a page (\`?limit=1\`) vs bare NestJS \`/hello\`, requests/s, ${CONNECTIONS} connections: the API's fixed price without its 25 rows`,
      value: `${fmt(m.apiTokenOne.rps)} vs ${fmt(m.hello.rps)} req/s (client p50 ${fmt(m.apiTokenOne.clientP50)} vs ${fmt(m.hello.clientP50)} ms)`,
      target: 'none (splits target 3)',
      ratio: ratio(m.apiTokenOne.rps, m.hello.rps),
    },
    {
      section,
      name: `Operations list at LOG_LEVEL=warn, a process serving every page of this section vs one serving the list alone, requests/s, ${CONNECTIONS} connections`,
      value: `${fmt(m.list.rps)} vs ${fmt(m.listTwin.rps)} req/s (client p50 ${fmt(m.list.clientP50)} vs ${fmt(m.listTwin.clientP50)} ms)`,
      target:
        'none (two processes started alike: why target 5 compares two processes that serve the list alone)',
      ratio: ratio(m.list.rps, m.listTwin.rps),
    },
    {
      section,
      name: `Operations list with LOG_LEVEL=info vs warn, requests/s, ${CONNECTIONS} connections, two processes that serve the list alone`,
      value: `${fmt(m.listInfo.rps)} vs ${fmt(m.listTwin.rps)} req/s (log ${fmt(m.listInfo.logBytesPerRequest)} vs ${fmt(m.listTwin.logBytesPerRequest)} bytes per request; the request log alone ${fmt(logMicros)} µs a request, ${fmt((logMicros * m.listTwin.rps) / 1e4)} % of a list request at the warn server's rate)`,
      target: '≥ 0.9',
      ratio: logging,
      ...judge(logging, 'min', 0.9),
      note: `the two figures come from two server processes, whose speeds differ by more than the log line costs: the request log alone takes ${fmt(logMicros)} µs a request`,
    },
  ];
}
