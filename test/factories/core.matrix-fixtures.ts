import { AuthService } from '../../src/auth';
import { BackupSetsService } from '../../src/backup-sets';
import { NotificationsService } from '../../src/notifications';
import type { FixtureContext, MatrixFixtures } from './matrix-fixtures';
import { insertRun } from './runs';

/** One object per kind, tenant and user, unless the call consumes it. */
const made = new Map<string, Promise<string | number>>();
function once(kind: string, ctx: FixtureContext, make: () => Promise<string | number>) {
  if (ctx.fresh) return make();
  const key = `${kind}|${ctx.tenant.id}|${ctx.user.id}`;
  if (!made.has(key)) made.set(key, make());
  return made.get(key)!;
}

const run =
  (status: 'completed' | 'pending' | 'failed', type = 'inventory.sync') =>
  (ctx: FixtureContext) =>
    once(`run:${type}:${status}`, ctx, () =>
      insertRun(ctx.t.dataSource, {
        tenantId: ctx.tenant.id,
        userId: ctx.user.id,
        type,
        status,
        createdAt: new Date(),
        total: 1,
        succeeded: status === 'completed' ? 1 : 0,
        failed: status === 'failed' ? 1 : 0,
        payload: { source: 'demo' },
      }),
    );

async function firstId(ctx: FixtureContext, sql: string, params: unknown[]): Promise<number> {
  const [row] = await ctx.t.dataSource.query(sql, params);
  if (!row) throw new Error(`no row for: ${sql}`);
  return Number(row.id);
}

/** The kinds the app's own routes name (@Ids); `run:<type>` for any type is made by the matrix itself. */
export const matrixFixtures: MatrixFixtures = {
  run: { owner: 'tenant', make: run('completed') },
  'run:pending': { owner: 'tenant', make: run('pending') },
  'run:failed': { owner: 'tenant', make: run('failed') },
  policy: {
    owner: 'tenant',
    make: (ctx) =>
      firstId(ctx, 'SELECT id FROM policies WHERE tenant_id = ? AND removed_at IS NULL ORDER BY id LIMIT 1', [
        ctx.tenant.id,
      ]),
  },
  // The set that holds the first item, so a route naming both gets a matching pair; a new one when consumed.
  backup_set: {
    owner: 'tenant',
    make: (ctx) =>
      ctx.fresh
        ? ctx.t
            .get<BackupSetsService>(BackupSetsService)
            .create(ctx.tenant.id, ctx.user.id, `Matrix ${Math.random().toString(36).slice(2)}`, null)
        : firstId(
            ctx,
            'SELECT backup_set_id AS id FROM backup_items WHERE tenant_id = ? ORDER BY id LIMIT 1',
            [ctx.tenant.id],
          ),
  },
  backup_item: {
    owner: 'tenant',
    make: (ctx) =>
      firstId(ctx, 'SELECT id FROM backup_items WHERE tenant_id = ? ORDER BY id LIMIT 1', [ctx.tenant.id]),
  },
  notification: {
    owner: 'user',
    make: (ctx) =>
      once('notification', ctx, async () => {
        await ctx.t.get<NotificationsService>(NotificationsService).create({
          userId: ctx.user.id,
          tenantId: ctx.tenant.id,
          runId: null,
          kind: 'run_completed',
          level: 'success',
          title: 'Matrix note',
          body: 'Seeded for the authorization matrix.',
          link: null,
        });
        return firstId(ctx, 'SELECT MAX(id) AS id FROM notifications WHERE user_id = ?', [ctx.user.id]);
      }),
  },
  api_token: {
    owner: 'user',
    make: (ctx) =>
      once(
        'api_token',
        ctx,
        async () => (await ctx.t.get<AuthService>(AuthService).createToken(ctx.user.id, 'matrix')).id,
      ),
  },
  startable_type: { owner: 'none', make: async () => 'inventory.sync' },
};

/** `run:<type>` for a type no fixture names: a finished run of that type. */
export function runOfType(type: string) {
  return { owner: 'tenant' as const, make: run('completed', type) };
}
