import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { chunks } from '../../src/database/sql';
import { DriftService } from '../../src/drift/drift.service';
import { demoChanges, demoPolicies } from '../../src/demo';
import { Db } from '../../src/database/db';
import { PoliciesService } from '../../src/policies';
import { TenantsService } from '../../src/tenants/tenants.service';
import { BenchContext, Figure, judge } from '../context';
import { cpuProfile, CpuProfileSummary } from '../profile';
import { fmt } from '../stats';

const CHANGE_RATE = 0.02;
const MB = 1024 * 1024;

export interface DriftResults {
  policies: number;
  changes: { added: number; removed: number; modified: number };
  findings: number;
  seconds: number;
  baselineRssMb: number;
  peakRssMb: number;
  deltaMb: number;
  prepareMs: number;
  figures: Figure[];
}

/** A full collection before the baseline reading, so earlier sections' garbage is not counted. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
}

/** Linux keeps the process's peak RSS (VmHWM); writing 5 to clear_refs starts it afresh. */
function resetPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

function peakRss(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** An ended inventory.sync run to hold a snapshot, counted in the daily counters like any other. */
/** What the drift measurement needs: it runs in a process of its own (see drift-child.ts). */
export type DriftContext = Pick<BenchContext, 'sizes' | 'app' | 'benchUserId' | 'log'>;

async function syncRun(ctx: DriftContext, tenantId: number, at: Date, count: number): Promise<number> {
  const res = await ctx.app.ds.query(
    `INSERT INTO operation_runs (tenant_id, user_id, resource, action, status, status_bucket, total_items,
       processed_items, succeeded, failed, skipped, payload, failures, failures_omitted, attempts,
       created_at, started_at, finished_at, updated_at)
     VALUES (?, ?, 'inventory', 'sync', 'completed', 'succeeded', ?, ?, ?, 0, 0, '{"source":"demo"}', '[]', 0, 1, ?, ?, ?, ?)`,
    [tenantId, ctx.benchUserId, count, count, count, at, at, at, at],
  );
  await ctx.app.ds.query(
    `INSERT INTO run_daily_counts (tenant_id, day, resource, action, bucket, n) VALUES (?, ?, 'inventory', 'sync', 'succeeded', 1)
     ON DUPLICATE KEY UPDATE n = n + 1`,
    [tenantId, at.toISOString().slice(0, 10)],
  );
  return Number(res.insertId);
}

export interface DriftSnapshots {
  tenantId: number;
  changes: { added: number; removed: number; modified: number };
  prepareMs: number;
}

/**
 * Two snapshots of `size` policies with 2 % changes between them. The demo source cannot be told a
 * change rate, so both generations are rendered here and written as two syncs with the inventory's
 * own writeSyncBatch. This runs in the bench's main process, so the drift process starts clean.
 */
export async function prepareDriftSnapshots(ctx: DriftContext): Promise<DriftSnapshots> {
  const size = ctx.sizes.driftPolicies;
  const tenants = ctx.app.get<TenantsService>(TenantsService);
  const policyStore = ctx.app.get<PoliciesService>(PoliciesService);
  const db = ctx.app.get<Db>(Db);
  const tenant = await tenants.create(
    { slug: 'bench-drift', name: 'Bench drift', microsoftTenantId: null, notes: null },
    { id: ctx.benchUserId },
  );

  ctx.log(`writing two ${size.toLocaleString('en-US')}-policy snapshots…`);
  const t0 = Date.now();
  for (const generation of [1, 2]) {
    const policies = demoPolicies(tenant.slug, generation, { size, changeRate: CHANGE_RATE });
    const at = new Date(Date.now() - (3 - generation) * 3_600_000);
    const runId = await syncRun(ctx, tenant.id, at, policies.length);
    for (const part of chunks(policies, 250)) {
      await db.transaction((tx) => policyStore.writeSyncBatch(tx, tenant.id, runId, part));
    }
    if (generation === 2) await db.transaction((tx) => policyStore.markUnseenRemoved(tx, tenant.id, runId));
  }
  const prepareMs = Date.now() - t0;
  const expected = demoChanges(tenant.slug, 1, 2, { size, changeRate: CHANGE_RATE });
  const changes = {
    added: expected.added.length,
    removed: expected.removed.length,
    modified: expected.modified.length,
  };
  ctx.log(
    `  ${(prepareMs / 1000).toFixed(1)} s; ${changes.added} added, ${changes.removed} removed, ${changes.modified} modified`,
  );
  return { tenantId: tenant.id, changes, prepareMs };
}

/** One drift.generate over the prepared snapshots: seconds to finish and the process's peak RSS. */
export async function measureDrift(ctx: DriftContext, snapshots: DriftSnapshots): Promise<DriftResults> {
  const size = ctx.sizes.driftPolicies;
  const { tenantId, changes, prepareMs } = snapshots;
  const drift = ctx.app.get<DriftService>(DriftService);
  const scope = drift.scopes()[0];
  collectGarbage();
  const baseline = process.memoryUsage().rss;
  const hwm = resetPeak();
  let sampled = baseline;
  const sampler = setInterval(() => {
    sampled = Math.max(sampled, process.memoryUsage().rss);
  }, 20);
  const t1 = performance.now();
  let finished;
  try {
    const { run } = await drift.startGenerate(tenantId, ctx.benchUserId, scope.key);
    finished = await ctx.app.finished(run.id);
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - t1) / 1000;
  const peak = Math.max(sampled, hwm ? peakRss() : 0);
  if (finished.bucket !== 'succeeded') throw new Error(`drift.generate ended ${finished.status}`);
  const [{ n }] = await ctx.app.ds.query('SELECT COUNT(*) AS n FROM drift_findings WHERE run_id = ?', [
    finished.id,
  ]);
  const findings = Number(n);
  const want = changes.added + changes.removed + changes.modified;
  if (findings !== want) throw new Error(`drift found ${findings} changes, the demo tenant has ${want}`);

  const section = '4. Drift';
  const out: DriftResults = {
    policies: size,
    changes,
    findings,
    seconds,
    baselineRssMb: baseline / MB,
    peakRssMb: peak / MB,
    deltaMb: (peak - baseline) / MB,
    prepareMs,
    figures: [
      {
        section,
        name: `drift.generate, ${size.toLocaleString('en-US')} policies, ${CHANGE_RATE * 100} % changed (${findings} findings): seconds`,
        value: `${fmt(seconds)} s`,
        target: '≤ 3 s',
        ...judge(seconds, 'max', 3),
      },
      {
        section,
        name: 'peak RSS of the process running it (growth over its idle baseline)',
        value: `${fmt(peak / MB)} MB (+${fmt((peak - baseline) / MB)} MB over ${fmt(baseline / MB)} MB)`,
        target: '≤ 300 MB',
        ...judge(peak / MB, 'max', 300),
      },
    ],
  };
  ctx.log(`  ${fmt(seconds)} s, peak RSS ${fmt(peak / MB)} MB (+${fmt((peak - baseline) / MB)} MB)`);
  return out;
}

/** The same comparison once more (it adds no findings), under the CPU profiler: where its time goes. */
export async function profileDriftAgain(ctx: DriftContext): Promise<CpuProfileSummary> {
  const drift = ctx.app.get<DriftService>(DriftService);
  const [{ id }] = await ctx.app.ds.query("SELECT id FROM tenants WHERE slug = 'bench-drift'");
  const { summary } = await cpuProfile(async () => {
    const { run } = await drift.startGenerate(Number(id), ctx.benchUserId, drift.scopes()[0].key);
    await ctx.app.finished(run.id);
  });
  return summary;
}

export interface DriftChildInput {
  snapshots: DriftSnapshots;
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  benchUserId: number;
  smoke: boolean;
  profile: boolean;
}

export type DriftChildMessage =
  { ok: true; result: DriftResults; profile?: CpuProfileSummary } | { ok: false; error: string };

/**
 * Peak RSS is about the process doing the work, so drift runs in a fresh Node process with its own
 * instance of the app (same database, its own Bull prefix so no other worker takes the job): what
 * earlier sections left on the heap, the load generator and this process's bookkeeping stay out of it.
 */
export async function runDriftInChild(
  ctx: BenchContext,
  profile: boolean,
): Promise<{ result: DriftResults; profile?: CpuProfileSummary }> {
  const snapshots = await prepareDriftSnapshots(ctx);
  const input: DriftChildInput = {
    snapshots,
    databaseUrl: ctx.backends.databaseUrl,
    redisUrl: ctx.backends.redisUrl,
    prefix: ctx.backends.driftPrefix,
    benchUserId: ctx.benchUserId,
    smoke: ctx.smoke,
    profile,
  };
  const root = join(__dirname, '..', '..');
  const child = fork(join(__dirname, '..', 'drift-child.ts'), [], {
    execArgv: ['-r', require.resolve('ts-node/register/transpile-only')],
    env: {
      ...process.env,
      TS_NODE_PROJECT: join(root, 'tsconfig.json'),
      BENCH_DRIFT_INPUT: JSON.stringify(input),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let answer: DriftChildMessage | undefined;
    const timer = setTimeout(
      () => {
        child.kill('SIGKILL');
        reject(new Error('the drift process did not finish in time'));
      },
      ctx.smoke ? 120_000 : 600_000,
    );
    child.on('message', (m: DriftChildMessage) => (answer = m));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (answer?.ok) resolve({ result: answer.result, profile: answer.profile });
      else
        reject(new Error(answer && !answer.ok ? answer.error : `the drift process exited with code ${code}`));
    });
  });
}
