import { EventEmitter2 } from '@nestjs/event-emitter';
import Bull from 'bull';
import { createPool } from 'mysql2/promise';
import { RUN_EVENTS, RunEventMap } from '../../src/runs/run-events';
import { RunsService } from '../../src/runs/runs.service';
import { TenantsService } from '../../src/tenants/tenants.service';
import { BENCH_ECHO } from '../bench-producer.module';
import { BenchContext, Figure, judge } from '../context';
import { fmt, ratio, sleep } from '../stats';
import { sqlCounter } from '../sql-counter';
import { Throughput, timed } from '../measure';

export const CONCURRENCY = 10;

/** The bench's own poll: a run's result notification (it replaces the queued one) has been written. */
const RESULT_NOTES = "SELECT COUNT(*) AS n FROM notifications WHERE tenant_id = ? AND kind <> 'run_queued'";
/** (b) and the hub are timed in this many alternating rounds. */
const ROUNDS = 3;

export interface BookkeepingResults {
  hub: Throughput;
  bare: Throughput;
  bareSql: Throughput;
  /** What one hub run sends to MySQL, start to last notification, grouped by statement shape. */
  oneRun: Array<{ statement: string; count: number }>;
  oneRunTransactions: number;
  /** The alternating rounds that hub and bareSql add up. */
  rounds: Array<{ hub: Throughput; bareSql: Throughput }>;
  figures: Figure[];
}

/** "INSERT INTO run_daily_counts …" / "UPDATE operation_runs" / "COMMIT": a statement's shape. */
function shape(sql: string): string {
  const s = sql.replace(/\s+/g, ' ').trim().replace(/`/g, '');
  const m =
    /^(INSERT (?:IGNORE )?INTO \S+|UPDATE \S+|DELETE FROM \S+)/i.exec(s) ??
    /^(SELECT) .*? FROM (\S+)(?: \S+)?( WHERE .*? FOR UPDATE)?/i.exec(s);
  if (!m) return s.slice(0, 40);
  if (/^SELECT/i.test(m[1])) return `SELECT … FROM ${m[2]}${m[3] ? ' … FOR UPDATE' : ''}`;
  return m[1];
}

/** Keeps `width` calls of `fn` in flight until `count` have been made. */
async function inFlight(count: number, width: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

/** The app's Bull settings, so the bare baselines pay for the same job options. */
function bullOptions(ctx: BenchContext): Bull.QueueOptions {
  const q = ctx.app.config.queue;
  return {
    redis: ctx.backends.redisUrl,
    prefix: ctx.backends.barePrefix,
    defaultJobOptions: {
      attempts: q.attempts,
      backoff: { type: 'exponential', delay: q.backoffMs },
      removeOnComplete: q.keepCompleted,
      removeOnFail: q.keepFailed,
    },
    settings: { maxStalledCount: 2, stalledInterval: q.stalledIntervalMs, lockDuration: q.lockDurationMs },
  };
}

/** Something to time in rounds: `measure(n)` times n more runs/jobs. */
interface Runner {
  measure(count: number): Promise<Throughput>;
  close(): Promise<void>;
}

/** Bare Bull: add → process → complete, with `perJob` as the whole job body (warmed up on open). */
async function openBareBull(
  ctx: BenchContext,
  name: string,
  warmup: number,
  perJob: (i: number) => Promise<void>,
): Promise<Runner> {
  const queue = new Bull(name, bullOptions(ctx));
  let completed = 0;
  let target = 0;
  let offset = 0;
  let release: () => void = () => undefined;
  queue.on('completed', () => {
    if (++completed === target) release();
  });
  queue.on('failed', (_job, err) => ctx.log(`  bare job failed: ${err.message}`));
  void queue.process(CONCURRENCY, async (job: Bull.Job<{ i: number }>) => perJob(job.data.i));
  const batch = async (n: number) => {
    completed = 0;
    target = n;
    const done = new Promise<void>((r) => (release = r));
    const from = offset;
    offset += n;
    await inFlight(n, CONCURRENCY, (i) => queue.add({ i: from + i }));
    await done;
  };
  await batch(warmup); // connections, JIT
  return { measure: (count) => timed(ctx, count, () => batch(count)), close: () => queue.close() };
}

/**
 * Hub runs end to end: RunsService.start() (row, counters, queued event + notification, job), the
 * executor marks it running, the handler records one item, the run finishes (finished event +
 * notification). Timed from the first start until the last run and its notifications are written.
 */
async function openHubRuns(ctx: BenchContext, tenantId: number, warmup: number): Promise<Runner> {
  const runs = ctx.app.get<RunsService>(RunsService);
  const events = ctx.app.get<EventEmitter2>(EventEmitter2);
  let finished = 0;
  let target = 0;
  let release: () => void = () => undefined;
  const onFinished = ({ run }: RunEventMap['run.finished']) => {
    if (run.type !== BENCH_ECHO) return;
    if (run.bucket !== 'succeeded') ctx.log(`  run ${run.id} ended ${run.status}`);
    if (++finished === target) release();
  };
  events.on(RUN_EVENTS.finished, onFinished);
  const notifications = async () => Number((await ctx.app.ds.query(RESULT_NOTES, [tenantId]))[0].n);
  let expectedNotifications = await notifications();
  const batch = async (n: number) => {
    finished = 0;
    target = n;
    const done = new Promise<void>((r) => (release = r));
    await inFlight(n, CONCURRENCY, (i) =>
      runs.start({ tenantId, userId: ctx.benchUserId, type: BENCH_ECHO, itemIds: [`item-${i}`] }),
    );
    await done;
    expectedNotifications += n;
    // Notifications are written by an async listener (the result replaces the queued notice): they are
    // part of the cost.
    for (let waited = 0; (await notifications()) < expectedNotifications; waited += 5) {
      if (waited > 30_000) throw new Error('notifications of the bench runs never arrived');
      await sleep(5);
    }
  };
  await batch(warmup);
  return {
    measure: (count) => timed(ctx, count, () => batch(count)),
    close: async () => {
      events.off(RUN_EVENTS.finished, onFinished);
    },
  };
}

export async function hubRuns(ctx: BenchContext, tenantId: number, count: number): Promise<Throughput> {
  const hub = await openHubRuns(ctx, tenantId, Math.max(10, Math.round(count / 20)));
  try {
    return await hub.measure(count);
  } finally {
    await hub.close();
  }
}

/** Several timings taken as one: counts and times add up. */
function combined(parts: Throughput[]): Throughput {
  const count = parts.reduce((n, p) => n + p.count, 0);
  const ms = parts.reduce((n, p) => n + p.ms, 0);
  const per = (k: 'statementsPer' | 'questionsPer') => parts.reduce((n, p) => n + p[k] * p.count, 0) / count;
  return {
    count,
    ms,
    perSecond: (count / ms) * 1000,
    statementsPer: per('statementsPer'),
    questionsPer: per('questionsPer'),
  };
}

export async function runBookkeepingSection(ctx: BenchContext): Promise<BookkeepingResults> {
  const { sizes } = ctx;
  const tenant = await ctx.app
    .get<TenantsService>(TenantsService)
    .create(
      { slug: 'bench-bookkeeping', name: 'Bench bookkeeping', microsoftTenantId: null, notes: null },
      { id: ctx.benchUserId },
    );

  ctx.log(`(a) bare Bull: ${sizes.bareJobs.toLocaleString('en-US')} no-op jobs…`);
  const noop = await openBareBull(ctx, 'bare-noop', Math.round(sizes.bareJobs / 20), async () => undefined);
  const bare = await noop.measure(sizes.bareJobs).finally(() => noop.close());
  ctx.log(`  ${fmt(bare.perSecond)} jobs/s`);

  const admin = await ctx.backends.admin();
  await admin.query(
    `CREATE TABLE bench_bare_runs (
       id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, tenant_id BIGINT NOT NULL, status VARCHAR(32) NOT NULL,
       created_at DATETIME(3) NOT NULL, updated_at DATETIME(3) NOT NULL
     ) ENGINE=InnoDB`,
  );
  await admin.end();
  const pool = createPool({ uri: ctx.backends.databaseUrl, connectionLimit: 20, timezone: 'Z' });
  const rounds: Array<{ hub: Throughput; bareSql: Throughput }> = [];
  try {
    const sql = await openBareBull(ctx, 'bare-sql', Math.round(sizes.bareSqlJobs / 20), async () => {
      const now = new Date();
      const [res]: any = await pool.query(
        'INSERT INTO bench_bare_runs (tenant_id, status, created_at, updated_at) VALUES (?, ?, ?, ?)',
        [tenant.id, 'running', now, now],
      );
      await pool.query('UPDATE bench_bare_runs SET status = ?, updated_at = ? WHERE id = ?', [
        'completed',
        new Date(),
        res.insertId,
      ]);
    });
    const hubRunner = await openHubRuns(ctx, tenant.id, Math.max(10, Math.round(sizes.bookkeepingRuns / 20)));
    try {
      // (b) and the hub take turns, so a change in what else the machine does hits both alike.
      for (let r = 1; r <= ROUNDS; r++) {
        const perRound = (n: number) => Math.round(n / ROUNDS);
        ctx.log(
          `round ${r}/${ROUNDS}: (b) bare Bull + INSERT + UPDATE, ${perRound(sizes.bareSqlJobs)} jobs…`,
        );
        const b = await sql.measure(perRound(sizes.bareSqlJobs));
        ctx.log(`  ${fmt(b.perSecond)} jobs/s; hub, ${perRound(sizes.bookkeepingRuns)} one-item runs…`);
        const h = await hubRunner.measure(perRound(sizes.bookkeepingRuns));
        ctx.log(`  ${fmt(h.perSecond)} runs/s, ${fmt(h.statementsPer)} SQL statements per run`);
        rounds.push({ hub: h, bareSql: b });
      }
    } finally {
      await hubRunner.close();
      await sql.close();
    }
  } finally {
    await pool.end();
  }
  const bareSql = combined(rounds.map((r) => r.bareSql));
  const hub = combined(rounds.map((r) => r.hub));
  ctx.log(`(b) ${fmt(bareSql.perSecond)} jobs/s, hub ${fmt(hub.perSecond)} runs/s over ${ROUNDS} rounds`);

  // Evidence: the statements of a single run, alone on the server side of this process.
  const runs = ctx.app.get<RunsService>(RunsService);
  const before = Number((await ctx.app.ds.query(RESULT_NOTES, [tenant.id]))[0].n);
  const { statements } = await sqlCounter.record(async () => {
    const { run } = await runs.start({
      tenantId: tenant.id,
      userId: ctx.benchUserId,
      type: BENCH_ECHO,
      itemIds: ['one'],
    });
    await ctx.app.finished(run.id);
    for (let waited = 0; waited < 10_000; waited += 5) {
      await sleep(5);
      const [{ n }] = await ctx.app.ds.query(RESULT_NOTES, [tenant.id]);
      if (Number(n) >= before + 1) break;
    }
  });
  const own = statements.filter((s) => s.sql.trim() !== RESULT_NOTES);
  const grouped = new Map<string, number>();
  for (const s of own) grouped.set(shape(s.sql), (grouped.get(shape(s.sql)) ?? 0) + 1);
  const oneRun = [...grouped.entries()].map(([statement, count]) => ({ statement, count }));
  // Each commit is a redo-log flush: explicit transactions, plus writes sent on their own (autocommit).
  let oneRunTransactions = 0;
  let inTx = false;
  for (const s of own) {
    const sql = s.sql.trim();
    if (/^START TRANSACTION/i.test(sql)) inTx = true;
    else if (/^(COMMIT|ROLLBACK)/i.test(sql)) {
      inTx = false;
      oneRunTransactions++;
    } else if (!inTx && /^(INSERT|UPDATE|DELETE)/i.test(sql)) oneRunTransactions++;
  }

  const section = '2. Run bookkeeping';
  const vsSql = ratio(hub.perSecond, bareSql.perSecond);
  const vsBare = ratio(hub.perSecond, bare.perSecond);
  return {
    hub,
    bare,
    bareSql,
    oneRun,
    oneRunTransactions,
    rounds,
    figures: [
      {
        section,
        name: `hub runs/s vs (b) bare Bull + INSERT + UPDATE (concurrency ${CONCURRENCY}, ${ROUNDS} alternating rounds)`,
        value: `${fmt(hub.perSecond)} vs ${fmt(bareSql.perSecond)} /s`,
        target: '≥ 0.5',
        ratio: vsSql,
        ...judge(vsSql, 'min', 0.5),
        note: `a hub run sends ${fmt(hub.statementsPer)} statements and ${oneRunTransactions} commits where (b) sends ${fmt(bareSql.statementsPer)} and 2 — see the per-statement table and the CPU profile below`,
      },
      {
        section,
        name: 'hub runs/s vs (a) bare Bull no-op jobs',
        value: `${fmt(hub.perSecond)} vs ${fmt(bare.perSecond)} /s`,
        target: 'reported',
        ratio: vsBare,
      },
      {
        section,
        name: 'SQL statements per run: hub vs (b) (one run alone: statements, commits)',
        value: `${fmt(hub.statementsPer)} vs ${fmt(bareSql.statementsPer)} (${own.length}, ${oneRunTransactions} commits)`,
        target: 'reported',
        ratio: ratio(hub.statementsPer, bareSql.statementsPer),
      },
    ],
  };
}
