import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  FAST_RETRY,
  GraphHarness,
  SimTenantHandle,
  addFixtureTenant,
  deleteRedisKeys,
  graphTestConfig,
  logLines,
  startGraphModule,
} from '../../test/graph-sim/app-harness';
import { COLLECTION_NAMES, GRAPH_SIM_DIR, loadFixture } from '../../test/graph-sim/fixture';
import { GraphSimulator } from '../../test/graph-sim/simulator';
import { minimumRequests } from '../../test/graph-sim/requests';
import { PolicyTypeListing, ProviderError, SourcePolicy } from '../policies/policy-source';
import type { GraphWait } from './graph-http.client';
import { GRAPH_POLICY_TYPE_KEYS, GRAPH_POLICY_TYPES, GraphPolicyType } from './graph-policy-types';
import { POLICY_TYPE_LABELS } from '../policies';

/** Which simulator collection holds each policy type. */
const COLLECTION_OF: Record<GraphPolicyType, (typeof COLLECTION_NAMES)[number]> = {
  deviceConfiguration: 'deviceConfigurations',
  compliancePolicy: 'deviceCompliancePolicies',
  settingsCatalog: 'configurationPolicies',
  groupPolicyConfiguration: 'groupPolicyConfigurations',
  enrollmentConfiguration: 'deviceEnrollmentConfigurations',
  autopilotProfile: 'windowsAutopilotDeploymentProfiles',
  deviceManagementScript: 'deviceManagementScripts',
  endpointSecurityIntent: 'intents',
  appProtection: 'managedAppPolicies',
  conditionalAccess: 'conditionalAccessPolicies',
};

const CATALOG = '/beta/deviceManagement/configurationPolicies';
const tenantRef = (t: SimTenantHandle) => ({ id: 1, slug: `t-${t.tenantId.slice(0, 8)}` });

function byType(results: PolicyTypeListing[]): Record<string, PolicyTypeListing> {
  return Object.fromEntries(results.map((r) => [r.policyType, r]));
}

function policiesOf(result: PolicyTypeListing | undefined): SourcePolicy[] {
  if (!result || !('policies' in result)) throw new Error(`expected policies, got ${JSON.stringify(result)}`);
  return result.policies;
}

function errorOf(result: PolicyTypeListing | undefined): ProviderError {
  if (!result || !('error' in result)) throw new Error(`expected an error for ${result?.policyType}`);
  return result.error;
}

const expectedRequests = minimumRequests;

describe('GraphPolicySource against the Graph simulator', () => {
  const fixture = loadFixture();
  let sim: GraphSimulator;
  let harness: GraphHarness;
  let tenant: SimTenantHandle;
  const opened: GraphHarness[] = [];

  async function boot(
    env: Record<string, string> = {},
    credential = tenant.credential,
  ): Promise<GraphHarness> {
    const h = await startGraphModule(graphTestConfig(sim, env), credential, FAST_RETRY);
    opened.push(h);
    return h;
  }

  beforeAll(async () => {
    sim = await GraphSimulator.start({ echoSecrets: true });
  });

  beforeEach(async () => {
    tenant = addFixtureTenant(sim);
    harness = await boot();
    logLines.length = 0;
  });

  afterEach(async () => {
    sim.clearFaults();
    for (const h of opened.splice(0)) {
      await h.close();
      await deleteRedisKeys(h.config.redisPrefix);
    }
  });

  afterAll(async () => {
    await sim.stop();
  });

  it('captures every fixture policy exactly once, with its details, on one token and no redundant request', async () => {
    const results = byType(await harness.source.listByType(tenantRef(tenant)));
    for (const key of GRAPH_POLICY_TYPE_KEYS) {
      const ids = policiesOf(results[key])
        .map((p) => p.externalId)
        .sort();
      const expected = (fixture.collections[COLLECTION_OF[key]] ?? []).map((d) => d.id).sort();
      expect({ key, ids }).toEqual({ key, ids: expected });
    }
    expect((fixture.collections.configurationPolicies ?? []).length).toBeGreaterThan(50);

    const catalog = policiesOf(results.settingsCatalog);
    const large = catalog.find((p) => p.externalId === fixture.collections.configurationPolicies?.[0].id);
    const settings = large?.payload.settings as Array<Record<string, unknown>>;
    expect(settings).toHaveLength(60);
    expect(settings[0].settingDefinitionId).toBe(
      (settings[0].settingInstance as Record<string, unknown>).settingDefinitionId,
    );
    expect(settings[0]).not.toHaveProperty('settingDefinitions');
    expect(large?.displayName).toBe(fixture.collections.configurationPolicies?.[0].name);
    expect(large?.payload).not.toHaveProperty('@odata.context');
    expect(large?.payload).not.toHaveProperty('settingCount');
    expect(large?.payload).toHaveProperty('assignments');

    const script = policiesOf(results.deviceManagementScript)[0];
    expect(typeof script.payload.scriptContent).toBe('string');
    expect(script.payload).toHaveProperty('assignments');
    const compliance = policiesOf(results.compliancePolicy)[0].payload;
    expect((compliance.scheduledActionsForRule as Array<Record<string, unknown>>)[0]).toHaveProperty(
      'scheduledActionConfigurations',
    );
    const gp = policiesOf(results.groupPolicyConfiguration)[0].payload;
    const values = gp.definitionValues as Array<Record<string, unknown>>;
    expect(values.length).toBeGreaterThan(0);
    expect(values[0]).toHaveProperty('definition.displayName');
    expect(values[0]).toHaveProperty('presentationValues');
    expect(values[0].definitionId).toBe((values[0].definition as Record<string, unknown>).id);
    const intent = policiesOf(results.endpointSecurityIntent)[0].payload;
    expect((intent.settings as unknown[]).length).toBeGreaterThan(0);
    for (const app of policiesOf(results.appProtection)) {
      expect(app.payload).toHaveProperty('assignments');
      expect(app.payload).not.toHaveProperty('deployedAppCount');
    }
    const ca = policiesOf(results.conditionalAccess)[0];
    expect(ca.payload.grantControls).not.toHaveProperty('authenticationStrength@odata.context');
    expect(ca.platform).toBe('all');

    expect(sim.tokenRequestCount({ tenant: tenant.tenantId })).toBe(1);
    const graphRequests = sim.requests({ service: 'graph', tenant: tenant.tenantId });
    expect(graphRequests).toHaveLength(expectedRequests(fixture));
    expect(graphRequests.every((r) => r.status === 200)).toBe(true);
    // Each request carried its own client-request-id.
    expect(new Set(graphRequests.map((r) => r.clientRequestId)).size).toBe(graphRequests.length);
    expect(sim.maxInFlight(tenant.tenantId)).toBeLessThanOrEqual(harness.config.graph.maxConcurrency);
  });

  it('signs in with a certificate: only the signed assertion crosses the wire', async () => {
    const certificatePem = readFileSync(join(GRAPH_SIM_DIR, 'certs', 'app-cert.pem'), 'utf8');
    const privateKeyPem = readFileSync(join(GRAPH_SIM_DIR, 'certs', 'app-key.pem'), 'utf8');
    const { clientId } = sim.addApp(tenant.tenantId, {
      secret: null,
      certificatePem,
      permissions: ['DeviceManagementConfiguration.Read.All'],
    });
    const h = await boot(
      {},
      {
        microsoftTenantId: `t${tenant.tenantId.slice(0, 8)}.onmicrosoft.com`,
        clientId,
        version: 'cert-1',
        certificate: { certificatePem, privateKeyPem },
      },
    );
    const checks = await h.source.checkConnection(tenantRef(tenant));
    expect(checks.find((c) => c.policyType === 'settingsCatalog')).toEqual({
      policyType: 'settingsCatalog',
      ok: true,
    });
    // Granted configuration only: the service-config types say which permission is missing.
    expect(checks.find((c) => c.policyType === 'autopilotProfile')).toMatchObject({
      ok: false,
      reasonCode: 'permission_denied',
      message: expect.stringContaining('DeviceManagementServiceConfig.Read.All'),
    });
    const tokenRequests = sim.tokenRequests({ tenant: tenant.tenantId, clientId });
    expect(tokenRequests).toHaveLength(1);
    expect(tokenRequests[0]).toMatchObject({ credential: 'assertion', status: 200 });
    const keyBody = privateKeyPem.split('\n').slice(1, -2).join('');
    expect(tokenRequests[0].body).not.toContain('client_secret');
    expect(tokenRequests[0].body).not.toContain(encodeURIComponent(keyBody.slice(0, 40)));
    expect(tokenRequests[0].body).not.toContain(keyBody.slice(0, 40));
  });

  it('honours Retry-After: 2 on one page, then succeeds, reporting the wait', async () => {
    sim.addFault({
      method: 'GET',
      path: CATALOG,
      tenant: tenant.tenantId,
      nth: 2,
      action: { kind: 'status', status: 429, retryAfter: 2 },
    });
    const waits: Array<GraphWait & { policyType: string }> = [];
    const started = Date.now();
    const results = byType(
      await harness.source.listByType(tenantRef(tenant), { onWait: (w) => waits.push(w) }),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(policiesOf(results.settingsCatalog)).toHaveLength(
      fixture.collections.configurationPolicies?.length ?? 0,
    );
    expect(waits).toEqual([{ reason: 'throttled', ms: 2000, attempt: 2, policyType: 'settingsCatalog' }]);
    const pageTwo = sim
      .requests({ tenant: tenant.tenantId })
      .filter((r) => r.path.startsWith(`${CATALOG}?`))[1];
    const retried = sim
      .requests({ tenant: tenant.tenantId })
      .filter((r) => r.clientRequestId === pageTwo.clientRequestId);
    expect(retried.map((r) => r.status)).toEqual([429, 200]);
  });

  it('gives up as provider_throttled after five 429s without Retry-After; the other types still read', async () => {
    sim.addFault({
      path: '/beta/deviceManagement/deviceConfigurations',
      tenant: tenant.tenantId,
      times: 5,
      action: { kind: 'status', status: 429 },
    });
    const results = byType(await harness.source.listByType(tenantRef(tenant)));
    const error = errorOf(results.deviceConfiguration);
    expect(error.reasonCode).toBe('provider_throttled');
    expect(error.message).toContain('429');
    const attempts = sim
      .requests({ tenant: tenant.tenantId })
      .filter((r) => r.path.startsWith('/beta/deviceManagement/deviceConfigurations'));
    expect(attempts).toHaveLength(5);
    expect(new Set(attempts.map((r) => r.clientRequestId)).size).toBe(1);
    expect(policiesOf(results.compliancePolicy).length).toBeGreaterThan(0);
    // A run-level error only when nothing could be read: here listPolicies still returns the rest.
    sim.addFault({
      path: '/beta/deviceManagement/deviceConfigurations',
      tenant: tenant.tenantId,
      times: 5,
      action: { kind: 'status', status: 429 },
    });
    const all = await harness.source.listPolicies(tenantRef(tenant));
    expect(all.some((p) => p.policyType === 'deviceConfiguration')).toBe(false);
    expect(all.length).toBeGreaterThan(50);
  });

  it('retries a 503 and a connection reset, and succeeds', async () => {
    sim.addFault({
      path: '/beta/deviceManagement/deviceCompliancePolicies',
      tenant: tenant.tenantId,
      action: { kind: 'status', status: 503 },
    });
    sim.addFault({
      path: '/beta/deviceManagement/intents',
      tenant: tenant.tenantId,
      action: { kind: 'reset' },
    });
    const waits: GraphWait[] = [];
    const results = byType(
      await harness.source.listByType(tenantRef(tenant), { onWait: (w) => waits.push(w) }),
    );
    expect(policiesOf(results.compliancePolicy)).toHaveLength(
      fixture.collections.deviceCompliancePolicies?.length ?? 0,
    );
    expect(policiesOf(results.endpointSecurityIntent)).toHaveLength(fixture.collections.intents?.length ?? 0);
    expect(waits.map((w) => w.reason)).toEqual(['unavailable', 'unavailable']);
  });

  it('ends a hung request as timeout within GRAPH_TIMEOUT_MS', async () => {
    const h = await boot({ GRAPH_TIMEOUT_MS: '600' });
    await h.source.checkConnection(tenantRef(tenant));
    sim.addFault({
      path: '/v1.0/identity/conditionalAccess/policies/*',
      tenant: tenant.tenantId,
      action: { kind: 'hang' },
    });
    const started = Date.now();
    const error = await h.source.getPolicy(tenantRef(tenant), 'conditionalAccess', 'any-id').then(
      () => null,
      (e: unknown) => e,
    );
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).reasonCode).toBe('timeout');
    expect((error as ProviderError).message).toContain('within 600 ms');
    expect(elapsed).toBeGreaterThanOrEqual(550);
    expect(elapsed).toBeLessThan(1500);
  });

  it('reports a missing permission for its type only, naming the permission to grant', async () => {
    sim.revoke(tenant.tenantId, tenant.clientId, 'DeviceManagementApps.Read.All');
    const results = byType(await harness.source.listByType(tenantRef(tenant)));
    const error = errorOf(results.appProtection);
    expect(error.reasonCode).toBe('permission_denied');
    expect(error.message).toBe(
      'Reading App protection needs the application permission DeviceManagementApps.Read.All (grant admin consent).',
    );
    for (const key of GRAPH_POLICY_TYPE_KEYS.filter((k) => k !== 'appProtection')) {
      expect(policiesOf(results[key]).length).toBeGreaterThan(0);
    }
    const checks = await harness.source.checkConnection(tenantRef(tenant));
    expect(checks.filter((c) => !c.ok).map((c) => c.policyType)).toEqual(['appProtection']);
    // Conditional access is Entra's 403 shape; the message is the same kind.
    sim.revoke(tenant.tenantId, tenant.clientId, 'Policy.Read.All');
    const ca = (await harness.source.checkConnection(tenantRef(tenant))).find(
      (c) => c.policyType === 'conditionalAccess',
    );
    expect(ca).toMatchObject({
      ok: false,
      reasonCode: 'permission_denied',
      message: expect.stringContaining('Policy.Read.All'),
    });
  });

  it('reports a wrong secret as credentials_invalid naming the AADSTS code, never the secret', async () => {
    const wrong = 'wr0ng8Q~ThisSecretMustNeverBeShown.0123456789';
    const h = await boot({}, { ...tenant.credential, version: '2', secret: { clientSecret: wrong } });
    const results = await h.source.listByType(tenantRef(tenant));
    expect(results).toHaveLength(GRAPH_POLICY_TYPE_KEYS.length);
    for (const r of results) {
      const error = errorOf(r);
      expect(error.reasonCode).toBe('credentials_invalid');
      expect(error.message).toBe('AADSTS7000215: the client secret is wrong.');
    }
    const rejected = await h.source.listPolicies(tenantRef(tenant)).catch((e: unknown) => e);
    expect(rejected).toMatchObject({ reasonCode: 'credentials_invalid' });
    const checks = await h.source.checkConnection(tenantRef(tenant));
    expect(
      checks.every(
        (c) => !c.ok && c.reasonCode === 'credentials_invalid' && c.message.includes('AADSTS7000215'),
      ),
    ).toBe(true);
    // The simulator did echo it; nothing of ours repeats it.
    expect(sim.tokenRequests({ tenant: tenant.tenantId })[0].errorDescription).toContain(wrong);
    expect(logLines.join('\n')).not.toContain(wrong);
    expect(JSON.stringify(results.map((r) => ('error' in r ? r.error.message : '')))).not.toContain(wrong);
  });

  it('names the AADSTS code of an unknown tenant, an unknown app and an expired secret', async () => {
    const cases: Array<[Partial<typeof tenant.credential>, string]> = [
      [{ microsoftTenantId: 'no-such-tenant.onmicrosoft.com' }, 'AADSTS90002: the tenant was not found.'],
      [
        { clientId: '00000000-0000-4000-8000-000000000000' },
        'AADSTS700016: the application (client) ID is not registered in this tenant.',
      ],
    ];
    for (const [change, message] of cases) {
      const h = await boot({}, { ...tenant.credential, ...change });
      const [first] = await h.source.checkConnection(tenantRef(tenant));
      expect(first).toMatchObject({ ok: false, reasonCode: 'credentials_invalid', message });
    }
    sim.expireSecrets(tenant.tenantId, tenant.clientId);
    const [expired] = await harness.source.checkConnection(tenantRef(tenant));
    expect(expired).toMatchObject({ ok: false, message: 'AADSTS7000222: the client secret has expired.' });
  });

  it('keeps at most GRAPH_MAX_CONCURRENCY requests in flight per tenant across two processes', async () => {
    sim.latencyMs = 8;
    try {
      const env = { GRAPH_MAX_CONCURRENCY: '3', REDIS_PREFIX: `graphtest-shared-${process.pid}` };
      const [a, b] = [await boot(env), await boot(env)];
      const [ra, rb] = await Promise.all([
        a.source.listByType(tenantRef(tenant)),
        b.source.listByType(tenantRef(tenant)),
      ]);
      expect(ra.every((r) => 'policies' in r) && rb.every((r) => 'policies' in r)).toBe(true);
      // Each process alone would allow 3: only the shared Redis semaphore keeps both together at 3.
      expect(sim.maxInFlight(tenant.tenantId)).toBe(3);
      expect(sim.requests({ service: 'graph', tenant: tenant.tenantId })).toHaveLength(
        2 * expectedRequests(fixture),
      );
    } finally {
      sim.latencyMs = 0;
    }
  });

  it('never follows a next link to another origin', async () => {
    let foreignRequests = 0;
    const foreign = createServer(
      {
        cert: readFileSync(join(GRAPH_SIM_DIR, 'certs', 'server.crt')),
        key: readFileSync(join(GRAPH_SIM_DIR, 'certs', 'server.key')),
      },
      (_req, res) => {
        foreignRequests++;
        res.end('{"value":[]}');
      },
    );
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    try {
      const origin = `https://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
      sim.addFault({ path: CATALOG, tenant: tenant.tenantId, action: { kind: 'foreignNextLink', origin } });
      const results = byType(await harness.source.listByType(tenantRef(tenant)));
      const error = errorOf(results.settingsCatalog);
      expect(error.reasonCode).toBe('provider_unavailable');
      expect(error.message).toContain('another host');
      expect(foreignRequests).toBe(0);
    } finally {
      foreign.closeAllConnections();
      await new Promise((resolve) => foreign.close(resolve));
    }
  });

  it('refreshes a revoked token once and carries on', async () => {
    await harness.source.checkConnection(tenantRef(tenant));
    expect(sim.revokeTokens({ tenant: tenant.tenantId })).toBe(1);
    const policy = await harness.source.getPolicy(
      tenantRef(tenant),
      'conditionalAccess',
      fixture.collections.conditionalAccessPolicies?.[0].id ?? '',
    );
    expect(policy?.externalId).toBe(fixture.collections.conditionalAccessPolicies?.[0].id);
    expect(sim.tokenRequestCount({ tenant: tenant.tenantId })).toBe(2);
    const statuses = sim
      .requests({ service: 'graph', tenant: tenant.tenantId })
      .slice(-2)
      .map((r) => r.status);
    expect(statuses).toEqual([401, 200]);
    // Refused again with the new token: then it is the credential, not the token.
    sim.addFault({
      path: '/v1.0/identity/conditionalAccess/policies',
      tenant: tenant.tenantId,
      times: 2,
      action: {
        kind: 'status',
        status: 401,
        code: 'InvalidAuthenticationToken',
        message: 'Access token validation failure.',
      },
    });
    const error = await harness.source
      .listByType(tenantRef(tenant))
      .then((r) => errorOf(byType(r).conditionalAccess));
    expect(error).toMatchObject({ reasonCode: 'credentials_invalid', status: 401 });
    expect(sim.tokenRequestCount({ tenant: tenant.tenantId })).toBe(3);
  });

  it('treats a policy deleted between list and detail as gone, and copes with data changing between pages', async () => {
    const scripts = fixture.collections.deviceManagementScripts ?? [];
    const gone = scripts[1].id;
    sim.addFault({
      path: '/beta/deviceManagement/deviceManagementScripts',
      tenant: tenant.tenantId,
      action: { kind: 'pass' },
      after: (s) => s.deletePolicy(tenant.tenantId, 'deviceManagementScripts', gone),
    });
    const [, , , template] = fixture.collections.configurationPolicies ?? [];
    const newcomer = { ...structuredClone(template), id: 'new-policy', name: 'Added meanwhile' };
    sim.addFault({
      path: CATALOG,
      tenant: tenant.tenantId,
      action: { kind: 'pass' },
      // Inserted at the front after page 1: page 2 then repeats page 1's last policy.
      after: (s) => s.collection(tenant.tenantId, 'configurationPolicies').unshift(newcomer),
    });
    const results = byType(await harness.source.listByType(tenantRef(tenant)));
    expect(policiesOf(results.deviceManagementScript).map((p) => p.externalId)).toEqual(
      scripts.filter((s) => s.id !== gone).map((s) => s.id),
    );
    const catalog = policiesOf(results.settingsCatalog).map((p) => p.externalId);
    expect(new Set(catalog).size).toBe(catalog.length);
    expect(catalog.sort()).toEqual((fixture.collections.configurationPolicies ?? []).map((p) => p.id).sort());
    expect(await harness.source.getPolicy(tenantRef(tenant), 'deviceManagementScript', gone)).toBeNull();
  });

  it('reports a malformed JSON answer readably', async () => {
    sim.addFault({
      path: '/beta/deviceManagement/intents',
      tenant: tenant.tenantId,
      action: { kind: 'malformedJson' },
    });
    const error = errorOf(byType(await harness.source.listByType(tenantRef(tenant))).endpointSecurityIntent);
    expect(error.reasonCode).toBe('provider_unavailable');
    expect(error.message).toMatch(
      /^Graph answered GET \/beta\/deviceManagement\/intents with a body that is not valid JSON/,
    );
  });

  it('reads each policy alone exactly as the listing does, and null for one that is gone', async () => {
    const listed = (await harness.source.listPolicies(tenantRef(tenant))).filter(
      (p, i, all) => all.findIndex((q) => q.policyType === p.policyType) === i,
    );
    expect(listed).toHaveLength(GRAPH_POLICY_TYPE_KEYS.length);
    const keys = [
      ...listed.map((p) => ({ policyType: p.policyType, externalId: p.externalId })),
      { policyType: 'settingsCatalog', externalId: 'gone' },
    ];
    const fetched = await harness.source.getPolicies(tenantRef(tenant), keys);
    expect(fetched.slice(0, -1)).toEqual(listed);
    expect(fetched[fetched.length - 1]).toBeNull();
  });

  it('labels setting paths from definitions, looked up when not seen, else derived from the path', async () => {
    const large = fixture.collections.configurationPolicies?.[0];
    const setting = (large?.settings as Array<{ settingInstance: { settingDefinitionId: string } }>)[0];
    const id = setting.settingInstance.settingDefinitionId;
    const definition = fixture.settingDefinitions?.find((d) => d.id === id);
    const paths = [
      `settings[${id}].settingInstance.choiceSettingValue.value`,
      'passwordMinimumLength',
      'definitionValues[unknown-guid].enabled',
    ];
    const labels = await harness.source.settingLabels(tenantRef(tenant), paths);
    expect(labels[paths[0]]).toBe(definition?.displayName);
    expect(labels[paths[1]]).toBe('Password Minimum Length');
    expect(labels[paths[2]]).toBe('Unknown guid');
    expect(
      sim.requests({ tenant: tenant.tenantId }).some((r) => r.path.includes('/configurationSettings/')),
    ).toBe(true);
  });
});

describe('the Graph policy types in the app', () => {
  it('are all known to the inventory and drift, with the same labels', () => {
    for (const t of GRAPH_POLICY_TYPES)
      expect({ key: t.key, label: POLICY_TYPE_LABELS[t.key] }).toEqual({ key: t.key, label: t.label });
  });
});
