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

/** Rows each counter is spread over; see the run_daily_counts migration. */
export const ROLLUP_SHARDS = 16;

/**
 * Moves a run between bucket counters of its (tenant, day, type) in the caller's transaction: one
 * statement, an upsert that adds the deltas to one randomly chosen shard row. Readers sum the shards.
 */
export async function applyRollup(
  em: EntityManager,
  mysql: boolean,
  key: RollupKey,
  deltas: Array<[StatusBucket, number]>,
): Promise<void> {
  if (!deltas.length) return;
  const day = rollupDay(key.createdAt);
  const shard = Math.floor(Math.random() * ROLLUP_SHARDS);
  const values = deltas.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ');
  const params = deltas.flatMap(([bucket, n]) => [
    key.tenantId,
    day,
    key.resource,
    key.action,
    bucket,
    shard,
    n,
  ]);
  const upsert = mysql
    ? 'ON DUPLICATE KEY UPDATE n = n + VALUES(n)'
    : 'ON CONFLICT (tenant_id, day, resource, action, bucket, shard) DO UPDATE SET n = n + excluded.n';
  await em.query(
    `INSERT INTO run_daily_counts (tenant_id, day, resource, action, bucket, shard, n) VALUES ${values} ${upsert}`,
    params,
  );
}
