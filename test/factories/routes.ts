import { AuthService } from '../../src/auth/auth.service';
import { BackupSetsService } from '../../src/backup-sets/backup-sets.service';
import { DemoPolicySource } from '../../src/demo';
import { InventoryService } from '../../src/inventory/inventory.service';
import { DriftService } from '../../src/drift/drift.service';
import { RunTypeRegistry } from '../../src/runs/run-types.registry';
import { RunsService } from '../../src/runs/runs.service';
import { TenantsService } from '../../src/tenants/tenants.service';
import { waitForTerminal } from './flows';
import type { TestApp } from './test-app';

/** One thing the app answers: a route (`GET /admin/t/:tenant/operations`) or a mounted sub-app (`MOUNT /admin/queues`). */
export interface DiscoveredRoute {
  method: string;
  path: string;
  /** `METHOD path`, the key of the security matrix's table. */
  key: string;
}

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  /** Express 5 (router 2): the mount path(s) of a middleware layer. */
  rawPath?: string | string[];
  /** Express 4: the mount path as a regexp; `fast_slash` for `/`. */
  regexp?: RegExp & { fast_slash?: boolean };
  name?: string;
}

/** Static files: served from installed packages, no data behind them. */
const IGNORED_MOUNTS = /^\/assets(\/|$)/;

/**
 * Every route the running app serves, read from the Express router at run time, so a route added
 * tomorrow shows up here without anyone updating a list. Middleware mounted under a path (Bull Board
 * at /admin/queues, Swagger UI's files) counts as a `MOUNT`. Layers that accept every HTTP method on
 * the catch-all path are Nest's global middleware (request logging), not endpoints.
 */
export function discoverRoutes(t: TestApp): DiscoveredRoute[] {
  const express = t.app.getHttpAdapter().getInstance() as {
    router?: { stack: Layer[] };
    _router?: { stack: Layer[] };
  };
  const stack = (express.router ?? express._router)?.stack;
  if (!stack) throw new Error('cannot find the Express router stack');
  const found = new Map<string, DiscoveredRoute>();
  const add = (method: string, path: string) => {
    const key = `${method} ${path}`;
    found.set(key, { method, path, key });
  };
  for (const layer of stack) {
    if (layer.route) {
      const methods = Object.keys(layer.route.methods).filter((m) => m !== '_all');
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
      const everyMethod = layer.route.methods._all || methods.length > 20;
      for (const path of paths) {
        if (everyMethod) {
          if (!/^\/?(\{?\*\w*\}?|\(\.\*\))$/.test(path)) add('MOUNT', path);
          continue;
        }
        for (const m of methods) if (m !== 'head' || !methods.includes('get')) add(m.toUpperCase(), path);
      }
      continue;
    }
    const mounts = ([] as Array<string | undefined>).concat(layer.rawPath ?? mountFromRegexp(layer.regexp));
    for (const mount of mounts)
      if (mount && mount !== '/' && !IGNORED_MOUNTS.test(mount)) add('MOUNT', mount);
  }
  return [...found.values()].sort((a, b) => a.key.localeCompare(b.key));
}

function mountFromRegexp(re: Layer['regexp']): string | undefined {
  if (!re || re.fast_slash) return undefined;
  const m = /^\/\^\\\/(.*?)\\\/\?\(\?=\\\/\|\$\)\/i$/.exec(String(re));
  return m ? `/${m[1].replace(/\\\//g, '/')}` : undefined;
}

/** Replaces `:name` segments; values are inserted as given (already encoded where that matters). */
export function fillPath(path: string, params: Record<string, string | number>): string {
  return path.replace(/:(\w+)/g, (_, name: string) => {
    if (!(name in params)) throw new Error(`no value for :${name} in ${path}`);
    return String(params[name]);
  });
}

export function paramsOf(path: string): string[] {
  return [...path.matchAll(/:(\w+)/g)].map((m) => m[1]);
}

/** Real objects of one tenant, for filling `:id` parameters. */
export interface TenantObjects {
  tenantId: number;
  slug: string;
  /** A finished inventory.sync run (the latest). */
  syncRun: number;
  driftRun: number;
  policy: number;
  /** All policy ids, in id order. */
  policies: number[];
  set: number;
  item: number;
  /** The backup_set.add_policies run that filled `set`. */
  addRun: number;
}

export interface World {
  adminId: number;
  contoso: TenantObjects;
  fabrikam: TenantObjects;
}

/**
 * Both demo tenants with something in every table a page reads: two inventory syncs, a drift
 * generation, a backup set with `itemCount` captured items. `size` keeps the synthetic tenants small,
 * so this takes well under a few seconds on either database.
 */
export async function seedWorld(
  t: TestApp,
  opts: { size?: number; itemCount?: number } = {},
): Promise<World> {
  const size = opts.size ?? 60;
  const itemCount = opts.itemCount ?? 3;
  const tenants = t.get<TenantsService>(TenantsService);
  const admin = await t.get<AuthService>(AuthService).findByEmail('admin@example.com');
  if (!admin) throw new Error('the demo seed has no admin@example.com');
  const adminId = admin.id;
  const inventory = t.get<InventoryService>(InventoryService);
  const drift = t.get<DriftService>(DriftService);
  const sets = t.get<BackupSetsService>(BackupSetsService);
  const demo = t.get<DemoPolicySource>(DemoPolicySource);

  const one = async (slug: string): Promise<TenantObjects> => {
    const tenantId = (await tenants.findBySlug(slug))!.id;
    await demo.setSize(tenantId, size);
    let syncRun = 0;
    for (let i = 0; i < 2; i++) {
      const { run } = await inventory.startSync(tenantId, adminId);
      const done = await waitForTerminal(t, run.id);
      if (done.statusBucket !== 'succeeded') throw new Error(`seed sync of ${slug} ended ${done.status}`);
      syncRun = run.id;
    }
    const { run: driftRun } = await drift.startGenerate(tenantId, adminId, drift.scopes()[0].key);
    await waitForTerminal(t, driftRun.id);
    const policies = (
      (await t.dataSource.query(
        'SELECT id FROM policies WHERE tenant_id = ? AND removed_at IS NULL ORDER BY id',
        [tenantId],
      )) as Array<{ id: number | string }>
    ).map((r) => Number(r.id));
    const set = await sets.create(tenantId, adminId, `World set ${slug}`, 'seeded for security tests');
    const { run: addRun } = await sets.startAddPolicies(tenantId, adminId, set, policies.slice(0, itemCount));
    const added = await waitForTerminal(t, addRun.id);
    if (added.statusBucket !== 'succeeded')
      throw new Error(`seed add-policies of ${slug} ended ${added.status}`);
    const [{ id: item }] = await t.dataSource.query(
      'SELECT id FROM backup_items WHERE backup_set_id = ? ORDER BY id LIMIT 1',
      [set],
    );
    return {
      tenantId,
      slug,
      syncRun,
      driftRun: driftRun.id,
      policy: policies[0],
      policies,
      set,
      item: Number(item),
      addRun: addRun.id,
    };
  };
  const [contoso, fabrikam] = await Promise.all([one('contoso'), one('fabrikam')]);
  return { adminId, contoso, fabrikam };
}

/** Pauses every producer queue in this process, so runs started by a test stay queued and do nothing. */
export async function pauseAllQueues(t: TestApp): Promise<void> {
  const runs = t.get<RunsService>(RunsService);
  const names = new Set(
    t
      .get<RunTypeRegistry>(RunTypeRegistry)
      .all()
      .map((d) => d.queue),
  );
  await Promise.all([...names].map((n) => runs.queue(n).pause(true)));
}

/** Runs `tasks` with at most `width` in flight, keeping their order in the result. */
export async function inPool<T>(tasks: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const out = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, tasks.length) }, worker));
  return out;
}
