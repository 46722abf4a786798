import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { RunsRepository } from './runs.repository';

const MIN_MS = 2 * 60_000;
const MAX_MS = 6 * 3_600_000;
const CACHE_MS = 60_000;

/**
 * When a running run counts as stalled: no progress for longer than STALL_THRESHOLD_SECONDS, or, by
 * default, three times the longest of that type's recent successful runs in the tenant (within 2 min
 * to 6 h) — a 10-second sync is stuck after a few minutes, a two-hour backup is not.
 */
@Injectable()
export class RunStallService {
  /** Promises, so the rows of one list asking at once share one query. */
  private readonly cache = new Map<string, { ms: Promise<number>; at: number }>();

  constructor(
    private readonly repo: RunsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async thresholdMs(tenantId: number, resource: string, action: string): Promise<number> {
    if (this.config.stallThresholdSeconds) return this.config.stallThresholdSeconds * 1000;
    const key = `${tenantId}:${resource}.${action}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.ms;
    const entry = {
      ms: this.repo
        .recentDurationsMs(tenantId, resource, action)
        .then((durations) => Math.min(MAX_MS, Math.max(MIN_MS, Math.max(0, ...durations) * 3))),
      at: Date.now(),
    };
    this.cache.set(key, entry);
    // A failed read is not remembered.
    entry.ms.catch(() => this.cache.get(key) === entry && this.cache.delete(key));
    return entry.ms;
  }

  /** How long a running run has shown no progress, when that is past its threshold. */
  async stalledFor(
    run: { tenantId: number; resource: string; action: string; status: string; updatedAt: Date },
    now = Date.now(),
  ): Promise<number | null> {
    if (run.status !== 'running') return null;
    const idle = now - run.updatedAt.getTime();
    return idle > (await this.thresholdMs(run.tenantId, run.resource, run.action)) ? idle : null;
  }
}
