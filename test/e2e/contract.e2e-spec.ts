import { load } from 'js-yaml';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { AuthService } from '../../src/auth/auth.service';
import { BUCKETS, REASON_CODES, RUN_STATUSES } from '../../src/runs';
import { RunsService } from '../../src/runs/runs.service';
import { TenantsService } from '../../src/tenants/tenants.service';
import { SampleProducerModule } from '../fixtures/sample-producer.module';
import { insertRun } from '../factories/runs';
import { createTestApp, login, Session, TestApp } from '../factories/test-app';
import { waitForTerminal } from '../factories/flows';
import { discoverRoutes } from '../factories/routes';

/**
 * docs/contracts/admin-pages.openapi.yaml is the contract of Monitoring → Operations and the runs API.
 * Everything below is driven by that file: a status, parameter, path or field that the app and the
 * file disagree on fails here.
 */
const CONTRACT_FILE = join(__dirname, '..', '..', 'docs', 'contracts', 'admin-pages.openapi.yaml');

interface Schema {
  $ref?: string;
  allOf?: Schema[];
  type?: string;
  format?: string;
  nullable?: boolean;
  enum?: unknown[];
  pattern?: string;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
}
interface Parameter {
  $ref?: string;
  name: string;
  in: 'path' | 'query';
  example?: unknown;
  schema?: Schema;
}
interface ResponseDoc {
  $ref?: string;
  description: string;
  content?: Record<string, { schema?: Schema }>;
  headers?: Record<string, { schema?: Schema }>;
}
interface Operation {
  operationId: string;
  parameters?: Parameter[];
  responses: Record<string, ResponseDoc>;
  'x-access': Record<string, number>;
  'x-bad-request'?: string[];
  'x-fragment'?: boolean;
}
interface CallerDoc {
  user?: string;
  bearer?: string;
  tenant: string;
  run: string;
  description?: string;
}
interface Contract {
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, unknown>>;
  'x-callers': Record<string, CallerDoc>;
}

const contract = load(readFileSync(CONTRACT_FILE, 'utf8')) as Contract;

function deref<T extends { $ref?: string }>(node: T): T {
  let n: T = node;
  while (n.$ref) {
    const [, section, name] = /^#\/components\/(\w+)\/(.+)$/.exec(n.$ref) ?? [];
    const target = contract.components[section]?.[name] as T | undefined;
    if (!target) throw new Error(`unresolved $ref ${n.$ref}`);
    n = target;
  }
  return n;
}

const DATE_TIME_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The subset of JSON Schema the contract uses; returns every mismatch, not only the first. */
function validate(value: unknown, schemaOrRef: Schema, at: string, errors: string[] = []): string[] {
  const s = deref(schemaOrRef);
  if (value === null) {
    if (!s.nullable) errors.push(`${at}: is null but not nullable`);
    return errors;
  }
  for (const part of s.allOf ?? []) validate(value, part, at, errors);
  if (s.enum && !s.enum.includes(value))
    errors.push(`${at}: ${JSON.stringify(value)} not in ${s.enum.join('|')}`);
  switch (s.type) {
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) {
        errors.push(`${at}: expected an object`);
        break;
      }
      const obj = value as Record<string, unknown>;
      for (const key of s.required ?? [])
        if (!(key in obj)) errors.push(`${at}.${key}: required but missing`);
      for (const [key, v] of Object.entries(obj)) {
        const prop = s.properties?.[key];
        if (prop) validate(v, prop, `${at}.${key}`, errors);
        else if (s.additionalProperties === false) errors.push(`${at}.${key}: not in the contract`);
      }
      break;
    }
    case 'array':
      if (!Array.isArray(value)) {
        errors.push(`${at}: expected an array`);
        break;
      }
      if (s.maxItems !== undefined && value.length > s.maxItems)
        errors.push(`${at}: more than ${s.maxItems}`);
      value.forEach((item, i) => s.items && validate(item, s.items, `${at}[${i}]`, errors));
      break;
    case 'string':
      if (typeof value !== 'string') {
        errors.push(`${at}: expected a string, got ${JSON.stringify(value)}`);
        break;
      }
      if (s.pattern && !new RegExp(s.pattern).test(value)) errors.push(`${at}: "${value}" !~ ${s.pattern}`);
      if (s.maxLength !== undefined && value.length > s.maxLength) errors.push(`${at}: too long`);
      if (s.format === 'date-time' && !DATE_TIME_UTC.test(value))
        errors.push(`${at}: "${value}" is not an ISO-8601 UTC date-time`);
      break;
    case 'integer':
    case 'number':
      if (typeof value !== 'number' || (s.type === 'integer' && !Number.isInteger(value))) {
        errors.push(`${at}: expected ${s.type}, got ${JSON.stringify(value)}`);
        break;
      }
      if (s.minimum !== undefined && value < s.minimum) errors.push(`${at}: below ${s.minimum}`);
      if (s.maximum !== undefined && value > s.maximum) errors.push(`${at}: above ${s.maximum}`);
      break;
    case 'boolean':
      if (typeof value !== 'boolean') errors.push(`${at}: expected a boolean`);
      break;
  }
  return errors;
}

/**
 * Who each caller name in `x-access` is. Kept here as well as in the contract's `x-callers` (and
 * compared below), so editing the file cannot quietly turn "readonly" into an owner.
 */
const CALLERS: Record<string, Omit<CallerDoc, 'description'>> = {
  owner: { user: 'admin@example.com', tenant: 'contoso', run: 'contoso' },
  operator: { user: 'operator@example.com', tenant: 'contoso', run: 'contoso' },
  readonly: { user: 'readonly@example.com', tenant: 'contoso', run: 'contoso' },
  'other-tenant': { user: 'operator@example.com', tenant: 'fabrikam', run: 'fabrikam' },
  'foreign-run': { user: 'admin@example.com', tenant: 'contoso', run: 'fabrikam' },
  anonymous: { tenant: 'contoso', run: 'contoso' },
  token: { bearer: 'readonly@example.com', tenant: 'contoso', run: 'contoso' },
  'bad-token': { bearer: 'invalid', tenant: 'contoso', run: 'contoso' },
};
/** Every operation must say what these callers get; `foreign-run` too where the path names a run. */
const REQUIRED_CALLERS = ['owner', 'operator', 'readonly', 'other-tenant', 'anonymous'];

interface Op {
  method: string;
  path: string;
  op: Operation;
  params: Parameter[];
  query: Parameter[];
  label: string;
}
const ops: Op[] = Object.entries(contract.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, op]) => {
    const params = (op.parameters ?? []).map((p) => deref(p));
    return {
      method,
      path,
      op,
      params,
      query: params.filter((p) => p.in === 'query'),
      label: `${method.toUpperCase()} ${path}`,
    };
  }),
);
const accessCases = ops.flatMap((o) =>
  Object.entries(o.op['x-access']).map(([caller, status]) => [o.label, caller, status, o] as const),
);
const badRequestCases = ops.flatMap((o) =>
  (o.op['x-bad-request'] ?? []).map((qs) => [o.label, qs, o] as const),
);
const queryParamCases = ops.flatMap((o) => o.query.map((p) => [o.label, p.name, o, p] as const));
// Reads only: the foreign-run comparison also opens the run through its own tenant.
const idOps = ops.filter((o) => o.path.includes('{id}') && o.method === 'get');
/** The fixture's run type: a `type` filter is valid only for a type some producer registered. */
const sampleType = 'sample.echo';

describe('contract: docs/contracts/admin-pages.openapi.yaml against the running app', () => {
  let t: TestApp;
  const sessions = new Map<string, Session>();
  const tokens = new Map<string, string>();
  const runIds: Record<string, number> = {};

  beforeAll(async () => {
    t = await createTestApp({ imports: [SampleProducerModule] });
    const tenants = t.get<TenantsService>(TenantsService);
    const auth = t.get<AuthService>(AuthService);
    const runs = t.get<RunsService>(RunsService);
    const contoso = (await tenants.findBySlug('contoso'))!.id;
    const fabrikam = (await tenants.findBySlug('fabrikam'))!.id;

    // A finished contoso run with a failure, so the failure schema is exercised too.
    const { run } = await runs.start({
      tenantId: contoso,
      userId: null,
      type: sampleType,
      itemIds: ['a', 'skip-b', 'fail-c'],
      payload: { greeting: 'contract' },
    });
    await waitForTerminal(t, run.id);
    runIds.contoso = run.id;
    runIds.fabrikam = await insertRun(t.dataSource, {
      tenantId: fabrikam,
      type: sampleType,
      status: 'completed',
      createdAt: new Date(),
      succeeded: 1,
    });

    for (const email of new Set(Object.values(CALLERS).flatMap((c) => (c.user ? [c.user] : [])))) {
      sessions.set(email, await login(t, email));
    }
    for (const email of new Set(Object.values(CALLERS).flatMap((c) => (c.bearer ? [c.bearer] : [])))) {
      const user = await auth.findByEmail(email);
      // "invalid" names no user: a token the app never issued.
      tokens.set(
        email,
        user ? (await auth.createToken(user.id, 'contract test')).token : 'ohub_never-issued',
      );
    }
  });
  afterAll(() => t?.close());

  function urlFor(callerName: string, path: string, query = '', id?: number): string {
    const caller = CALLERS[callerName];
    if (!caller) throw new Error(`unknown caller "${callerName}": add it to CALLERS and x-callers`);
    const target = path
      .replace('{tenant}', caller.tenant)
      .replace('{id}', String(id ?? runIds[caller.run]))
      .replace('{type}', 'inventory.sync');
    return query ? `${target}?${query}` : target;
  }

  function call(callerName: string, path: string, query = '', id?: number): request.Test {
    const caller = CALLERS[callerName];
    const target = urlFor(callerName, path, query, id);
    if (caller.user) return sessions.get(caller.user)!.agent.get(target);
    const req = request(t.server).get(target);
    return caller.bearer ? req.set('Authorization', `Bearer ${tokens.get(caller.bearer)}`) : req;
  }

  /** A form POST as the caller's browser sends it: with the session's CSRF token, when there is a session. */
  async function post(callerName: string, path: string): Promise<request.Response> {
    const caller = CALLERS[callerName];
    const target = urlFor(callerName, path);
    if (caller.user) {
      const s = sessions.get(caller.user)!;
      return s.agent
        .post(target)
        .type('form')
        .send({ _csrf: await s.csrf() });
    }
    const req = request(t.server).post(target).type('form').send({});
    return caller.bearer ? req.set('Authorization', `Bearer ${tokens.get(caller.bearer)}`) : req;
  }

  /** The response must be one the operation documents, in the documented shape. */
  function expectDocumented(o: Op, res: request.Response, what: string): void {
    const doc = o.op.responses[String(res.status)];
    expect({ what, status: res.status, documented: Boolean(doc) }).toEqual({
      what,
      status: res.status,
      documented: true,
    });
    const r = deref(doc);
    const type = String(res.headers['content-type'] ?? '').split(';')[0];
    if (r.content) {
      expect({ what, contentType: type }).toEqual({
        what,
        contentType: expect.stringMatching(new RegExp(`^(${Object.keys(r.content).join('|')})$`)),
      });
      const schema = r.content[type]?.schema;
      if (type === 'application/json' && schema) {
        expect({ what, errors: validate(res.body, schema, 'body') }).toEqual({ what, errors: [] });
        if ('error' in res.body) expect(res.body.status).toBe(res.status);
      }
      if (type === 'text/html' && res.status === 200 && o.op['x-fragment'] !== undefined) {
        expect({ what, fullPage: /<html[\s>]/.test(res.text) }).toEqual({
          what,
          fullPage: !o.op['x-fragment'],
        });
      }
    }
    for (const [name, header] of Object.entries(r.headers ?? {})) {
      const pattern = header.schema?.pattern;
      const value = res.headers[name.toLowerCase()] as string | undefined;
      expect({ what, [name]: value }).toEqual({
        what,
        [name]: pattern ? expect.stringMatching(new RegExp(pattern)) : expect.any(String),
      });
    }
  }

  describe('the contract itself', () => {
    it('names its callers exactly as the demo data defines them', () => {
      const documented = Object.fromEntries(
        Object.entries(contract['x-callers']).map(([name, c]) => {
          const { description: _description, ...rest } = c;
          return [name, rest];
        }),
      );
      expect(documented).toEqual(CALLERS);
    });

    it("lists the app's reason codes, statuses and buckets, no more and no fewer", () => {
      const schemas = contract.components.schemas as Record<string, Schema>;
      expect(schemas.ReasonCode.enum).toEqual([...REASON_CODES]);
      expect(schemas.RawStatus.enum).toEqual([...RUN_STATUSES]);
      expect(schemas.StatusBucket.enum).toEqual([...BUCKETS]);
    });

    it.each(ops.map((o) => [o.label, o] as const))(
      '%s documents every caller, and bad requests for every filter',
      (_label, o) => {
        const callers = Object.keys(o.op['x-access']);
        expect(callers).toEqual(expect.arrayContaining(REQUIRED_CALLERS));
        if (o.path.includes('{id}')) expect(callers).toContain('foreign-run');
        for (const caller of callers) expect(Object.keys(CALLERS)).toContain(caller);
        for (const status of Object.values(o.op['x-access']))
          expect(Object.keys(o.op.responses)).toContain(String(status));
        // Every filter has a bad value that must be refused, which proves the app reads that filter at all.
        const badKeys = new Set(
          (o.op['x-bad-request'] ?? []).flatMap((qs) => [...new URLSearchParams(qs).keys()]),
        );
        expect([...badKeys].sort()).toEqual(o.query.map((p) => p.name).sort());
      },
    );
  });

  describe('x-access: each documented caller gets the documented status', () => {
    it.each(accessCases)('%s as %s → %i', async (_label, caller, expected, o) => {
      const what = `${caller} ${urlFor(caller, o.path)}`;
      const res = o.method === 'post' ? await post(caller, o.path) : await call(caller, o.path);
      expect({ what, status: res.status }).toEqual({ what, status: expected });
      expectDocumented(o, res, what);
      if (o.path.startsWith('/api/') && res.status === 200 && !o.path.includes('{id}')) {
        // The list really carried runs, so the Run schema was checked on real rows.
        expect(res.body.data.length).toBeGreaterThan(0);
      }
    });
  });

  describe('roles behind the caller names', () => {
    it.each(['owner', 'operator', 'readonly'])('%s is shown with that role on the tenant', async (caller) => {
      const res = await call(caller, '/admin/t/{tenant}/operations').expect(200);
      expect(res.text).toContain(`<span class="role-pill">${caller}</span>`);
    });
  });

  describe("another tenant's run is indistinguishable from a run that does not exist", () => {
    it.each(idOps.map((o) => [o.label, o] as const))('%s', async (_label, o) => {
      const foreign = await call('foreign-run', o.path);
      const missing = await call('owner', o.path, '', 999_999_999);
      expect(foreign.status).toBe(404);
      expect(missing.status).toBe(404);
      const shown = (r: request.Response) =>
        r.type === 'application/json'
          ? r.body
          : /<section class="error-page">[\s\S]*?<\/section>/.exec(r.text)?.[0];
      expect(shown(foreign)).toEqual(shown(missing));
      expect(shown(foreign)).toBeTruthy();
      // The owner can see that run in its own tenant: the 404 is about the URL's tenant, not the run.
      await call('owner', o.path.replace('{tenant}', 'fabrikam'), '', runIds.fabrikam).expect(200);
    });
  });

  describe('x-bad-request: every documented bad query is a readable 400', () => {
    it.each(badRequestCases)('%s?%s → 400', async (_label, qs, o) => {
      const what = urlFor('readonly', o.path, qs);
      const res = await call('readonly', o.path, qs);
      expect({ what, status: res.status }).toEqual({ what, status: 400 });
      expectDocumented(o, res, what);
      if (res.type === 'application/json') expect(res.body.error).toBe('bad_request');
      else expect(res.text).toContain('That request could not be understood');
    });
  });

  describe('every documented query parameter is accepted with a valid value', () => {
    it.each(queryParamCases)('%s ?%s=…', async (_label, name, o, p) => {
      const value = name === 'type' ? sampleType : String(p.example ?? '');
      expect(value).not.toBe('');
      const qs = new URLSearchParams({ [name]: value }).toString();
      const what = urlFor('owner', o.path, qs);
      const res = await call('owner', o.path, qs);
      expect({ what, status: res.status }).toEqual({ what, status: 200 });
      expectDocumented(o, res, what);
    });

    it('the API honours limit and pages with next_cursor until null', async () => {
      const seen: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const q = new URLSearchParams({ limit: '1', ...(cursor ? { cursor } : {}) }).toString();
        const res: request.Response = await call('owner', '/api/v1/tenants/{tenant}/runs', q).expect(200);
        expect(res.body.data).toHaveLength(1);
        seen.push(res.body.data[0].id);
        cursor = res.body.next_cursor;
        pages++;
      } while (cursor && pages < 10);
      expect(cursor).toBeNull();
      expect(seen).toContain(runIds.contoso);
      expect(seen).not.toContain(runIds.fabrikam);
    });
  });

  describe('the documented paths are exactly the routes the app serves', () => {
    const documented = ops.map((o) => `${o.method.toUpperCase()} ${o.path}`).sort();
    // The contract's scope: its top-level paths (those no other documented path sits under).
    const roots = Object.keys(contract.paths).filter(
      (p) => !Object.keys(contract.paths).some((q) => q !== p && p.startsWith(`${q}/`)),
    );

    it('no Monitoring or runs API route is missing from the contract, and none documented is gone', () => {
      const served = discoverRoutes(t)
        .filter((r) => r.method !== 'MOUNT')
        .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`)
        .filter((route) => roots.some((root) => route.endsWith(` ${root}`) || route.includes(` ${root}/`)));
      expect(roots.length).toBeGreaterThan(0);
      expect([...new Set(served)].sort()).toEqual(documented);
    });

    it("agrees with the app's own OpenAPI document for the API part", async () => {
      const res = await request(t.server).get('/api/docs-json').expect(200);
      const served: Record<string, Record<string, { parameters?: Parameter[]; responses?: object }>> = res
        .body.paths;
      const servedOps = Object.entries(served).flatMap(([path, methods]) =>
        Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
      );
      const isApi = (op: string) => op.includes(' /api/');
      expect(servedOps.filter(isApi).sort()).toEqual(documented.filter(isApi));
      // It also lists the Monitoring pages (their controller sits in the same module): those must be ours too.
      expect(documented).toEqual(expect.arrayContaining(servedOps));
      for (const [path, methods] of Object.entries(served)) {
        for (const [method, op] of Object.entries(methods)) {
          const mine = ops.find((o) => o.path === path && o.method === method)!;
          // The generated document may say less than the contract, never something else.
          const names = (op.parameters ?? []).map((p) => `${p.in}:${p.name}`);
          expect(mine.params.map((p) => `${p.in}:${p.name}`)).toEqual(expect.arrayContaining(names));
          expect(Object.keys(mine.op.responses)).toEqual(
            expect.arrayContaining(Object.keys(op.responses ?? {})),
          );
        }
      }
    });
  });
});
