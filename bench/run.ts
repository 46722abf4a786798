/**
 * `npm run bench` — the hub against Bull Board, bare Bull and a bare NestJS app, on the MySQL and Redis
 * of this machine, and the time `npm start` takes to serve its first page.
 * `--smoke`: small sizes, every section, a few minutes (most of it starting servers); targets are
 * reported, never enforced.
 * `--keep`: leave the bench database in place afterwards. See BENCHMARKS.md for the latest full run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { AuthService } from '../src/auth/auth.service';
import { bootApp, BENCH_PASSWORD, BenchApp } from './app';
import { BenchBackends, createBackends } from './backends';
import { BenchContext, FULL, SMOKE } from './context';
import { LoadGen } from './loadgen';
import { loadAverage, machineInfo } from './machine';
import { cpuProfile } from './profile';
import { allFigures, BenchResults, consoleTable, markdown } from './report';
import { runBaselinesSection } from './sections/baselines';
import { CONCURRENCY, hubRuns, runBookkeepingSection } from './sections/bookkeeping';
import { runBulkItemsSection } from './sections/bulk-items';
import { runDriftInChild } from './sections/drift';
import { runGraphSyncSection } from './sections/graph-sync';
import { ID_BASE, runListSection } from './sections/list';
import { runWebSection } from './sections/web';
import { login } from './session';
import { sqlCounter } from './sql-counter';
import { measureStartup } from './startup';
import { sleep } from './stats';

const BUSY_TENANT = 'bench-t01';
const BUSY_LIST = `/admin/t/${BUSY_TENANT}/operations`;

function log(msg: string): void {
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** The demo seed starts a sync per demo tenant at boot; measure nothing until they are done. */
async function waitIdle(app: BenchApp): Promise<void> {
  for (let waited = 0; waited < 60_000; waited += 100) {
    const [{ n }] = await app.ds.query(
      "SELECT COUNT(*) AS n FROM operation_runs WHERE status IN ('pending', 'running')",
    );
    if (Number(n) === 0) return;
    await sleep(100);
  }
  throw new Error('runs started at boot never finished');
}

/**
 * The machine is shared: figures taken while other jobs keep both cores busy say little. A full run
 * waits (a few minutes at most) for the load to drop below the core count, then goes ahead anyway.
 */
async function waitForQuiet(maxMs: number): Promise<void> {
  const cores = os.cpus().length;
  const t0 = Date.now();
  while (os.loadavg()[0] > cores && Date.now() - t0 < maxMs) {
    log(`load average ${loadAverage()} on ${cores} cores: waiting for a quieter moment…`);
    await sleep(15_000);
  }
}

async function section<T>(
  results: BenchResults,
  name: string,
  work: () => Promise<T>,
): Promise<T | undefined> {
  log(`── ${name} (load average ${loadAverage()})`);
  results.sectionLoad[name] = loadAverage();
  const t0 = Date.now();
  try {
    const out = await work();
    log(`   ${name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return out;
  } catch (e) {
    const err = e as Error;
    results.errors.push(`${name}: ${err.message}`);
    log(`   ${name} FAILED: ${err.stack ?? err.message}`);
    return undefined;
  }
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const smoke = args.includes('--smoke');
  const keep = args.includes('--keep');
  // --only=2,3 runs just those sections (for working on one figure); its report stays in results/.
  const onlyArg = args.find((a) => a.startsWith('--only='));
  const only = onlyArg ? new Set(onlyArg.slice('--only='.length).split(',')) : null;
  // The web and baseline sections measure the list section's seeded tenant.
  if (only?.has('5') || only?.has('6')) only.add('1');
  const wanted = (n: string) => !only || only.has(n);
  const sizes = smoke ? SMOKE : FULL;
  const started = Date.now();
  sqlCounter.install();

  const backends: BenchBackends = await createBackends({ keep });
  let app: BenchApp | undefined;
  let load: LoadGen | undefined;
  const shutdown = async () => {
    await load?.close().catch(() => undefined);
    await app?.close().catch((e: Error) => log(`closing the app: ${e.message}`));
    await backends.cleanup().catch((e: Error) => log(`cleanup: ${e.message}`));
  };
  process.once('SIGINT', () => {
    log('interrupted; cleaning up');
    void shutdown().finally(() => process.exit(130));
  });

  const results: BenchResults = {
    mode: smoke ? 'smoke' : 'full',
    machine: await machineInfo(backends),
    loadEnd: '',
    durationMs: 0,
    profiles: {},
    sectionLoad: {},
    errors: [],
  };
  log(`${smoke ? 'smoke' : 'full'} run on database ${backends.database}, Redis prefix ${backends.appPrefix}`);
  try {
    if (!smoke) await waitForQuiet(180_000);
    results.machine.loadStart = loadAverage();
    // Before the bench's own app boots, so that nothing else of the bench runs beside `npm start`.
    if (wanted('7'))
      results.startup = await section(results, '7. startup (npm start)', () =>
        measureStartup({ runs: sizes.startupRuns, log }),
      );
    app = await bootApp(backends, CONCURRENCY);
    await waitIdle(app);
    const maxRows = sizes.scales[sizes.scales.length - 1];
    // Runs the app creates from now on get ids above the seeded history's.
    await app.ds.query(`ALTER TABLE operation_runs AUTO_INCREMENT = ${ID_BASE + maxRows + 1_000_000}`);
    const auth = app.get<AuthService>(AuthService);
    const [{ id: adminId }] = await app.ds.query("SELECT id FROM users WHERE email = 'admin@example.com'");
    const benchUser = await auth.createUser({
      email: 'bench@example.com',
      name: 'Bench Runner',
      password: BENCH_PASSWORD,
    });
    const ctx: BenchContext = {
      smoke,
      sizes,
      backends,
      app,
      load: undefined as unknown as LoadGen,
      adminCookie: await login(app.baseUrl, 'admin@example.com', BENCH_PASSWORD),
      adminId: Number(adminId),
      adminToken: (await auth.createToken(Number(adminId), 'bench')).token,
      benchUserId: benchUser.id,
      log,
    };
    // A CPU profile is taken for a section that missed a target; the smoke run profiles the cheap
    // sections too, so that code cannot rot either.
    const evidence = (miss: boolean) => smoke || miss;

    if (wanted('2'))
      results.bookkeeping = await section(results, '2. run bookkeeping', () => runBookkeepingSection(ctx));
    if (results.bookkeeping && evidence(results.bookkeeping.figures.some((f) => f.pass === false))) {
      const tenantId = Number(
        (await app.ds.query("SELECT id FROM tenants WHERE slug = 'bench-bookkeeping'"))[0].id,
      );
      results.profiles.bookkeeping = (
        await cpuProfile(() => hubRuns(ctx, tenantId, Math.min(500, sizes.bookkeepingRuns)))
      ).summary;
    }
    if (wanted('3')) results.bulk = await section(results, '3. bulk items', () => runBulkItemsSection(ctx));
    const drift = wanted('4')
      ? await section(results, '4. drift (own process)', () => runDriftInChild(ctx, smoke))
      : undefined;
    results.drift = drift?.result;
    if (drift?.profile) results.profiles.drift = drift.profile;

    load = LoadGen.start(app.port);
    ctx.load = load;
    if (wanted('1'))
      results.list = await section(results, '1. operations list + Bull Board', () => runListSection(ctx));
    if (results.list && !smoke && results.list.figures.some((f) => f.pass === false)) {
      results.profiles.list = (
        await cpuProfile(() =>
          load!.run({
            paths: [BUSY_LIST],
            headers: { cookie: ctx.adminCookie },
            connections: 1,
            requests: sizes.requests,
            warmup: 0,
          }),
        )
      ).summary;
    }
    if (wanted('5')) results.web = await section(results, '5. web', () => runWebSection(ctx, BUSY_LIST));
    if (results.web && !smoke && results.web.figures.some((f) => f.pass === false)) {
      results.profiles.web = (
        await cpuProfile(() =>
          load!.run({
            paths: [BUSY_LIST],
            headers: { cookie: ctx.adminCookie },
            connections: 10,
            durationMs: sizes.webSeconds * 1000,
            warmup: 0,
          }),
        )
      ).summary;
    }
    if (wanted('6'))
      results.baselines = await section(results, '6. bare NestJS baselines (own processes)', () =>
        runBaselinesSection(ctx, BUSY_TENANT),
      );
    if (wanted('8')) {
      // An app of its own, pointed at the Graph simulator, on a Redis prefix of its own. The bench's app
      // is closed first: its workers and reconciler must not take (or re-enqueue) the section's run, and
      // two apps in one process would share its two cores.
      await load.close();
      load = undefined;
      await app.close();
      app = undefined;
      results.graphSync = await section(results, '8. Graph sync', () =>
        runGraphSyncSection(ctx, (env) =>
          bootApp({ ...backends, appPrefix: `${backends.appPrefix}-graph` }, CONCURRENCY, env),
        ),
      );
    }
  } catch (e) {
    const err = e as Error;
    results.errors.push(err.message);
    log(`FAILED: ${err.stack ?? err.message}`);
  } finally {
    await shutdown();
  }

  results.durationMs = Date.now() - started;
  results.loadEnd = loadAverage();
  const figures = allFigures(results);
  process.stdout.write(`\n${consoleTable(figures)}\n\n`);
  const misses = figures.filter((f) => f.pass === false).length;
  process.stdout.write(
    `${figures.length} figures, ${misses} target${misses === 1 ? '' : 's'} missed${smoke ? ' (smoke sizes: targets not enforced)' : ''}; total ${(results.durationMs / 60_000).toFixed(1)} min\n`,
  );
  // Only a full run speaks for the project; a smoke run's report stays in the (ignored) results folder.
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const raw = join(dir, `${only ? 'only' : results.mode}.json`);
  writeFileSync(raw, JSON.stringify(results, null, 2));
  const report = only
    ? join(dir, 'only.md')
    : smoke
      ? join(dir, 'smoke.md')
      : join(__dirname, '..', 'BENCHMARKS.md');
  writeFileSync(report, markdown(results));
  log(`report written to ${report}; raw figures in ${raw}`);
  if (results.errors.length) {
    process.stdout.write(`\nErrors:\n${results.errors.map((e) => `  - ${e}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
