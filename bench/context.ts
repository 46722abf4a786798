import type { BenchApp } from './app';
import type { BenchBackends } from './backends';
import type { LoadGen } from './loadgen';

/** Sizes of one bench mode: the full run, or the CI smoke run that only proves every section works. */
export interface BenchSizes {
  scales: number[];
  requests: number;
  warmup: number;
  boardJobs: number;
  bookkeepingRuns: number;
  bareJobs: number;
  bareSqlJobs: number;
  bulkPolicies: number;
  driftPolicies: number;
  webSeconds: number;
  webRounds: number;
  /** Seconds per page and round against the bare baselines (rounds × seconds per page in all). */
  baselineSeconds: number;
  baselineRounds: number;
  /** `npm start`s per tree whose median is reported. */
  startupRuns: number;
}

export const FULL: BenchSizes = {
  scales: [10_000, 100_000, 1_000_000],
  requests: 200,
  warmup: 20,
  boardJobs: 100_000,
  bookkeepingRuns: 3000,
  bareJobs: 20_000,
  bareSqlJobs: 6000,
  bulkPolicies: 10_000,
  driftPolicies: 50_000,
  webSeconds: 5,
  webRounds: 2,
  // Short rounds, more of them: this VM's speed drifts by tens of percent within minutes, and each
  // round measures every page within a few seconds of the others.
  baselineSeconds: 2,
  baselineRounds: 4,
  startupRuns: 3,
};

export const SMOKE: BenchSizes = {
  scales: [1000, 5000],
  requests: 12,
  warmup: 3,
  boardJobs: 500,
  bookkeepingRuns: 60,
  bareJobs: 300,
  bareSqlJobs: 210,
  bulkPolicies: 500,
  driftPolicies: 2000,
  webSeconds: 1,
  webRounds: 1,
  baselineSeconds: 1,
  baselineRounds: 1,
  startupRuns: 1,
};

export interface BenchContext {
  smoke: boolean;
  sizes: BenchSizes;
  backends: BenchBackends;
  app: BenchApp;
  load: LoadGen;
  /** Session cookie of the demo admin (is_ops, member of every tenant). */
  adminCookie: string;
  adminId: number;
  /** Bearer token of the demo admin, for the JSON API. */
  adminToken: string;
  /** A second user that starts the bench's own runs, so the admin's bell count stays put. */
  benchUserId: number;
  log(msg: string): void;
}

/** A measured figure with its target; without `check` it is reported, not judged. */
export interface Figure {
  section: string;
  name: string;
  value: string;
  target: string;
  /** The ratio the target is about, when it is one. */
  ratio?: number;
  check?: { measured: number; kind: 'max' | 'min'; limit: number };
  pass?: boolean;
  /** Context for a reader judging a miss (e.g. how much background load moved a reference page). */
  note?: string;
}

export function judge(measured: number, kind: 'max' | 'min', limit: number): Pick<Figure, 'check' | 'pass'> {
  return {
    check: { measured, kind, limit },
    pass: Number.isFinite(measured) && (kind === 'max' ? measured <= limit : measured >= limit),
  };
}

/** "35 % over the limit" / "40 % short of it", for the report's list of misses. */
export function missBy(f: Figure): string {
  if (!f.check || f.pass) return '';
  const { measured, kind, limit } = f.check;
  return kind === 'max'
    ? `${Math.round((measured / limit - 1) * 100)} % over the limit`
    : `${Math.round((1 - measured / limit) * 100)} % short of the target`;
}
