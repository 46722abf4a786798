import request from 'supertest';
import TestAgent from 'supertest/lib/agent';
import { AuthService } from '../../src/auth/auth.service';
import { BackupSetsService } from '../../src/backup-sets/backup-sets.service';
import { NotificationsService } from '../../src/notifications/notifications.service';
import type { Role } from '../../src/tenants';
import { TenantsService } from '../../src/tenants/tenants.service';
import {
  discoverRoutes,
  DiscoveredRoute,
  fillPath,
  paramsOf,
  pauseAllQueues,
  seedWorld,
  TenantObjects,
  World,
} from '../factories/routes';
import { insertRun } from '../factories/runs';
import { createTestApp, csrfFrom, DEMO_PASSWORD, login, TestApp } from '../factories/test-app';

/**
 * The authorization matrix: every route the app serves × every kind of caller → the status they get.
 *
 * Routes are discovered from the running app's Express router, and a route without a row in TABLE
 * fails the suite, so nothing new can ship without someone deciding who may call it.
 *
 * POSTs carry the caller's own valid CSRF token (read from a page, as a browser does), so the status
 * tested is the authorization one. A permitted POST answers 303; every POST that is expected to
 * succeed gets its own fresh object where it would consume it (delete, cancel, revoke, logout).
 * Producer queues are paused after seeding, so runs started here stay queued and change nothing.
 */

type Caller =
  | 'owner'
  | 'manager'
  | 'operator'
  | 'readonly'
  | 'opsOperator'
  | 'opsReadonly'
  | 'otherTenant'
  | 'foreignIds'
  | 'anonymous'
  | 'anonCsrf'
  | 'tokenOnPage';

const CALLERS: Record<Caller, string> = {
  owner: 'admin@example.com: owner of contoso (and fabrikam), platform is_ops',
  manager: 'a manager of contoso, not is_ops',
  operator: 'operator@example.com: operator on contoso',
  readonly: 'readonly@example.com: readonly on contoso',
  opsOperator: 'an is_ops user who is operator on contoso',
  opsReadonly: 'an is_ops user who is only readonly on contoso',
  otherTenant: 'operator@example.com asking for fabrikam URLs and objects (no membership there)',
  foreignIds:
    "admin@example.com (member of both) asking contoso's URLs for fabrikam's objects, or for another user's",
  anonymous: 'no session, no token, no CSRF token',
  anonCsrf: 'a visitor with the CSRF token of the sign-in form (from /login), not signed in',
  tokenOnPage:
    "admin@example.com's valid API token as Authorization: Bearer, no session: the owner on /api/, a stranger anywhere else",
};
const ALL_CALLERS = Object.keys(CALLERS) as Caller[];
/** Callers whose expectation follows from another's, so rows need not name them. */
const DERIVED: Partial<Record<Caller, (path: string, row: Row) => number>> = {
  tokenOnPage: (path, row) => (path.startsWith('/api/') ? row.expect.owner! : row.expect.anonymous!),
};
const MEMBERS: Caller[] = ['owner', 'manager', 'operator', 'readonly', 'opsOperator', 'opsReadonly'];
/** May start, cancel and retry runs (DESIGN: owner, manager, operator). */
const STARTERS: Caller[] = ['owner', 'manager', 'operator', 'opsOperator'];
/** May create, rename and delete backup sets and change tenant settings (owner, manager). */
const MANAGERS: Caller[] = ['owner', 'manager'];

type Expect = Partial<Record<Caller, number>>;
type IdKind = 'run' | 'set' | 'item' | 'policy' | 'notification' | 'token' | 'pendingRun' | 'failedRun';

interface Row {
  expect: Expect;
  /** What each `:param` other than `:tenant` names. */
  ids?: Record<string, IdKind>;
  /** A cell expected to succeed consumes its object: give it a new one. */
  fresh?: boolean;
  /** A cell expected to succeed ends its session: use a new one. */
  freshSession?: boolean;
  body?: (caller: Caller, n: number) => Record<string, string | string[]>;
  /** For a MOUNT: the paths requested under it (all must answer the expected status). */
  probe?: string[];
  /** Being added right now: checked when the app serves it, not required yet. */
  upcoming?: boolean;
  why?: string;
}

const all = (status: number): Expect => Object.fromEntries(ALL_CALLERS.map((c) => [c, status]));
/** A tenant page: every member reads it; another tenant's is 404; anonymous visitors go to /login. */
const page = (status = 200): Expect => ({
  ...Object.fromEntries(MEMBERS.map((c) => [c, status])),
  otherTenant: 404,
  foreignIds: 404,
  anonymous: 302,
  anonCsrf: 302,
});
const api = (): Expect => ({ ...page(200), anonymous: 401, anonCsrf: 401 });
/** A tenant POST: `allowed` get 303, other members 403, another tenant's 404; no CSRF 403, no user 401. */
const post = (allowed: Caller[]): Expect => ({
  ...Object.fromEntries(MEMBERS.map((c) => [c, allowed.includes(c) ? 303 : 403])),
  otherTenant: 404,
  foreignIds: 404,
  anonymous: 403,
  anonCsrf: 401,
});
/** A page of the signed-in user's own (profile, notifications). */
const userPage = (status = 200): Expect => ({
  ...Object.fromEntries(MEMBERS.map((c) => [c, status])),
  anonymous: 302,
  anonCsrf: 302,
});
/** A POST on the user's own things; another user's object is 404. */
const userPost = (): Expect => ({ ...post(MEMBERS) });

let seq = 0;
const TABLE: Record<string, Row> = {
  'GET /': { expect: all(302), why: 'redirects to /admin' },
  'GET /login': {
    expect: { ...Object.fromEntries(MEMBERS.map((c) => [c, 302])), anonymous: 200, anonCsrf: 200 },
    why: 'public; a signed-in user is sent on',
  },
  'POST /login': {
    expect: { ...Object.fromEntries(MEMBERS.map((c) => [c, 401])), anonymous: 403, anonCsrf: 401 },
    body: (c) => ({ email: `nobody-${c}@example.invalid`, password: 'wrong-password' }),
    why: 'public; wrong credentials on purpose, so 401 shows the CSRF check passed',
  },
  'POST /logout': { expect: userPost(), freshSession: true },
  'GET /admin': { expect: all(302), why: 'to the first tenant, or to /login' },
  'GET /admin/t/:tenant': { expect: page(302), why: "to the tenant's operations" },
  'GET /admin/profile': { expect: userPage() },
  'GET /admin/help': { expect: userPage() },
  'POST /admin/profile/tokens': { expect: userPost(), body: () => ({ name: 'matrix token' }) },
  'POST /admin/profile/tokens/:id/revoke': { expect: userPost(), ids: { id: 'token' }, fresh: true },
  'GET /admin/notifications': { expect: userPage() },
  'GET /admin/notifications/bell': { expect: userPage() },
  'POST /admin/notifications/read-all': { expect: userPost() },
  'POST /admin/notifications/:id/read': { expect: userPost(), ids: { id: 'notification' } },
  'GET /admin/runs/:id': {
    expect: { ...page(302), foreignIds: 302 },
    ids: { id: 'run' },
    upcoming: true,
    why: "tenant-free run link: redirects members to the run's tenant URL; the owner is a member of fabrikam",
  },

  'GET /admin/t/:tenant/operations': { expect: page() },
  'GET /admin/t/:tenant/operations/rows': { expect: page() },
  'GET /admin/t/:tenant/operations/:id': { expect: page(), ids: { id: 'run' } },
  'GET /admin/t/:tenant/operations/:id/live': { expect: page(), ids: { id: 'run' } },
  'POST /admin/t/:tenant/operations/:id/cancel': {
    expect: post(STARTERS),
    ids: { id: 'pendingRun' },
    fresh: true,
    upcoming: true,
  },
  'POST /admin/t/:tenant/operations/:id/retry': {
    expect: post(STARTERS),
    ids: { id: 'failedRun' },
    fresh: true,
    upcoming: true,
  },
  'GET /api/v1/tenants/:tenant/runs': { expect: api() },
  'GET /api/v1/tenants/:tenant/runs/:id': { expect: api(), ids: { id: 'run' } },

  'GET /admin/t/:tenant/policies': { expect: page() },
  'GET /admin/t/:tenant/policies/:id': { expect: page(), ids: { id: 'policy' } },
  'POST /admin/t/:tenant/inventory/sync': { expect: post(STARTERS) },
  'GET /admin/t/:tenant/demo-source': { expect: page() },
  'POST /admin/t/:tenant/demo-source/fault': {
    expect: post(MANAGERS),
    why: 'tenant settings (update Tenant); an empty body makes the demo source healthy',
  },
  'GET /admin/t/:tenant/drift': { expect: page() },
  'POST /admin/t/:tenant/drift/generate': { expect: post(STARTERS) },
  'GET /admin/t/:tenant/drift/findings': { expect: page() },

  'GET /admin/t/:tenant/backup-sets': { expect: page() },
  'POST /admin/t/:tenant/backup-sets': {
    expect: post(MANAGERS),
    body: (c, n) => ({ name: `Matrix ${c} ${n}`, description: '' }),
  },
  'GET /admin/t/:tenant/backup-sets/:id': { expect: page(), ids: { id: 'set' } },
  'GET /admin/t/:tenant/backup-sets/:id/items/:itemId': {
    expect: page(),
    ids: { id: 'set', itemId: 'item' },
  },
  'POST /admin/t/:tenant/backup-sets/:id/add-policies': {
    expect: post(STARTERS),
    ids: { id: 'set' },
    body: () => ({ policy_ids: [String(world.contoso.policy)] }),
  },
  'POST /admin/t/:tenant/backup-sets/:id/rename': {
    expect: post(MANAGERS),
    ids: { id: 'set' },
    fresh: true,
    body: (c, n) => ({ name: `Renamed ${c} ${n}`, description: '' }),
  },
  'POST /admin/t/:tenant/backup-sets/:id/delete': { expect: post(MANAGERS), ids: { id: 'set' }, fresh: true },

  'MOUNT /admin/queues': {
    expect: { ...all(404), owner: 200, opsOperator: 200 },
    probe: ['/admin/queues', '/admin/queues/api/queues'],
    why: 'Bull Board: platform ops with a non-readonly membership only; to everyone else it does not exist',
  },
  'GET /healthz': { expect: all(200) },
  'GET /readyz': { expect: all(200) },
  'GET /metrics': { expect: all(200), upcoming: true },

  // Swagger UI for the runs API: a public description, no tenant data.
  'MOUNT /api/docs': { expect: all(200), probe: ['/api/docs'] },
  'MOUNT /api/docs/docs': { expect: all(200), probe: ['/api/docs/docs/swagger-ui.css'] },
  'GET /api/docs': { expect: all(200) },
  'GET /api/docs/': { expect: all(200) },
  'GET /api/docs/index.html': { expect: all(200) },
  'GET /api/docs/swagger-ui-init.js': { expect: all(200) },
  'GET /api/docs/docs/swagger-ui-init.js': { expect: all(200) },
  'GET /api/docs/LICENSE': { expect: all(404), why: 'registered by @nestjs/swagger, served by nobody' },
  'GET /api/docs-json': { expect: all(200) },
  'GET /api/docs-yaml': { expect: all(200) },
};

/** Whether a caller means anything for a route: "another tenant" needs a tenant or an id in the URL. */
function applies(caller: Caller, path: string): boolean {
  const params = paramsOf(path);
  if (caller === 'otherTenant') return params.length > 0;
  if (caller === 'foreignIds') return params.some((p) => p !== 'tenant');
  return true;
}

let t: TestApp;
let world: World;

describe('security: authorization matrix (every route × every caller)', () => {
  let discovered: DiscoveredRoute[];
  const users: Partial<Record<Caller, { id: number; email: string }>> = {};
  const sessions = new Map<string, { agent: TestAgent; csrf: string }>();
  const own: Record<number, { notification: number; token: number }> = {};
  let ownerFabrikamNotification: number;
  const staticRuns: Record<'contoso' | 'fabrikam', { pendingRun: number; failedRun: number }> = {
    contoso: { pendingRun: 0, failedRun: 0 },
    fabrikam: { pendingRun: 0, failedRun: 0 },
  };
  let cells = 0;
  const absent: string[] = [];
  let ownerToken = '';

  const notificationOf = async (userId: number, tenantId: number): Promise<number> => {
    await t.get<NotificationsService>(NotificationsService).create({
      userId,
      tenantId,
      runId: null,
      kind: 'run_completed',
      level: 'success',
      title: 'Matrix note',
      body: 'Seeded for the authorization matrix.',
      link: null,
    });
    const [{ id }] = await t.dataSource.query('SELECT MAX(id) AS id FROM notifications WHERE user_id = ?', [
      userId,
    ]);
    return Number(id);
  };
  const runIn = (tenantId: number, status: 'pending' | 'failed') =>
    insertRun(t.dataSource, {
      tenantId,
      userId: world.adminId,
      type: 'inventory.sync',
      status,
      createdAt: new Date(),
      total: 1,
      failed: status === 'failed' ? 1 : 0,
      payload: { source: 'demo' },
    });

  async function signIn(email: string): Promise<{ agent: TestAgent; csrf: string }> {
    const s = await login(t, email);
    return { agent: s.agent, csrf: await s.csrf() };
  }
  async function visitor(): Promise<{ agent: TestAgent; csrf: string }> {
    const agent = request.agent(t.server);
    return { agent, csrf: csrfFrom((await agent.get('/login').expect(200)).text) };
  }

  beforeAll(async () => {
    t = await createTestApp();
    world = await seedWorld(t, { size: 40 });
    const auth = t.get<AuthService>(AuthService);
    const tenants = t.get<TenantsService>(TenantsService);
    const make = async (email: string, role: Role, isOps: boolean) => {
      const u = await auth.createUser({ email, name: email.split('@')[0], password: DEMO_PASSWORD, isOps });
      await tenants.addMember(world.contoso.tenantId, u.id, role);
      return { id: u.id, email };
    };
    const demo = async (email: string) => ({ id: (await auth.findByEmail(email))!.id, email });
    users.owner = await demo('admin@example.com');
    users.operator = await demo('operator@example.com');
    users.readonly = await demo('readonly@example.com');
    users.manager = await make('matrix-manager@example.com', 'manager', false);
    users.opsOperator = await make('matrix-ops-operator@example.com', 'operator', true);
    users.opsReadonly = await make('matrix-ops-readonly@example.com', 'readonly', true);
    users.otherTenant = users.operator;
    users.foreignIds = users.owner;

    for (const u of new Set(Object.values(users))) {
      own[u!.id] = {
        notification: await notificationOf(u!.id, world.contoso.tenantId),
        token: (await auth.createToken(u!.id, 'matrix')).id,
      };
      if (!sessions.has(u!.email)) sessions.set(u!.email, await signIn(u!.email));
    }
    ownerFabrikamNotification = await notificationOf(users.owner.id, world.fabrikam.tenantId);
    ownerToken = (await auth.createToken(users.owner.id, 'matrix bearer')).token;
    for (const slug of ['contoso', 'fabrikam'] as const) {
      staticRuns[slug] = {
        pendingRun: await runIn(world[slug].tenantId, 'pending'),
        failedRun: await runIn(world[slug].tenantId, 'failed'),
      };
    }
    sessions.set('', await visitor());
    await pauseAllQueues(t);
    discovered = discoverRoutes(t);
  });
  afterAll(async () => {
    if (t) {
      console.log(
        `security matrix: ${discovered?.length ?? 0} routes discovered, ${cells} cells checked` +
          (absent.length ? `; not served yet: ${absent.join(', ')}` : ''),
      );
      await t.close();
    }
  });

  function tenantOf(caller: Caller): TenantObjects {
    return caller === 'otherTenant' || caller === 'foreignIds' ? world.fabrikam : world.contoso;
  }

  async function idFor(kind: IdKind, caller: Caller, fresh: boolean): Promise<number> {
    const objs = tenantOf(caller);
    const user = users[caller] ?? users.owner!;
    const staticRun = staticRuns[objs === world.fabrikam ? 'fabrikam' : 'contoso'];
    if (fresh) {
      switch (kind) {
        case 'set':
          return t
            .get<BackupSetsService>(BackupSetsService)
            .create(objs.tenantId, world.adminId, `Matrix fresh ${++seq}`, null);
        case 'pendingRun':
          return runIn(objs.tenantId, 'pending');
        case 'failedRun':
          return runIn(objs.tenantId, 'failed');
        case 'token':
          return (await t.get<AuthService>(AuthService).createToken(user.id, 'fresh')).id;
      }
    }
    switch (kind) {
      case 'run':
        return objs.syncRun;
      case 'set':
        return objs.set;
      case 'item':
        return objs.item;
      case 'policy':
        return objs.policy;
      case 'pendingRun':
        return staticRun.pendingRun;
      case 'failedRun':
        return staticRun.failedRun;
      case 'notification':
      case 'token':
        // Another user's: the owner asks for the operator's, the operator for the owner's (in fabrikam).
        if (caller === 'foreignIds') return own[users.operator!.id][kind];
        if (caller === 'otherTenant')
          return kind === 'notification' ? ownerFabrikamNotification : own[users.owner!.id].token;
        return own[user.id][kind];
    }
  }

  interface Cell {
    caller: Caller;
    expected: number;
    method: string;
    urls: string[];
    who: { agent: TestAgent | null; csrf?: string; bearer?: string };
  }

  /** Everything a cell needs before it is sent: ids (fresh ones where it consumes them) and a session. */
  async function prepare(caller: Caller, key: string, row: Row): Promise<Cell> {
    const [method, path] = key.split(' ');
    const expected = DERIVED[caller]?.(path, row) ?? row.expect[caller]!;
    const succeeds = expected < 400;
    const params: Record<string, string | number> = {
      tenant: caller === 'otherTenant' ? 'fabrikam' : 'contoso',
    };
    for (const [name, kind] of Object.entries(row.ids ?? {}))
      params[name] = await idFor(kind, caller, Boolean(row.fresh && succeeds));
    const url = fillPath(path, params);
    const user = users[caller];
    let who: Cell['who'];
    if (caller === 'anonymous') who = { agent: null };
    else if (caller === 'tokenOnPage') who = { agent: null, bearer: ownerToken };
    else if (row.freshSession && succeeds)
      who = caller === 'anonCsrf' ? await visitor() : await signIn(user!.email);
    else who = sessions.get(user?.email ?? '')!;
    return { caller, expected, method, urls: method === 'MOUNT' ? (row.probe ?? [url]) : [url], who };
  }

  async function send(
    cell: Cell,
    row: Row,
  ): Promise<Array<{ url: string; status: number; location?: string }>> {
    const bearer = cell.who.bearer;
    const agent = () => {
      const a = cell.who.agent ?? request(t.server);
      return bearer
        ? {
            get: (u: string) => a.get(u).set('Authorization', `Bearer ${bearer}`),
            post: (u: string) => a.post(u).set('Authorization', `Bearer ${bearer}`),
          }
        : a;
    };
    const out: Array<{ url: string; status: number; location?: string }> = [];
    for (const u of cell.urls) {
      const res =
        cell.method === 'POST'
          ? await agent()
              .post(u)
              .type('form')
              .send({
                ...(cell.who.csrf ? { _csrf: cell.who.csrf } : {}),
                ...(row.body?.(cell.caller, ++seq) ?? {}),
              })
          : await agent().get(u);
      cells++;
      out.push({
        url: `${cell.method === 'MOUNT' ? 'GET' : cell.method} ${u}`,
        status: res.status,
        location: res.headers.location,
      });
    }
    return out;
  }

  it('knows every route the app serves (a new route needs a row here)', () => {
    const keys = discovered.map((r) => r.key);
    expect(keys.length).toBeGreaterThan(30);
    expect(keys.filter((k) => !TABLE[k])).toEqual([]);
    // A row for a route that is gone is a stale promise: only routes being added may be missing.
    const served = new Set(keys);
    expect(Object.keys(TABLE).filter((k) => !served.has(k) && !TABLE[k].upcoming)).toEqual([]);
  });

  it.each(Object.entries(TABLE).map(([key, row]) => [key, row] as const))(
    'each row names every caller it applies to: %s',
    (key, row) => {
      const path = key.split(' ')[1];
      const needed = ALL_CALLERS.filter((c) => applies(c, path) && !DERIVED[c]);
      expect(needed.filter((c) => row.expect[c] === undefined)).toEqual([]);
      for (const name of paramsOf(path).filter((p) => p !== 'tenant')) expect(row.ids?.[name]).toBeDefined();
    },
  );

  it("a URL mixing own and another tenant's ids is 404 whichever id is foreign", async () => {
    const wrong: string[] = [];
    for (const { key, method, path } of discovered.filter((r) => r.method === 'GET')) {
      const names = paramsOf(path).filter((p) => p !== 'tenant');
      const row = TABLE[key];
      if (names.length < 2 || !row?.ids) continue;
      for (const foreign of names) {
        const params: Record<string, number | string> = { tenant: 'contoso' };
        for (const name of names)
          params[name] = await idFor(row.ids[name], name === foreign ? 'foreignIds' : 'owner', false);
        const url = fillPath(path, params);
        const res = await sessions.get(users.owner!.email)!.agent.get(url);
        cells++;
        if (res.status !== 404)
          wrong.push(`owner: ${method} ${url} (foreign :${foreign}) → ${res.status}, expected 404`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it.each(Object.entries(TABLE).map(([key, row]) => [key, row] as const))('%s', async (key, row) => {
    if (!discovered.some((r) => r.key === key)) {
      // Only `upcoming` rows get here (the test above fails for any other): checked once served.
      absent.push(key);
      return;
    }
    const path = key.split(' ')[1];
    const prepared: Cell[] = [];
    for (const caller of ALL_CALLERS.filter((c) => applies(c, path)))
      prepared.push(await prepare(caller, key, row));
    // Callers are independent of each other (each success has its own object), so they go at once,
    // as a browser crowd would.
    const answers = await Promise.all(
      prepared.map(async (cell) =>
        (await send(cell, row)).map((got) => ({ caller: cell.caller, expected: cell.expected, ...got })),
      ),
    );
    const wrong = answers.flat().flatMap(({ caller, expected, url, status, location }) => {
      if (status !== expected) return [`${caller}: ${url} → ${status}, expected ${expected}`];
      const anonymous = caller === 'anonymous' || caller === 'anonCsrf' || caller === 'tokenOnPage';
      if (expected === 302 && anonymous && path !== '/' && !/^\/login\?next=%2F/.test(location ?? ''))
        return [`${caller}: ${url} → 302 to ${location}, expected /login?next=…`];
      return [];
    });
    expect(wrong).toEqual([]);
  });
});
