import { Controller, Get, Render } from '@nestjs/common';

const TYPES = [
  { type: 'inventory.sync', label: 'Inventory sync' },
  { type: 'drift.generate', label: 'Drift report' },
  { type: 'backup_set.add_policies', label: 'Add policies to backup set' },
];
const BUCKETS = [
  { bucket: 'succeeded', status: 'completed', bucketLabel: 'Succeeded' },
  { bucket: 'partial', status: 'completed_with_errors', bucketLabel: 'Partial' },
  { bucket: 'failed', status: 'failed', bucketLabel: 'Failed' },
];

/** One page of runs as the hub's list shows them, fixed at start-up: the page costs its rendering only. */
const ROWS = Array.from({ length: 25 }, (_, k) => {
  const id = 1_000_000 - k;
  const total = 1000 + 37 * k;
  const failed = k % 3 === 0 ? 0 : 3 * k;
  return {
    id,
    href: `/runs/${id}`,
    ...TYPES[k % TYPES.length],
    ...BUCKETS[k % 7 === 0 ? 2 : k % 3 === 0 ? 0 : 1],
    processed: total,
    total,
    succeeded: total - failed - k,
    failed,
    skipped: k,
    initiator: 'Avery Admin',
    createdAt: new Date(Date.UTC(2026, 10, 27, 12, 0) - k * 600_000).toISOString(),
    duration: `${k + 1} min ${(k * 7) % 60} s`,
  };
});

@Controller()
export class BareController {
  @Get('/hello')
  hello() {
    return { hello: 'world' };
  }

  @Get('/rows')
  @Render('rows')
  rows() {
    return { title: 'Operations', rows: ROWS };
  }
}
