/**
 * Where a request's CPU goes: the app (its own `src/main.ts`, production settings, demo data on a
 * database of its own) and the bare NestJS baseline in processes of their own, each page loaded by the
 * bench's load generator for a few seconds while the server's CPU profiler runs (SIGUSR2 through
 * `cpu-prof-hook.js`, so boot is not in the profile). Prints requests/s and, per page, self time by
 * function and by place, and inclusive time by place (a package's whole cost, callees included).
 *
 *   npx ts-node --transpile-only bench/pipeline-profile.ts [--seconds=6] [--log=warn|info]
 *     [--pages=hello,rows,healthz,help,list,apiToken,apiTokenOne,apiSession,bell] [--keep-profiles=DIR]
 *     [--sql=true]  (instead of profiling: the SQL statements one warm request of each page sends)
 *     [--tenants=N]  (the admin belongs to N more tenants, as the bench's admin does to fifty)
 *     [--runs=N]  (N seeded runs, a fifth of them contoso's, as section 1 seeds its busy tenant)
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createBackends } from './backends';
import { LoadGen } from './loadgen';
import { RunSeeder } from './seed-runs';
import { ServerProcess, startServer } from './server-process';
import { getOk, login } from './session';
import { fmt, sleep } from './stats';

const ROOT = join(__dirname, '..');
const CONNECTIONS = 10;

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

function arg(name: string, fallback: string): string {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : fallback;
}

/** CPU seconds so far of a process (user + system, or the kernel's part alone, from /proc); 0 where unreadable. */
function cpuSeconds(pid: number | undefined, kernelOnly = false): number {
  if (!pid) return 0;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((kernelOnly ? 0 : Number(f[11])) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

function pidOf(name: string): number | undefined {
  try {
    return Number(execFileSync('pidof', ['-s', name], { encoding: 'utf8' }).trim()) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where the machine's CPU goes while a page is loaded: the server, the database, Redis and this
 * process (the load generator's thread). On two cores they all compete, so a page's cost elsewhere
 * (the database's share of its query, the generator's share of its bytes) counts too.
 */
function cpuSplit(serverPid: number): Record<string, number> {
  const own = process.cpuUsage();
  return {
    server: cpuSeconds(serverPid),
    "of it the server's kernel time": cpuSeconds(serverPid, true),
    database: cpuSeconds(pidOf('mariadbd') ?? pidOf('mysqld')),
    redis: cpuSeconds(pidOf('redis-server')),
    'load generator': (own.user + own.system) / 1e6,
  };
}

function placeOf(url: string, name: string): string {
  if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') return name;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const src = /\/(src|bench)\/(.+)$/.exec(url);
  if (src) return `${src[1]}/${src[2].replace(/\.(ts|js)$/, '')}`;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  return url || 'native';
}

function fnName(n: Node): string {
  const f = n.callFrame;
  const where = f.url ? ` ${f.url.replace(/^.*\/(node_modules|src|bench)\//, '')}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'}${where}`;
}

function summarize(p: Profile, requests: number) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const selfPlace = new Map<string, number>();
  const inclPlace = new Map<string, number>();
  const inclFn = new Map<string, number>();
  let total = 0;
  let idle = 0;
  p.samples.forEach((id, i) => {
    const ms = (p.timeDeltas[i] ?? 0) / 1000;
    const n = byId.get(id)!;
    if (n.callFrame.functionName === '(idle)') {
      idle += ms;
      return;
    }
    total += ms;
    const name = fnName(n);
    self.set(name, (self.get(name) ?? 0) + ms);
    const place = placeOf(n.callFrame.url, n.callFrame.functionName);
    selfPlace.set(place, (selfPlace.get(place) ?? 0) + ms);
    const places = new Set<string>();
    const fns = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const c = byId.get(cur)!;
      places.add(placeOf(c.callFrame.url, c.callFrame.functionName));
      fns.add(fnName(c));
    }
    for (const pl of places) inclPlace.set(pl, (inclPlace.get(pl) ?? 0) + ms);
    for (const f of fns) inclFn.set(f, (inclFn.get(f) ?? 0) + ms);
  });
  const top = (m: Map<string, number>, k: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(
        ([name, ms]) =>
          `    ${((ms / total) * 100).toFixed(1).padStart(5)} %  ${fmt((ms / requests) * 1000).padStart(6)} µs/req  ${name}`,
      )
      .join('\n');
  return [
    `  busy ${fmt(total)} ms, idle ${fmt(idle)} ms; ${fmt((total / requests) * 1000)} µs of CPU per request`,
    '  self time by place:',
    top(selfPlace, 18),
    '  inclusive time by place (callees included):',
    top(inclPlace, 30),
    '  self time by function:',
    top(self, 25),
    '  inclusive time by function:',
    top(inclFn, 45),
  ].join('\n');
}

/**
 * The SQL statements one request of each page sends (MariaDB's general log, this database's only),
 * warm: each page is requested once before, so caches are as they are under load.
 */
async function printStatements(
  backends: Awaited<ReturnType<typeof createBackends>>,
  pages: Array<{ key: string; server: ServerProcess; path: string; headers: Array<Record<string, string>> }>,
): Promise<void> {
  const conn = await backends.admin();
  try {
    await conn.query("SET GLOBAL log_output = 'TABLE'");
    for (const p of pages) {
      await conn.query('TRUNCATE mysql.general_log');
      await conn.query('SET GLOBAL general_log = 1');
      await getOk(p.server.baseUrl, p.path, p.headers[0]);
      await sleep(50);
      await conn.query('SET GLOBAL general_log = 0');
      const [rows] = await conn.query(
        "SELECT CAST(argument AS CHAR) AS q FROM mysql.general_log WHERE command_type IN ('Query', 'Execute') AND CAST(argument AS CHAR) NOT LIKE '%general_log%'",
      );
      const qs = (rows as Array<{ q: string }>).map((r) => r.q.replace(/\s+/g, ' ').slice(0, 220));
      process.stdout.write(
        `\n## ${p.key} ${p.path}: ${qs.length} statements\n${qs.map((q) => `  ${q}`).join('\n')}\n`,
      );
    }
  } finally {
    await conn.query('SET GLOBAL general_log = 0');
    await conn.end();
  }
}

async function waitForProfile(dir: string, n: number): Promise<Profile> {
  const file = join(dir, `${n}.cpuprofile`);
  for (let k = 0; k < 200 && !existsSync(file); k++) await sleep(50);
  return JSON.parse(readFileSync(file, 'utf8')) as Profile;
}

async function main(): Promise<void> {
  const seconds = Number(arg('seconds', '6'));
  const logLevel = arg('log', 'warn');
  const wanted = arg('pages', 'hello,rows,healthz,help,list,apiToken,apiTokenOne,apiSession').split(',');
  const backends = await createBackends({ keep: false });
  const profDir = arg('keep-profiles', '') || mkdtempSync(join(os.tmpdir(), 'pipeline-prof-'));
  mkdirSync(profDir, { recursive: true });
  const hook = join(__dirname, 'cpu-prof-hook.js');
  const servers: ServerProcess[] = [];
  let load: LoadGen | undefined;
  try {
    const [app, bare] = await Promise.all([
      startServer({
        name: 'app',
        script: join(ROOT, 'src', 'main.ts'),
        env: {
          NODE_ENV: 'production',
          LOG_LEVEL: logLevel,
          DATABASE_URL: backends.databaseUrl,
          REDIS_URL: backends.redisUrl,
          REDIS_PREFIX: `${backends.appPrefix}-prof`,
          SESSION_SECRET: randomBytes(32).toString('hex'),
          DEMO_SEED: 'true',
          LOGIN_THROTTLE_LIMIT: '100',
          NODE_OPTIONS: `--require ${hook}`,
          CPU_PROF_DIR: join(profDir, 'app'),
        },
        readyPath: '/healthz',
        timeoutMs: 180_000,
      }),
      startServer({
        name: 'bare',
        script: join(__dirname, 'bare', 'main.ts'),
        env: {
          NODE_ENV: 'production',
          NODE_OPTIONS: `--require ${hook}`,
          CPU_PROF_DIR: join(profDir, 'bare'),
        },
        readyPath: '/hello',
        timeoutMs: 120_000,
      }),
    ]);
    servers.push(app, bare);
    mkdirSync(join(profDir, 'app'), { recursive: true });
    mkdirSync(join(profDir, 'bare'), { recursive: true });
    // The demo seed starts a sync per tenant; let it finish.
    await sleep(4000);
    // The bench's admin belongs to some fifty tenants (its list section creates them): so can this one.
    const extraTenants = Number(arg('tenants', '0'));
    if (extraTenants > 0) {
      const c = await backends.admin();
      for (let k = 1; k <= extraTenants; k++) {
        const [r] = await c.query(
          "INSERT INTO tenants (slug, name, microsoft_tenant_id, notes, policy_source, created_at) VALUES (?, ?, NULL, NULL, 'demo', NOW())",
          [`extra-${k}`, `Extra tenant ${k}`],
        );
        await c.query(
          "INSERT INTO memberships (tenant_id, user_id, role, created_at) SELECT ?, id, 'owner', NOW() FROM users WHERE email = 'admin@example.com'",
          [(r as { insertId: number }).insertId],
        );
      }
      await c.query("UPDATE users SET auth_version = auth_version + 1 WHERE email = 'admin@example.com'");
      await c.end();
    }
    const runs = Number(arg('runs', '0'));
    if (runs > 0) {
      const c = await backends.admin();
      const [ts] = await c.query('SELECT id, slug FROM tenants ORDER BY slug = ? DESC, id', ['contoso']);
      const [us] = await c.query('SELECT id FROM users');
      const [mx] = await c.query('SELECT COALESCE(MAX(id), 0) AS m FROM operation_runs');
      const seeder = new RunSeeder(c, {
        maxRows: runs,
        tenants: (ts as Array<{ id: number; slug: string }>).map((t) => ({ id: Number(t.id), slug: t.slug })),
        userIds: (us as Array<{ id: number }>).map((u) => Number(u.id)),
        anchor: Date.now() - 60_000,
        idBase: Number((mx as Array<{ m: number }>)[0].m) + 1000,
      });
      await seeder.growTo(runs);
      await c.end();
    }
    const sessions: Array<Record<string, string>> = [];
    for (let k = 0; k < CONNECTIONS; k++)
      sessions.push({ cookie: await login(app.baseUrl, 'admin@example.com', 'atlas-demo') });
    const token = `ohub_${randomBytes(24).toString('base64url')}`;
    const conn = await backends.admin();
    await conn.query(
      `INSERT INTO api_tokens (user_id, name, token_hash, token_prefix, created_at)
       SELECT id, 'profile', ?, ?, NOW() FROM users WHERE email = 'admin@example.com'`,
      [createHash('sha256').update(token).digest('hex'), token.slice(0, 11)],
    );
    await conn.end();
    const pages = [
      { key: 'hello', server: bare, path: '/hello', headers: [{}] },
      { key: 'rows', server: bare, path: '/rows', headers: [{}] },
      { key: 'healthz', server: app, path: '/healthz', headers: [{}] },
      { key: 'help', server: app, path: '/admin/help', headers: sessions },
      { key: 'list', server: app, path: '/admin/t/contoso/operations', headers: sessions },
      {
        key: 'apiToken',
        server: app,
        path: '/api/v1/tenants/contoso/runs',
        headers: [{ authorization: `Bearer ${token}` }],
      },
      {
        key: 'apiTokenOne',
        server: app,
        path: '/api/v1/tenants/contoso/runs?limit=1',
        headers: [{ authorization: `Bearer ${token}` }],
      },
      { key: 'apiSession', server: app, path: '/api/v1/tenants/contoso/runs', headers: sessions },
      { key: 'bell', server: app, path: '/admin/notifications/bell', headers: sessions },
    ].filter((p) => wanted.includes(p.key));
    const bytes = new Map<string, number>();
    for (const p of pages) {
      const body = await getOk(p.server.baseUrl, p.path, p.headers[0]);
      bytes.set(p.key, Buffer.byteLength(body));
      if (process.env.PROFILE_DUMP) writeFileSync(join(process.env.PROFILE_DUMP, `${p.key}.html`), body);
    }
    if (arg('sql', '') === 'true') {
      await printStatements(
        backends,
        pages.filter((p) => p.server === app),
      );
      return;
    }
    load = LoadGen.start(0);
    const counts = new Map<string, number>();
    for (const p of pages) {
      const pid = p.server.pid;
      const spec = {
        paths: [p.server.url(p.path)],
        headers: p.headers[0],
        connectionHeaders: p.headers,
        connections: CONNECTIONS,
        warmup: 300,
      };
      await load.run({ ...spec, durationMs: 1000 });
      process.kill(pid, 'SIGUSR2');
      await sleep(100);
      const cpuBefore = cpuSplit(pid);
      const r = await load.run({ ...spec, durationMs: seconds * 1000, warmup: 0 });
      const cpuAfter = cpuSplit(pid);
      process.kill(pid, 'SIGUSR2');
      const n = (counts.get(p.server.name) ?? 0) + 1;
      counts.set(p.server.name, n);
      const profile = await waitForProfile(join(profDir, p.server.name), n);
      if (r.errors.length) process.stdout.write(`  errors: ${r.errors.join(' | ')}\n`);
      const split = Object.keys(cpuAfter)
        .map((k) => `${k} ${fmt(((cpuAfter[k] - cpuBefore[k]) * 1e6) / r.count)} µs`)
        .join(', ');
      process.stdout.write(
        `\n## ${p.key} (${p.server.name} ${p.path}): ${fmt(r.rps)} req/s, ${r.count} requests, ${fmt(bytes.get(p.key)! / 1024)} KB a page\n  CPU per request on the machine: ${split}\n${summarize(profile, r.count)}\n`,
      );
    }
  } finally {
    await load?.close();
    await Promise.all(servers.map((s) => s.close()));
    await backends.cleanup();
    if (!arg('keep-profiles', '')) rmSync(profDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    process.stderr.write(`${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
