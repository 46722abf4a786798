import type { BenchContext } from './context';
import type { LoadResult } from './loadgen';
import { globalQuestions } from './sections/server-status';
import { sqlCounter } from './sql-counter';
import { median, percentile } from './stats';

export interface Latency {
  /** Server-side (X-Response-Time), ms. */
  p50: number;
  p95: number;
  /** Round trip seen by the client, ms. */
  clientP50: number;
  n: number;
  bytes: number;
}

function check(path: string, r: LoadResult): void {
  if (r.errors.length) throw new Error(`GET ${path} failed: ${r.errors.join(' | ')}`);
  if (r.serverMs.some((v) => !Number.isFinite(v))) throw new Error(`GET ${path}: no X-Response-Time header`);
}

/**
 * Server-side latency of several pages, one request at a time. Each page's requests are spread over
 * `rounds` passes through the list, so a burst of load from elsewhere on the machine hits every page
 * alike instead of spoiling one of them.
 */
export async function latencies(
  ctx: BenchContext,
  pages: Array<{ key: string; path: string; headers: Record<string, string> }>,
  rounds = 4,
): Promise<Record<string, Latency>> {
  const acc = new Map<string, { server: number[]; client: number[]; bytes: number; count: number }>();
  for (const p of pages) {
    const warm = await ctx.load.run({
      paths: [p.path],
      headers: p.headers,
      connections: 1,
      requests: 1,
      warmup: ctx.sizes.warmup,
    });
    check(p.path, warm);
    acc.set(p.key, { server: [], client: [], bytes: 0, count: 0 });
  }
  const perRound = Math.ceil(ctx.sizes.requests / rounds);
  for (let round = 0; round < rounds; round++) {
    for (const p of pages) {
      const r = await ctx.load.run({
        paths: [p.path],
        headers: p.headers,
        connections: 1,
        requests: perRound,
        warmup: 0,
      });
      check(p.path, r);
      const a = acc.get(p.key)!;
      a.server.push(...r.serverMs);
      a.client.push(...r.clientMs);
      a.bytes += r.bytes;
      a.count += r.count;
    }
  }
  const out: Record<string, Latency> = {};
  for (const [key, a] of acc) {
    out[key] = {
      p50: median(a.server),
      p95: percentile(a.server, 95),
      clientP50: median(a.client),
      n: a.server.length,
      bytes: a.bytes / Math.max(1, a.count),
    };
  }
  return out;
}

export interface Throughput {
  count: number;
  ms: number;
  perSecond: number;
  /** Statements this process sent to MySQL per run/job. */
  statementsPer: number;
  /** The server's Questions delta per run/job (includes other clients of the shared server). */
  questionsPer: number;
}

/** Times `work` (count runs, jobs or items), with the statements it sent to MySQL. */
export async function timed(
  ctx: BenchContext,
  count: number,
  work: () => Promise<void>,
): Promise<Throughput> {
  const conn = await ctx.backends.admin();
  try {
    const q0 = await globalQuestions(conn);
    const s0 = sqlCounter.count;
    const t0 = performance.now();
    await work();
    const ms = performance.now() - t0;
    const statements = sqlCounter.count - s0;
    const questions = (await globalQuestions(conn)) - q0 - 1;
    return {
      count,
      ms,
      perSecond: (count / ms) * 1000,
      statementsPer: statements / count,
      questionsPer: questions / count,
    };
  } finally {
    await conn.end();
  }
}
