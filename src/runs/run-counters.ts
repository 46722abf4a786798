import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { WriteBehind } from '../common/write-behind';
import { chunks } from '../database/sql';
import { BusCache, CacheBus } from '../queue';
import { RollupKey, rollupDay } from './run-rollup';
import type { StatusBucket } from './run-status';

/**
 * What a daily counter counts: runs by bucket, except that cancelled runs (bucket `failed`) count
 * under `cancelled` so the chart can tell them apart; every run is in exactly one counter.
 */
export type CounterKey = StatusBucket | 'cancelled';
import { RunsRepository } from './runs.repository';

const FLUSH_MS = 50;
const COUNTERS_TOPIC = 'runs:counters';

interface Pending {
  tenantId: number;
  day: string;
  resource: string;
  action: string;
  bucket: CounterKey;
  n: number;
}

/**
 * The daily counters behind the chart, written behind the lifecycle: deltas from many runs are
 * summed in memory and applied in one multi-row upsert every few milliseconds (and on shutdown), so a
 * run's start and end each cost one statement rather than three. What a killed process had not
 * flushed yet is put right by recount(), which the hourly maintenance job runs for recent days.
 */
@Injectable()
export class RunCounters implements OnApplicationShutdown {
  private readonly logger = new Logger('RunCounters');
  private pending = new Map<string, Pending>();
  private readonly behind = new WriteBehind(
    FLUSH_MS,
    () => {
      const batch = [...this.pending.values()].filter((p) => p.n !== 0);
      this.pending = new Map();
      return batch;
    },
    (batch) => this.write(batch),
  );

  /**
   * Reads of the counters (the chart's days, the list's totals) by tenant, kept until the counters of
   * that tenant change in any process (CacheBus).
   */
  readonly daily: BusCache<Array<{ day: string; bucket: CounterKey; n: number }>>;
  /** List totals, from the counters or (filters they cannot answer) counted on the runs, kept alike. */
  readonly totals: BusCache<{ n: number; exact: boolean }>;

  constructor(
    private readonly repo: RunsRepository,
    private readonly bus: CacheBus,
  ) {
    this.daily = new BusCache(bus, COUNTERS_TOPIC);
    this.totals = new BusCache(bus, COUNTERS_TOPIC);
  }

  add(key: RollupKey, deltas: Array<[CounterKey, number]>): void {
    const day = rollupDay(key.createdAt);
    for (const [bucket, n] of deltas) {
      const k = `${key.tenantId}|${day}|${key.resource}|${key.action}|${bucket}`;
      const p = this.pending.get(k);
      if (p) p.n += n;
      else
        this.pending.set(k, {
          tenantId: key.tenantId,
          day,
          resource: key.resource,
          action: key.action,
          bucket,
          n,
        });
    }
    this.behind.schedule();
  }

  /** Applies everything added so far; resolves once it is in the database. */
  flush(): Promise<void> {
    return this.behind.flush();
  }

  private async write(batch: Pending[]): Promise<void> {
    if (!batch.length) return;
    try {
      for (const part of chunks(batch, 500)) await this.repo.addDailyCounts(part);
      await this.bus.invalidate(COUNTERS_TOPIC, [...new Set(batch.map((p) => p.tenantId))]);
    } catch (e) {
      // Kept for the next flush: the database may just be briefly away.
      for (const p of batch)
        this.add(
          {
            tenantId: p.tenantId,
            createdAt: new Date(`${p.day}T00:00:00Z`),
            resource: p.resource,
            action: p.action,
          },
          [[p.bucket, p.n]],
        );
      this.logger.warn({ err: e, rows: batch.length }, 'could not write run counters; will retry');
    }
  }

  /**
   * Recomputes the counters of days from `sinceDay` on from the runs themselves: exact again after a
   * crash lost unflushed deltas. Active runs count under "queued", as the lifecycle keeps them.
   */
  async recount(sinceDay: string): Promise<void> {
    await this.flush();
    await this.repo.recountDays(sinceDay);
    await this.bus.invalidate(COUNTERS_TOPIC, 'all');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
  }
}
