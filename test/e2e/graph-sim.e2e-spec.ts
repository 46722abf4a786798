import { spawn } from 'node:child_process';
import { X509Certificate, constants, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { createInterface } from 'node:readline';
import {
  CLIENT_ASSERTION_TYPE,
  COLLECTION_NAMES,
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  DEFAULT_FIXTURE_OPTIONS,
  DEFAULT_TENANT_ID,
  GRAPH_SIM_DIR,
  GraphSimulator,
  READ_PERMISSIONS,
  fixturePolicyCount,
  generateTenant,
  loadFixture,
  spreadCounts,
} from '../graph-sim';

const fixture = loadFixture();
const DOMAIN = 'contoso-sim.onmicrosoft.com';
const SCOPE = 'https://graph.microsoft.com/.default';
const certs = (name: string) => readFileSync(join(GRAPH_SIM_DIR, 'certs', name), 'utf8');

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: any;
}

describe('Graph simulator', () => {
  let sim: GraphSimulator;
  let agent: Agent;

  function call(
    path: string,
    options: {
      method?: string;
      token?: string;
      form?: Record<string, string>;
      headers?: Record<string, string>;
      timeoutMs?: number;
    } = {},
  ): Promise<Reply> {
    const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
    return new Promise((resolve, reject) => {
      const req = request(
        path.startsWith('https://') ? path : `${sim.origin}${path}`,
        {
          agent,
          method: options.method ?? (body ? 'POST' : 'GET'),
          headers: {
            ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
            ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
            ...options.headers,
          },
        },
        (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => {
            let parsed: unknown = null;
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = null;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed });
          });
        },
      );
      req.on('error', reject);
      if (options.timeoutMs)
        req.setTimeout(options.timeoutMs, () => req.destroy(new Error('client timeout')));
      req.end(body);
    });
  }

  const secretForm = (secret = DEFAULT_CLIENT_SECRET, clientId = DEFAULT_CLIENT_ID) => ({
    grant_type: 'client_credentials',
    client_id: clientId,
    client_secret: secret,
    scope: SCOPE,
  });

  async function token(): Promise<string> {
    const reply = await call(`/${DEFAULT_TENANT_ID}/oauth2/v2.0/token`, { form: secretForm() });
    expect(reply.status).toBe(200);
    return reply.body.access_token as string;
  }

  function assertion(certPem: string, keyPem: string, claims: Record<string, unknown>): string {
    const thumb = Buffer.from(new X509Certificate(certPem).fingerprint256.replace(/:/g, ''), 'hex').toString(
      'base64url',
    );
    const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const input = `${part({ alg: 'PS256', typ: 'JWT', 'x5t#S256': thumb })}.${part({
      iss: DEFAULT_CLIENT_ID,
      sub: DEFAULT_CLIENT_ID,
      jti: randomUUID(),
      nbf: now,
      iat: now,
      exp: now + 600,
      ...claims,
    })}`;
    const signature = sign('sha256', Buffer.from(input), {
      key: keyPem,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: 32,
    });
    return `${input}.${signature.toString('base64url')}`;
  }

  beforeAll(async () => {
    sim = await GraphSimulator.start({ tenants: [fixture] });
    agent = new Agent({
      keepAlive: true,
      secureContext: createSecureContext({ ca: readFileSync(sim.caFile) }),
    });
  });

  afterEach(() => {
    sim.clearFaults();
    sim.echoSecrets = false;
    sim.tokenLifetimeSeconds = 3599;
    sim.latencyMs = 0;
  });

  afterAll(async () => {
    agent.destroy();
    await sim.stop();
  });

  it('serves each tenant OpenID document by GUID or domain, on its own origin', async () => {
    for (const ref of [DEFAULT_TENANT_ID, DOMAIN]) {
      const reply = await call(`/${ref}/v2.0/.well-known/openid-configuration`);
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({
        issuer: `${sim.origin}/${DEFAULT_TENANT_ID}/v2.0`,
        token_endpoint: `${sim.origin}/${DEFAULT_TENANT_ID}/oauth2/v2.0/token`,
        authorization_endpoint: expect.any(String),
        jwks_uri: expect.any(String),
      });
    }
    const unknown = await call('/nobody.onmicrosoft.com/v2.0/.well-known/openid-configuration');
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({
      error: 'invalid_tenant',
      error_codes: [90002],
      error_description: expect.stringMatching(/^AADSTS90002: Tenant 'nobody.onmicrosoft.com' not found/),
    });
  });

  it('issues tokens for the right secret and refuses others in Entra shape', async () => {
    const endpoint = `/${DEFAULT_TENANT_ID}/oauth2/v2.0/token`;
    const before = sim.tokenRequestCount({ tenant: DEFAULT_TENANT_ID, clientId: DEFAULT_CLIENT_ID });
    const ok = await call(endpoint, { form: secretForm() });
    expect(ok.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 3599,
      access_token: expect.any(String),
    });

    const wrong = await call(endpoint, { form: secretForm('not-the-secret') });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ error: 'invalid_client', error_codes: [7000215] });
    expect(wrong.body.error_description).toMatch(/^AADSTS7000215: Invalid client secret provided/);
    expect(wrong.text).not.toContain('not-the-secret');
    sim.echoSecrets = true;
    expect((await call(endpoint, { form: secretForm('not-the-secret') })).body.error_description).toContain(
      'not-the-secret',
    );

    const unknownApp = await call(endpoint, { form: secretForm(DEFAULT_CLIENT_SECRET, randomUUID()) });
    expect(unknownApp.body).toMatchObject({ error: 'unauthorized_client', error_codes: [700016] });
    const unknownTenant = await call('/nobody.onmicrosoft.com/oauth2/v2.0/token', { form: secretForm() });
    expect(unknownTenant.body.error_codes).toEqual([90002]);

    const expiring = sim.addApp(DOMAIN, { secretExpiresAt: new Date(Date.now() - 1000) });
    const expired = await call(endpoint, {
      form: secretForm(expiring.clientSecret ?? '', expiring.clientId),
    });
    expect(expired.body).toMatchObject({ error: 'invalid_client', error_codes: [7000222] });

    expect(sim.tokenRequestCount({ tenant: DEFAULT_TENANT_ID, clientId: DEFAULT_CLIENT_ID }) - before).toBe(
      3,
    );
    expect(
      sim.tokenRequests({ clientId: expiring.clientId }).map((r) => [r.credential, r.errorCode]),
    ).toEqual([['secret', 7000222]]);
  });

  it('verifies a client assertion against the certificate registered on the app', async () => {
    const endpointPath = `/${DEFAULT_TENANT_ID}/oauth2/v2.0/token`;
    const aud = `${sim.origin}${endpointPath}`;
    sim.addCertificate(DEFAULT_TENANT_ID, DEFAULT_CLIENT_ID, certs('app-cert.pem'));
    const post = (jwt: string) =>
      call(endpointPath, {
        form: {
          grant_type: 'client_credentials',
          client_id: DEFAULT_CLIENT_ID,
          client_assertion_type: CLIENT_ASSERTION_TYPE,
          client_assertion: jwt,
          scope: SCOPE,
        },
      });
    const good = assertion(certs('app-cert.pem'), certs('app-key.pem'), { aud });
    expect((await post(good)).status).toBe(200);
    const codes = async (jwt: string) => (await post(jwt)).body.error_codes;
    expect(await codes(assertion(certs('other-app-cert.pem'), certs('other-app-key.pem'), { aud }))).toEqual([
      700027,
    ]);
    // Registered thumbprint, wrong key: the signature does not verify.
    const forged = assertion(certs('app-cert.pem'), certs('other-app-key.pem'), { aud });
    expect(await codes(forged)).toEqual([700027]);
    expect(
      await codes(
        assertion(certs('app-cert.pem'), certs('app-key.pem'), { aud: `${sim.origin}/other/token` }),
      ),
    ).toEqual([700212]);
    const past = Math.floor(Date.now() / 1000) - 3600;
    expect(
      await codes(
        assertion(certs('app-cert.pem'), certs('app-key.pem'), { aud, nbf: past - 600, exp: past }),
      ),
    ).toEqual([700024]);
    expect(await codes('not.a-jwt')).toEqual([50027]);
  });

  it('checks bearer tokens: missing, unknown, revoked and expired ones get 401 InvalidAuthenticationToken', async () => {
    const path = '/beta/deviceManagement/deviceConfigurations';
    const missing = await call(path);
    expect(missing.status).toBe(401);
    expect(missing.body.error).toMatchObject({
      code: 'InvalidAuthenticationToken',
      message: 'Access token is empty.',
    });
    expect(missing.headers['www-authenticate']).toBeDefined();
    const expiredMessage = 'Access token has expired or is not yet valid.';
    expect((await call(path, { token: 'eyJ.unknown.token' })).body.error.message).toBe(expiredMessage);
    const revoked = await token();
    expect((await call(path, { token: revoked })).status).toBe(200);
    expect(sim.revokeTokens({ tenant: DOMAIN })).toBeGreaterThan(0);
    expect((await call(path, { token: revoked })).body.error).toMatchObject({
      code: 'InvalidAuthenticationToken',
      message: expiredMessage,
    });
    sim.tokenLifetimeSeconds = 0;
    const shortLived = await token();
    expect((await call(path, { token: shortLived })).status).toBe(401);
  });

  it('pages settings catalog policies and their settings with opaque skip tokens and absolute next links', async () => {
    const bearer = await token();
    const pages: any[] = [];
    let next: string | undefined = '/beta/deviceManagement/configurationPolicies?$expand=assignments';
    while (next) {
      const reply: Reply = await call(next, { token: bearer });
      expect(reply.status).toBe(200);
      pages.push(reply.body);
      next = reply.body['@odata.nextLink'];
      if (next) {
        expect(
          next.startsWith(
            `${sim.origin}/beta/deviceManagement/configurationPolicies?$expand=assignments&$skiptoken=`,
          ),
        ).toBe(true);
        expect(next).not.toMatch(/skiptoken=\d+$/);
      }
    }
    expect(pages.map((p) => p.value.length)).toEqual([25, 25, 7]);
    expect(pages[0]['@odata.context']).toBe(
      `${sim.origin}/beta/$metadata#deviceManagement/configurationPolicies(assignments())`,
    );
    const first = pages[0].value[0];
    expect(first).toMatchObject({
      id: expect.any(String),
      name: expect.any(String),
      lastModifiedDateTime: expect.any(String),
    });
    expect(first).toHaveProperty('assignments');
    expect(Object.keys(first)).toContain('assignments@odata.context');
    expect(first).not.toHaveProperty('settings');

    const large = fixture.collections.configurationPolicies?.[0].id;
    const settingPages: any[] = [];
    next = `/beta/deviceManagement/configurationPolicies/${large}/settings?$expand=settingDefinitions`;
    while (next) {
      const reply: Reply = await call(next, { token: bearer });
      settingPages.push(reply.body);
      next = reply.body['@odata.nextLink'];
    }
    expect(settingPages.map((p) => p.value.length)).toEqual([25, 25, 10]);
    const setting = settingPages[0].value[0];
    expect(setting.settingDefinitions[0].id).toBe(setting.settingInstance.settingDefinitionId);
    const definition = await call(
      `/beta/deviceManagement/configurationSettings/${setting.settingInstance.settingDefinitionId}`,
      {
        token: bearer,
      },
    );
    expect(definition.body.displayName).toBe(setting.settingDefinitions[0].displayName);

    const configs = await call('/beta/deviceManagement/deviceConfigurations', { token: bearer });
    expect(configs.body.value[0]).toMatchObject({
      '@odata.type': expect.stringMatching(/^#microsoft\.graph\./),
      id: expect.any(String),
      version: expect.any(Number),
      lastModifiedDateTime: expect.any(String),
    });
    expect(configs.body.value[0]).not.toHaveProperty('assignments');
    const top = await call('/beta/deviceManagement/deviceConfigurations?$top=1', { token: bearer });
    expect(top.body.value).toHaveLength(1);
    expect(top.body['@odata.nextLink']).toContain('$top=1&$skiptoken=');
  });

  it('serves each type as Graph does: versions, expansions, omitted script content, typed app protection', async () => {
    const bearer = await token();
    const get = (path: string) => call(path, { token: bearer });
    const notOnV1 = await get('/v1.0/deviceManagement/configurationPolicies');
    expect(notOnV1.status).toBe(400);
    expect(notOnV1.body.error.message).toBe("Resource not found for the segment 'configurationPolicies'.");
    expect((await get('/v1.0/identity/conditionalAccess/policies')).body.value).toHaveLength(
      fixture.collections.conditionalAccessPolicies?.length ?? 0,
    );
    expect((await get('/beta/identity/conditionalAccess/policies')).status).toBe(200);

    const compliance = await get(
      '/beta/deviceManagement/deviceCompliancePolicies?$expand=scheduledActionsForRule($expand=scheduledActionConfigurations)',
    );
    expect(
      compliance.body.value[0].scheduledActionsForRule[0].scheduledActionConfigurations.length,
    ).toBeGreaterThan(0);
    const shallow = await get(
      '/beta/deviceManagement/deviceCompliancePolicies?$expand=scheduledActionsForRule',
    );
    expect(shallow.body.value[0].scheduledActionsForRule[0]).not.toHaveProperty(
      'scheduledActionConfigurations',
    );
    expect((await get('/beta/deviceManagement/deviceConfigurations?$expand=nonsense')).status).toBe(400);

    const script = fixture.collections.deviceManagementScripts?.[0];
    const scripts = await get('/beta/deviceManagement/deviceManagementScripts');
    expect(scripts.body.value[0].scriptContent).toBeNull();
    const full = await get(
      `/beta/deviceManagement/deviceManagementScripts/${script?.id}?$expand=assignments`,
    );
    expect(full.body.scriptContent).toBe(script?.scriptContent);
    expect(full.body['@odata.context']).toContain('/$entity');
    expect(full.body).toHaveProperty('assignments');

    const gp = fixture.collections.groupPolicyConfigurations?.[0];
    const values = await get(
      `/beta/deviceManagement/groupPolicyConfigurations/${gp?.id}/definitionValues?$expand=definition`,
    );
    expect(values.body.value[0]).toHaveProperty('definition.displayName');
    expect(values.body.value[0]).not.toHaveProperty('presentationValues');
    const presentations = await get(
      `/beta/deviceManagement/groupPolicyConfigurations/${gp?.id}/definitionValues/${values.body.value[0].id}/presentationValues?$expand=presentation`,
    );
    expect(presentations.status).toBe(200);

    const mixed = await get('/beta/deviceAppManagement/managedAppPolicies');
    expect(new Set(mixed.body.value.map((p: any) => p['@odata.type'])).size).toBeGreaterThan(2);
    expect(mixed.body.value[0]).not.toHaveProperty('apps');
    expect(mixed.body.value[0]).not.toHaveProperty('pinRequired');
    expect(
      (await get('/beta/deviceAppManagement/managedAppPolicies?$filter=isAssigned eq true')).status,
    ).toBe(400);
    const ios = mixed.body.value.find(
      (p: any) => p['@odata.type'] === '#microsoft.graph.iosManagedAppProtection',
    );
    const typed = await get(
      `/beta/deviceAppManagement/iosManagedAppProtections/${ios.id}?$expand=apps,assignments`,
    );
    expect(typed.body).toMatchObject({
      id: ios.id,
      pinRequired: true,
      apps: expect.any(Array),
      assignments: expect.any(Array),
    });
    const wrongType = await get(`/beta/deviceAppManagement/androidManagedAppProtections/${ios.id}`);
    expect(wrongType.status).toBe(404);
  });

  it('checks application permissions per route, granted and revoked at runtime', async () => {
    const bearer = await token();
    sim.revoke(DEFAULT_TENANT_ID, DEFAULT_CLIENT_ID, 'DeviceManagementApps.Read.All', 'Policy.Read.All');
    try {
      const intune = await call('/beta/deviceAppManagement/managedAppPolicies', {
        token: bearer,
        headers: { 'client-request-id': 'crid-403' },
      });
      expect(intune.status).toBe(403);
      expect(intune.body.error.code).toBe('Forbidden');
      const inner = JSON.parse(intune.body.error.message);
      expect(inner.Message).toContain('must have one of the following scopes: DeviceManagementApps.Read.All');
      expect(intune.body.error.innerError).toMatchObject({
        'client-request-id': 'crid-403',
        'request-id': intune.headers['request-id'],
      });
      const entra = await call('/v1.0/identity/conditionalAccess/policies', { token: bearer });
      expect(entra.status).toBe(403);
      expect(entra.body.error.code).toBe('Authorization_RequestDenied');
      expect((await call('/beta/deviceManagement/deviceConfigurations', { token: bearer })).status).toBe(200);
    } finally {
      sim.grant(DEFAULT_TENANT_ID, DEFAULT_CLIENT_ID, 'DeviceManagementApps.Read.All', 'Policy.Read.All');
    }
    expect(sim.permissions(DEFAULT_TENANT_ID, DEFAULT_CLIENT_ID)).toEqual([...READ_PERMISSIONS].sort());
    expect((await call('/v1.0/identity/conditionalAccess/policies', { token: bearer })).status).toBe(200);
  });

  it('plays fault scripts: status with Retry-After, nth and times, reset, hang, malformed JSON, hooks, foreign links', async () => {
    const bearer = await token();
    const path = '/beta/deviceManagement/deviceConfigurations';
    sim.addFault({ path, nth: 2, times: 2, action: { kind: 'status', status: 429, retryAfter: 3 } });
    const statuses: Array<[number, unknown]> = [];
    for (let i = 0; i < 4; i++) {
      const reply = await call(path, { token: bearer });
      statuses.push([reply.status, reply.headers['retry-after']]);
    }
    expect(statuses).toEqual([
      [200, undefined],
      [429, '3'],
      [429, '3'],
      [200, undefined],
    ]);
    sim.addFault({ method: 'GET', path: `${path}*`, action: { kind: 'status', status: 503 } });
    const unavailable = await call(`${path}?$top=1`, { token: bearer });
    expect(unavailable.status).toBe(503);
    expect(unavailable.body.error.code).toBe('ServiceUnavailable');
    expect(unavailable.headers['retry-after']).toBeUndefined();
    sim.addFault({ path, action: { kind: 'status', status: 504 } });
    expect((await call(path, { token: bearer })).status).toBe(504);

    sim.addFault({ path, action: { kind: 'reset' } });
    await expect(call(path, { token: bearer })).rejects.toThrow(/socket hang up|ECONNRESET/);

    sim.addFault({ path, action: { kind: 'malformedJson' } });
    const broken = await call(path, { token: bearer });
    expect(broken.status).toBe(200);
    expect(broken.body).toBeNull();

    sim.addFault({ path, action: { kind: 'hang' } });
    const started = Date.now();
    await expect(call(path, { token: bearer, timeoutMs: 300 })).rejects.toThrow('client timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    const hung = sim.requests({ service: 'graph' }).at(-1);
    expect(hung).toMatchObject({ status: null, fault: 'hang' });
    // The server notices the client's hang-up a moment later; then the request leaves the in-flight count.
    for (let waited = 0; hung?.durationMs === null && waited < 2000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(hung?.durationMs).toBeGreaterThanOrEqual(290);

    const victim = fixture.collections.deviceConfigurations?.[0].id;
    sim.addFault({
      path,
      action: { kind: 'pass' },
      after: (s) => s.deletePolicy(DEFAULT_TENANT_ID, 'deviceConfigurations', victim ?? ''),
    });
    const listed = await call(path, { token: bearer });
    expect(listed.body.value.map((d: any) => d.id)).toContain(victim);
    const gone = await call(`${path}/${victim}`, { token: bearer });
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('ResourceNotFound');
    sim.putPolicy(
      DEFAULT_TENANT_ID,
      'deviceConfigurations',
      fixture.collections.deviceConfigurations?.[0] as never,
    );

    sim.addFault({
      path: /configurationPolicies\?/,
      action: { kind: 'foreignNextLink', origin: 'https://elsewhere.example' },
    });
    const foreign = await call('/beta/deviceManagement/configurationPolicies?$top=5', { token: bearer });
    expect(foreign.body['@odata.nextLink']).toMatch(
      /^https:\/\/elsewhere\.example\/beta\/deviceManagement\/configurationPolicies\?\$top=5&\$skiptoken=/,
    );
  });

  it('logs every request with its ids, status and the requests in flight for its tenant', async () => {
    const bearer = await token();
    sim.clearLog();
    // Long enough that all five overlap even when each needs a new TLS connection.
    sim.latencyMs = 300;
    const replies = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        call('/beta/deviceManagement/intents', {
          token: bearer,
          headers: { 'client-request-id': `crid-${i}` },
        }),
      ),
    );
    expect(replies.map((r) => r.headers['client-request-id']).sort()).toEqual([
      'crid-0',
      'crid-1',
      'crid-2',
      'crid-3',
      'crid-4',
    ]);
    const log = sim.requests({ service: 'graph', tenant: DOMAIN });
    expect(log).toHaveLength(5);
    expect(log.map((e) => [e.tenantId, e.clientId, e.status])).toEqual(
      Array(5).fill([DEFAULT_TENANT_ID, DEFAULT_CLIENT_ID, 200]),
    );
    expect(log.map((e) => e.requestId).sort()).toEqual(replies.map((r) => r.headers['request-id']).sort());
    expect(log.map((e) => e.inFlight)).toEqual([1, 2, 3, 4, 5]);
    // Settled ones are out of the count again.
    await call('/beta/deviceManagement/intents', { token: bearer });
    expect(sim.requests({ service: 'graph', tenant: DOMAIN }).at(-1)?.inFlight).toBe(1);
    expect(sim.maxInFlight(DOMAIN)).toBe(5);
    expect(sim.requests({ service: 'entra' })).toHaveLength(0);
  });

  it('generates the committed default fixture, and big tenants with every type', () => {
    expect(JSON.parse(JSON.stringify(generateTenant(DEFAULT_FIXTURE_OPTIONS)))).toEqual(fixture);
    expect(fixturePolicyCount(fixture)).toBe(90);
    const counts = spreadCounts(5000);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(5000);
    const big = generateTenant({ seed: 7, counts });
    for (const name of COLLECTION_NAMES) expect(big.collections[name]?.length).toBe(counts[name]);
    const ids = COLLECTION_NAMES.flatMap((name) => (big.collections[name] ?? []).map((d) => d.id));
    expect(new Set(ids).size).toBe(5000);
  });

  it('runs stand-alone: one JSON line with what the app needs, until SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', join(GRAPH_SIM_DIR, 'cli.ts')],
      {
        cwd: join(GRAPH_SIM_DIR, '..', '..'),
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      const lines = createInterface({ input: child.stdout });
      const first = await new Promise<string>((resolve) => lines.once('line', resolve));
      const printed = JSON.parse(first);
      expect(Object.keys(printed)).toEqual(['authority_host', 'graph_base_url', 'ca_file', 'tenants']);
      expect(printed.tenants).toEqual([
        {
          microsoft_tenant_id: DEFAULT_TENANT_ID,
          client_id: DEFAULT_CLIENT_ID,
          client_secret: DEFAULT_CLIENT_SECRET,
          policies: 90,
        },
      ]);
      const discovery = await call(
        `${printed.authority_host}/${DOMAIN}/v2.0/.well-known/openid-configuration`,
      );
      expect(discovery.body.issuer).toBe(`${printed.authority_host}/${DEFAULT_TENANT_ID}/v2.0`);
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
