import { EntityManager } from 'typeorm';
import type { StatusBucket } from './run-status';

export interface RollupKey {
  tenantId: number;
  createdAt: Date;
  resource: string;
  action: string;
}

/** The UTC calendar day a run belongs to in the chart: the day it was created. */
export function rollupDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/**
 * Moves a run between bucket counters of its (tenant, day, type) in the caller's transaction: one
 * statement, an upsert that adds the deltas. Counters are what the chart and totals read.
 */
export async function applyRollup(
  em: EntityManager,
  mysql: boolean,
  key: RollupKey,
  deltas: Array<[StatusBucket, number]>,
): Promise<void> {
  if (!deltas.length) return;
  const day = rollupDay(key.createdAt);
  const values = deltas.map(() => '(?, ?, ?, ?, ?, ?)').join(', ');
  const params = deltas.flatMap(([bucket, n]) => [key.tenantId, day, key.resource, key.action, bucket, n]);
  const upsert = mysql
    ? 'ON DUPLICATE KEY UPDATE n = n + VALUES(n)'
    : 'ON CONFLICT (tenant_id, day, resource, action, bucket) DO UPDATE SET n = n + excluded.n';
  await em.query(
    `INSERT INTO run_daily_counts (tenant_id, day, resource, action, bucket, n) VALUES ${values} ${upsert}`,
    params,
  );
}
