import { Controller, Get, Injectable, Module } from '@nestjs/common';
import request from 'supertest';
import TestAgent from 'supertest/lib/agent';
import {
  AbilityFactory,
  AuthService,
  inTenant,
  onPlatform,
  PLATFORM_MANAGED,
  type Principal,
} from '../../src/auth';
import { TenantsService, type Role } from '../../src/tenants';
import { runOfType } from '../factories/core.matrix-fixtures';
import { IdFixture, loadMatrixFixtures } from '../factories/matrix-fixtures';
import { RouteAccess, routeAccess } from '../factories/route-access';
import { discoverRoutes, fillPath, paramsOf, pauseAllQueues, seedWorld, World } from '../factories/routes';
import { createTestApp, csrfFrom, DEMO_PASSWORD, login, TestApp } from '../factories/test-app';

/**
 * The authorization matrix: every route the app serves × every kind of caller → the status they get.
 *
 * Routes are discovered from the running app, and each route's expected answers come from its own
 * decorators: `@Can(action, subject)` (checked against the real ability table for each caller's
 * role), `@SignedIn`, whether its path names a `:tenant`, and `@Ids` (what each id parameter names,
 * filled by a fixture of that kind — `run:<type>` for any producer's run type, and any kind a
 * producer's team adds in a `*.matrix-fixtures.ts` beside its test). Adding a producer therefore needs
 * no edit here; a route that declares no access fails, naming the route. Public routes and mounted
 * sub-apps (the Bull board, Swagger UI) are the few with a row of their own below, on purpose.
 *
 * POSTs carry the caller's own valid CSRF token (read from a page, as a browser does), so the status
 * tested is the authorization one. Producer queues are paused, so runs started here stay queued.
 */

type Caller =
  | 'owner'
  | 'manager'
  | 'operator'
  | 'readonly'
  | 'opsOperator'
  | 'opsReadonly'
  | 'platformAdmin'
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
  platformAdmin:
    'an is_ops user with no membership anywhere: administers any tenant (members, audit, connection), sees no runs',
  otherTenant: 'operator@example.com asking for fabrikam URLs and objects (no membership there)',
  foreignIds:
    "admin@example.com (member of both) asking contoso's URLs for fabrikam's objects, or for another user's",
  anonymous: 'no session, no token, no CSRF token',
  anonCsrf: 'a visitor with the CSRF token of the sign-in form (from /login), not signed in',
  tokenOnPage:
    "admin@example.com's valid API token as Authorization: Bearer, no session: the owner on /api/, a stranger anywhere else",
};
const ALL_CALLERS = Object.keys(CALLERS) as Caller[];
const MEMBERS: Caller[] = ['owner', 'manager', 'operator', 'readonly', 'opsOperator', 'opsReadonly'];
/** Everyone with a session of a signed-in user. */
const SIGNED_IN: Caller[] = [...MEMBERS, 'platformAdmin', 'otherTenant', 'foreignIds'];
const ROLES: Partial<Record<Caller, Role>> = {
  owner: 'owner',
  manager: 'manager',
  operator: 'operator',
  readonly: 'readonly',
  opsOperator: 'operator',
  opsReadonly: 'readonly',
  otherTenant: 'operator',
  foreignIds: 'owner',
};

/** An answer a caller must get: one status, or "got through" (any 2xx/3xx but a redirect to sign in). */
type Expected = number | 'through';

/**
 * Routes whose answers no decorator can say: public ones and sub-apps mounted beside Nest. Each is a
 * deliberate decision; a new public route fails the matrix until it has a row here.
 */
const all = (status: number) =>
  Object.fromEntries(ALL_CALLERS.map((c) => [c, status])) as Record<Caller, number>;
const EXPLICIT: Record<string, { expect: Partial<Record<Caller, Expected>>; probe?: string[]; why: string }> =
  {
    'GET /': { expect: all(302), why: 'redirects to /admin' },
    'GET /login': {
      expect: {
        ...Object.fromEntries(SIGNED_IN.map((c) => [c, 302])),
        anonymous: 200,
        anonCsrf: 200,
        tokenOnPage: 200,
      },
      why: 'public; a signed-in user is sent on',
    },
    'POST /login': {
      expect: {
        ...Object.fromEntries(SIGNED_IN.map((c) => [c, 401])),
        anonymous: 403,
        anonCsrf: 401,
        tokenOnPage: 403,
      },
      why: 'public; wrong credentials on purpose, so 401 shows the CSRF check passed (a header is no CSRF token)',
    },
    'GET /healthz': { expect: all(200), why: 'probe' },
    'GET /readyz': { expect: all(200), why: 'probe' },
    'GET /metrics': { expect: all(200), why: 'Prometheus scrape; no tenant data' },
    'MOUNT /admin/queues': {
      // foreignIds is the owner again: is_ops with a non-readonly membership.
      expect: { ...all(404), owner: 200, opsOperator: 200, foreignIds: 200 },
      probe: ['/admin/queues', '/admin/queues/api/queues'],
      why: 'Bull Board: platform ops with a non-readonly membership only; to everyone else it does not exist',
    },
    'MOUNT /api/docs': { expect: all(200), probe: ['/api/docs'], why: 'Swagger UI: a public description' },
    'MOUNT /api/docs/docs': { expect: all(200), probe: ['/api/docs/docs/swagger-ui.css'], why: 'its assets' },
    'GET /api/docs': { expect: all(200), why: 'Swagger UI' },
    'GET /api/docs/': { expect: all(200), why: 'Swagger UI' },
    'GET /api/docs/index.html': { expect: all(200), why: 'Swagger UI' },
    'GET /api/docs/swagger-ui-init.js': { expect: all(200), why: 'Swagger UI' },
    'GET /api/docs/docs/swagger-ui-init.js': { expect: all(200), why: 'Swagger UI' },
    'GET /api/docs/LICENSE': { expect: all(404), why: 'registered by @nestjs/swagger, served by nobody' },
    'GET /api/docs-json': { expect: all(200), why: 'the OpenAPI document' },
    'GET /api/docs-yaml': { expect: all(200), why: 'the OpenAPI document' },
    'GET /invite/:token': {
      expect: all(404),
      probe: [`/invite/${'x'.repeat(43)}`],
      why: 'public: whoever holds a link; an unknown token is a readable 404 page for everyone',
    },
    'POST /invite/:token': {
      expect: { ...all(404), anonymous: 403, tokenOnPage: 403 },
      probe: [`/invite/${'x'.repeat(43)}`],
      why: 'public with the CSRF token of a page (a visitor has one from /login); an unknown token is 404',
    },
  };

/**
 * Form fields that take a permitted POST all the way to its 303. Without one a permitted POST may
 * also answer 400 (its form was empty), which still shows that it got past authorization.
 */
let seq = 0;
const BODIES: Record<string, () => Record<string, string | string[]>> = {
  'POST /admin/t/:tenant/backup-sets': () => ({ name: `Matrix set ${++seq}`, description: '' }),
  'POST /admin/t/:tenant/backup-sets/:id/rename': () => ({
    name: `Matrix renamed ${++seq}`,
    description: '',
  }),
  'POST /admin/profile/tokens': () => ({ name: 'matrix token' }),
};

let t: TestApp;
let world: World;
/** The last test archives contoso and asks every tenant route again. */
let archivedPhase = false;

describe('security: authorization matrix (every route × every caller)', () => {
  let discovered: string[];
  let access: Map<string, RouteAccess>;
  const fixtures = loadMatrixFixtures();
  const users: Partial<Record<Caller, { id: number; email: string }>> = {};
  const sessions = new Map<string, { agent: TestAgent; csrf: string }>();
  let ownerToken = '';
  let cells = 0;

  async function signIn(email: string) {
    const s = await login(t, email);
    return { agent: s.agent, csrf: await s.csrf() };
  }
  async function visitor() {
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
      await tenants.addMember(world.contoso.tenantId, u.id, role, { id: null });
      return { id: u.id, email };
    };
    const demo = async (email: string) => ({ id: (await auth.findByEmail(email))!.id, email });
    users.owner = await demo('admin@example.com');
    users.operator = await demo('operator@example.com');
    users.readonly = await demo('readonly@example.com');
    users.manager = await make('matrix-manager@example.com', 'manager', false);
    users.opsOperator = await make('matrix-ops-operator@example.com', 'operator', true);
    users.opsReadonly = await make('matrix-ops-readonly@example.com', 'readonly', true);
    const platform = await auth.createUser({
      email: 'matrix-platform@example.com',
      name: 'platform',
      password: DEMO_PASSWORD,
      isOps: true,
    });
    users.platformAdmin = { id: platform.id, email: platform.email };
    // The operator has no membership in fabrikam: asking its URLs, it is a stranger there.
    users.otherTenant = users.operator;
    users.foreignIds = users.owner;
    for (const u of new Set(Object.values(users))) sessions.set(u!.email, await signIn(u!.email));
    sessions.set('', await visitor());
    ownerToken = (await auth.createToken(users.owner.id, 'matrix bearer')).token;
    await pauseAllQueues(t);
    discovered = discoverRoutes(t).map((r) => r.key);
    access = new Map(routeAccess(t).map((r) => [r.key, r]));
  });
  afterAll(async () => {
    if (t) {
      console.log(`security matrix: ${discovered?.length ?? 0} routes discovered, ${cells} cells checked`);
      await t.close();
    }
  });

  /** The ability table as the app builds it, for one caller's role in contoso. */
  function mayDo(caller: Caller, r: RouteAccess): boolean {
    if (r.access.kind !== 'ability') return true;
    const u = users[caller]!;
    const principal: Principal = {
      id: u.id,
      email: u.email,
      name: u.email,
      isOps: caller === 'owner' || caller.startsWith('ops') || caller === 'platformAdmin',
      memberships: ROLES[caller]
        ? [
            {
              tenantId: world.contoso.tenantId,
              slug: 'contoso',
              name: 'Contoso',
              role: ROLES[caller]!,
              archived: archivedPhase,
            },
          ]
        : [],
    };
    const ability = t.get<AbilityFactory>(AbilityFactory).forPrincipal(principal);
    return r.tenantScoped
      ? ability.can(r.access.action, inTenant(r.access.subject, world.contoso.tenantId))
      : ability.can(r.access.action, onPlatform(r.access.subject));
  }

  /**
   * A platform admin (a member nowhere) reaches a tenant's URL only to administer it, and a tenant's
   * object through a URL without the tenant not at all.
   */
  function reachesTenant(caller: Caller, r: RouteAccess): boolean {
    if (caller !== 'platformAdmin') return true;
    if (!r.tenantScoped) return !owners(r).includes('tenant');
    return r.access.kind === 'ability' && PLATFORM_MANAGED.includes(r.access.subject);
  }

  function fixtureFor(kind: string): IdFixture {
    const f = fixtures[kind] ?? (kind.startsWith('run:') ? runOfType(kind.slice('run:'.length)) : undefined);
    if (!f) throw new Error(`no matrix fixture for ids of kind "${kind}": add one in a *.matrix-fixtures.ts`);
    return f;
  }

  const owners = (r: RouteAccess) => Object.values(r.ids?.kinds ?? {}).map((k) => fixtureFor(k).owner);

  /**
   * Whether a caller means anything for a route. "Another tenant" asks a tenant's URL or ids where it
   * has no membership; "foreign ids" asks its own tenant's URL for another tenant's objects, or any
   * URL for another user's.
   */
  function applies(caller: Caller, r: RouteAccess): boolean {
    if (caller === 'otherTenant') return r.tenantScoped || owners(r).includes('tenant');
    if (caller === 'foreignIds')
      return owners(r).includes('user') || (r.tenantScoped && owners(r).includes('tenant'));
    return true;
  }

  /** What a caller gets from a route whose decorators say who may call it. */
  function expected(caller: Caller, method: string, path: string, r: RouteAccess): Expected {
    const api = path.startsWith('/api/');
    const post = method === 'POST';
    if (caller === 'tokenOnPage')
      return api ? expected('owner', method, path, r) : expected('anonymous', method, path, r);
    if (caller === 'anonymous') return api ? 401 : post ? 403 : 302;
    if (caller === 'anonCsrf') return api ? 401 : post ? 401 : 302;
    if (caller === 'otherTenant' || caller === 'foreignIds') return 404;
    if (!reachesTenant(caller, r)) return 404;
    if (!mayDo(caller, r)) return 403;
    // An archived tenant is read-only for everyone: every write is refused, whoever asks.
    if (archivedPhase && post && r.tenantScoped) return 403;
    return post && BODIES[`${method} ${path}`] ? 303 : 'through';
  }

  async function idsFor(
    caller: Caller,
    r: RouteAccess,
    fresh: boolean,
  ): Promise<Record<string, string | number>> {
    const params: Record<string, string | number> = {
      tenant: caller === 'otherTenant' ? 'fabrikam' : 'contoso',
    };
    for (const [name, kind] of Object.entries(r.ids?.kinds ?? {})) {
      const fixture = fixtureFor(kind);
      const foreignTenant =
        fixture.owner === 'tenant' &&
        (caller === 'otherTenant' || (caller === 'foreignIds' && r.tenantScoped));
      const tenant = foreignTenant ? world.fabrikam : world.contoso;
      // Another user's object for per-user kinds: the owner asks for the operator's.
      const user =
        fixture.owner === 'user' && caller === 'foreignIds'
          ? users.operator!
          : (users[caller] ?? users.owner!);
      params[name] = await fixture.make({
        t,
        tenant: { id: tenant.tenantId, slug: tenant.slug },
        user,
        fresh,
      });
    }
    return params;
  }

  function agentOf(caller: Caller): {
    agent: () => TestAgent | ReturnType<typeof request>;
    csrf?: string;
    bearer?: string;
  } {
    if (caller === 'anonymous') return { agent: () => request(t.server) };
    if (caller === 'tokenOnPage') return { agent: () => request(t.server), bearer: ownerToken };
    const s = sessions.get(caller === 'anonCsrf' ? '' : users[caller]!.email)!;
    return { agent: () => s.agent, csrf: s.csrf };
  }

  async function send(
    caller: Caller,
    method: string,
    url: string,
    body: Record<string, unknown>,
    freshSession: boolean,
  ) {
    let who = agentOf(caller);
    if (freshSession && users[caller]) {
      const s = await signIn(users[caller]!.email);
      who = { agent: () => s.agent, csrf: s.csrf };
    }
    const a = who.agent();
    let req =
      method === 'POST'
        ? a
            .post(url)
            .type('form')
            .send({ ...(who.csrf ? { _csrf: who.csrf } : {}), ...body })
        : a.get(url);
    if (who.bearer) req = req.set('Authorization', `Bearer ${who.bearer}`);
    cells++;
    return req;
  }

  function judge(
    caller: Caller,
    method: string,
    url: string,
    exp: Expected,
    res: request.Response,
  ): string[] {
    const loc = res.headers.location ?? '';
    const toLogin = res.status === 302 && /^\/login(\?|$)/.test(loc);
    if (exp === 'through') {
      const ok = res.status >= 200 && res.status < 400 && !toLogin;
      // An empty form may be refused by the page itself: still past authorization.
      const validation = method === 'POST' && (res.status === 400 || res.status === 422);
      return ok || validation ? [] : [`${caller}: ${url} → ${res.status} ${loc}, expected to get through`];
    }
    if (res.status !== exp) return [`${caller}: ${url} → ${res.status}, expected ${exp}`];
    const anon = caller === 'anonymous' || caller === 'anonCsrf' || caller === 'tokenOnPage';
    if (exp === 302 && anon && url !== '/' && !/^\/login\?next=%2F/.test(loc))
      return [`${caller}: ${url} → 302 to ${loc}, expected /login?next=…`];
    return [];
  }

  it('knows who may call every route: its decorators, or a deliberate row for public routes and mounts', () => {
    expect(discovered.length).toBeGreaterThan(30);
    const unknown = discovered.filter((k) => {
      if (EXPLICIT[k]) return false;
      const r = access.get(k);
      return !r || r.access.kind === 'undeclared' || r.access.kind === 'public';
    });
    expect(unknown.map((k) => `${k} (${access.get(k)?.where ?? 'not a Nest route'})`)).toEqual([]);
    expect(Object.keys(EXPLICIT).filter((k) => !discovered.includes(k))).toEqual([]);
  });

  it('has a fixture for every kind of id a route names', () => {
    const kinds = [...access.values()].flatMap((r) => Object.values(r.ids?.kinds ?? {}));
    for (const kind of new Set(kinds)) expect(() => fixtureFor(kind)).not.toThrow();
    // Every id parameter is declared, so the matrix never guesses.
    const missing = [...access.values()].flatMap((r) =>
      paramsOf(r.key.split(' ')[1])
        .filter((p) => p !== 'tenant' && !r.ids?.kinds[p])
        .map((p) => `${r.key} :${p}`),
    );
    expect(missing).toEqual([]);
  });

  it('each route answers every caller as its decorators say', async () => {
    const wrong: string[] = [];
    for (const key of discovered) {
      const [method, path] = key.split(' ');
      const explicit = EXPLICIT[key];
      if (explicit) {
        const verb = method === 'MOUNT' ? 'GET' : method;
        for (const caller of ALL_CALLERS) {
          const exp = explicit.expect[caller] ?? explicit.expect.anonymous!;
          for (const url of explicit.probe ?? [path])
            wrong.push(...judge(caller, verb, url, exp, await send(caller, verb, url, {}, false)));
        }
        continue;
      }
      const r = access.get(key)!;
      await Promise.all(
        ALL_CALLERS.filter((c) => applies(c, r)).map(async (caller) => {
          const exp = expected(caller, method, path, r);
          const fresh = Boolean(r.ids?.consumes) && (exp === 'through' || exp === 303);
          const url = fillPath(path, await idsFor(caller, r, fresh));
          const body = BODIES[key]?.() ?? {};
          const logout = path === '/logout' && exp === 'through';
          wrong.push(...judge(caller, method, url, exp, await send(caller, method, url, body, logout)));
        }),
      );
    }
    expect(wrong).toEqual([]);
  });

  it("a URL mixing own and another tenant's ids is 404 whichever id is foreign", async () => {
    const wrong: string[] = [];
    for (const r of access.values()) {
      const [method, path] = r.key.split(' ');
      const names = Object.entries(r.ids?.kinds ?? {}).filter(([, k]) => fixtureFor(k).owner === 'tenant');
      if (method !== 'GET' || names.length < 2) continue;
      for (const [foreign] of names) {
        const params: Record<string, string | number> = { tenant: 'contoso' };
        for (const [name, kind] of names) {
          const theirs = name === foreign ? world.fabrikam : world.contoso;
          params[name] = await fixtureFor(kind).make({
            t,
            tenant: { id: theirs.tenantId, slug: theirs.slug },
            user: users.owner!,
            fresh: false,
          });
        }
        const url = fillPath(path, params);
        const res = await sessions.get(users.owner!.email)!.agent.get(url);
        cells++;
        if (res.status !== 404)
          wrong.push(`owner: ${method} ${url} (foreign :${foreign}) → ${res.status}, expected 404`);
      }
    }
    expect(wrong).toEqual([]);
  });

  // Last, since it changes the world: contoso archived, every tenant route asked again by everyone
  // who belongs there (and a platform admin who does not). Reads as before; every POST 403, no run made.
  it('an archived tenant answers every route read-only, for every role and a platform admin', async () => {
    await t.get<TenantsService>(TenantsService).setArchived(world.contoso.tenantId, true, { id: null });
    archivedPhase = true;
    // Every object a call names is made first, so any run that appears afterwards was started by a call.
    const calls: Array<{ caller: Caller; method: string; url: string; key: string; exp: Expected }> = [];
    let posts = 0;
    for (const key of discovered) {
      const r = access.get(key);
      if (!r || !r.tenantScoped || EXPLICIT[key]) continue;
      const [method, path] = key.split(' ');
      if (method === 'POST') posts++;
      for (const caller of [...MEMBERS, 'platformAdmin' as const]) {
        const url = fillPath(path, await idsFor(caller, r, false));
        calls.push({ caller, method, url, key, exp: expected(caller, method, path, r) });
      }
    }
    const runsBefore = await t.dataSource.query('SELECT COUNT(*) AS n FROM operation_runs');
    const wrong: string[] = [];
    for (const c of calls) {
      const body = BODIES[c.key]?.() ?? {};
      wrong.push(
        ...judge(c.caller, c.method, c.url, c.exp, await send(c.caller, c.method, c.url, body, false)),
      );
    }
    expect(wrong).toEqual([]);
    expect(posts).toBeGreaterThan(8);
    expect(await t.dataSource.query('SELECT COUNT(*) AS n FROM operation_runs')).toEqual(runsBefore);
  });
});

/** A team's controller that forgot to say who may call it. */
@Controller('admin/t/:tenant/forgotten')
class ForgottenController {
  @Get()
  page() {
    return 'should never be served';
  }
}

@Injectable()
class Nothing {}

@Module({ controllers: [ForgottenController], providers: [Nothing] })
class ForgottenModule {}

describe('security: a route that declares no access', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp({ imports: [ForgottenModule] });
  });
  afterAll(() => app?.close());

  it('fails the matrix, naming the route, and is refused to everyone at run time', async () => {
    const undeclared = routeAccess(app)
      .filter((r) => r.access.kind === 'undeclared')
      .map((r) => `${r.key} (${r.where})`);
    expect(undeclared).toEqual(['GET /admin/t/:tenant/forgotten (ForgottenController.page)']);
    const owner = await login(app, 'admin@example.com');
    const res = await owner.agent.get('/admin/t/contoso/forgotten');
    expect(res.status).toBe(403);
    expect(res.text).not.toContain('should never be served');
  });
});
