import { waitFor } from '../factories/wait';
import Redis from 'ioredis';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { AuthService } from '../../src/auth';
import { BackupSetsService } from '../../src/backup-sets';
import { DriftService } from '../../src/drift';
import { OperationRun, RunsService } from '../../src/runs';
import { TenantsService } from '../../src/tenants';
import { addFixtureTenant, SimTenantHandle } from '../graph-sim/app-harness';
import { fixturePolicyCount, GRAPH_SIM_DIR, loadFixture } from '../graph-sim/fixture';
import { GraphSimulator } from '../graph-sim/simulator';
import { decodeHtml, viewRunLink, waitForTerminal } from '../factories/flows';
import { AppProcess, assertBuilt, startProcess } from '../factories/process';
import { createTestApp, login, Session, TEST_ENCRYPTION_KEYS, TestApp } from '../factories/test-app';

const run = promisify(execFile);

/**
 * Issue 14 end to end: tenants connected to the HTTPS Graph simulator through their connection page,
 * a web process (in this test) and two real worker processes (`node dist/main.js`, APP_ROLE=worker)
 * doing the runs. Secrets are looked for everywhere they must not be: runs, pages, the API, the
 * workers' logs and the jobs in Redis.
 */
describe('Microsoft Graph: connecting tenants and reading them for real', () => {
  const fixture = loadFixture();
  let sim: GraphSimulator;
  let web: TestApp;
  let admin: Session;
  let apiToken: string;
  const workers: AppProcess[] = [];
  const secrets: string[] = [];
  const graphEnv: Record<string, string> = {};

  async function csrf(): Promise<string> {
    return admin.csrf();
  }

  async function post(path: string, fields: Record<string, string> = {}) {
    return admin.agent
      .post(path)
      .type('form')
      .send({ _csrf: await csrf(), ...fields });
  }

  /** A tenant of the hub for a simulated Microsoft tenant, made on the Tenants page. */
  async function newTenant(slug: string, sim: SimTenantHandle) {
    const res = await post('/admin/tenants', {
      slug,
      name: `Graph ${slug}`,
      microsoft_tenant_id: sim.tenantId,
    });
    expect(res.status).toBe(303);
  }

  async function saveSecret(slug: string, h: SimTenantHandle, secret = h.clientSecret) {
    secrets.push(secret);
    return post(`/admin/t/${slug}/connection`, {
      policy_source: 'graph',
      client_id: h.clientId,
      credential_type: 'secret',
      client_secret: secret,
      secret_expires_on: '2099-12-31',
    });
  }

  async function startAndWait(path: string): Promise<OperationRun> {
    const res = await post(path);
    if (res.status !== 303) throw new Error(`POST ${path} → ${res.status}: ${res.text.slice(0, 300)}`);
    const { id } = await viewRunLink(admin, res.headers.location);
    return waitForTerminal(web, id, 90_000);
  }

  const check = (slug: string) => startAndWait(`/admin/t/${slug}/connection/test`);
  const sync = (slug: string) => startAndWait(`/admin/t/${slug}/inventory/sync`);

  async function policyCount(slug: string, where = ''): Promise<number> {
    const tenant = await web.get<TenantsService>(TenantsService).findBySlug(slug);
    const [row] = await web.dataSource.query(
      `SELECT COUNT(*) AS n FROM policies WHERE tenant_id = ? AND removed_at IS NULL${where}`,
      [tenant!.id],
    );
    return Number(row.n);
  }

  beforeAll(async () => {
    assertBuilt();
    sim = await GraphSimulator.start({ echoSecrets: true });
    Object.assign(graphEnv, {
      GRAPH_AUTHORITY_HOST: sim.authorityHost,
      GRAPH_BASE_URL: sim.graphBaseUrl,
      GRAPH_CA_FILE: sim.caFile,
      GRAPH_BACKOFF_MS: '20',
      GRAPH_TIMEOUT_MS: '2500',
      GRAPH_MAX_CONCURRENCY: '3',
    });
    web = await createTestApp({ env: { APP_ROLE: 'web', ...graphEnv } });
    for (let i = 0; i < 2; i++)
      workers.push(
        await startProcess({
          APP_ROLE: 'worker',
          PORT: '0',
          NODE_ENV: 'production',
          LOG_LEVEL: 'info',
          DATABASE_URL: web.backends.databaseUrl,
          REDIS_URL: web.backends.redisUrl,
          REDIS_PREFIX: web.backends.redisPrefix,
          APP_ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
          SESSION_SECRET: 'a-session-secret-of-at-least-32-characters',
          DEMO_SEED: 'false',
          RECONCILE_INTERVAL_SECONDS: '0',
          JOB_BACKOFF_MS: '50',
          // One job per queue at a time: two runs of one queue land on the two workers.
          QUEUE_CONCURRENCY: '1',
          ...graphEnv,
        }),
      );
    admin = await login(web, 'admin@example.com');
    const adminId = (await web.get<AuthService>(AuthService).findByEmail('admin@example.com'))!.id;
    apiToken = (await web.get<AuthService>(AuthService).createToken(adminId, 'graph test')).token;
  }, 120_000);

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    await web?.close();
    await sim?.stop();
  });

  it('connects with a client secret, shows it write-only, tests every type and syncs every policy once on one token', async () => {
    const h = addFixtureTenant(sim);
    await newTenant('graphco', h);
    const saved = await saveSecret('graphco', h);
    expect(saved.status).toBe(303);

    const page = decodeHtml((await admin.agent.get('/admin/t/graphco/connection').expect(200)).text);
    expect(page).not.toContain(h.clientSecret);
    expect(page).toMatch(/Client secret<\/dd>|Client secret, set/);
    expect(page).toContain(h.clientId);
    // Stored as an envelope bound to its tenant and column, never as the secret.
    const [row] = await web.dataSource.query('SELECT client_secret_enc FROM graph_connections');
    expect(row.client_secret_enc).toMatch(/^enc:v1:t1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$/);

    const tested = await check('graphco');
    expect(tested.statusBucket).toBe('succeeded');
    expect(tested.succeeded).toBe(10);
    const after = decodeHtml((await admin.agent.get('/admin/t/graphco/connection').expect(200)).text);
    expect(after.match(/badge badge-succeeded">readable</g)).toHaveLength(10);

    // A new save makes a new credential version: the sync's token is then its own, and only one.
    await saveSecret('graphco', h);
    sim.clearLog();
    const synced = await sync('graphco');
    expect(synced.statusBucket).toBe('succeeded');
    expect(synced.succeeded).toBe(fixturePolicyCount(fixture));
    expect(await policyCount('graphco')).toBe(fixturePolicyCount(fixture));
    expect(sim.tokenRequestCount({ tenant: h.tenantId })).toBe(1);
    const graph = sim.requests({ service: 'graph', tenant: h.tenantId });
    const catalogPages = graph.filter((r) =>
      /^\/beta\/deviceManagement\/configurationPolicies(\?|$)/.test(r.path),
    );
    expect(catalogPages.length).toBeGreaterThanOrEqual(3);
    const first = fixture.collections.configurationPolicies![0].id;
    const settingPages = graph.filter((r) =>
      r.path.startsWith(`/beta/deviceManagement/configurationPolicies/${first}/settings`),
    );
    expect(settingPages.length).toBeGreaterThanOrEqual(2);
    expect(graph.every((r) => r.status === 200)).toBe(true);
    expect(sim.maxInFlight(h.tenantId)).toBeLessThanOrEqual(3);

    // The Policies page says where they come from and links to the connection.
    const policies = await admin.agent.get('/admin/t/graphco/policies').expect(200);
    expect(policies.text).toContain('<strong>graph</strong> source');
    expect(policies.text).toContain('href="/admin/t/graphco/connection"');
  }, 180_000);

  it('"Add policies" captures each policy\'s Graph payload as it is at that moment', async () => {
    const tenant = (await web.get<TenantsService>(TenantsService).findBySlug('graphco'))!;
    const adminId = (await web.get<AuthService>(AuthService).findByEmail('admin@example.com'))!.id;
    const sets = web.get<BackupSetsService>(BackupSetsService);
    const [policy] = await web.dataSource.query(
      "SELECT id, external_id FROM policies WHERE tenant_id = ? AND policy_type = 'settingsCatalog' ORDER BY id LIMIT 1",
      [tenant.id],
    );
    const setId = await sets.create(tenant.id, adminId, 'Graph baseline', null);
    sim.clearLog();
    const { run } = await sets.startAddPolicies(tenant.id, adminId, setId, [Number(policy.id)]);
    expect((await waitForTerminal(web, run.id, 60_000)).statusBucket).toBe('succeeded');
    // Read from Graph now, not from the last sync.
    expect(
      sim
        .requests({ service: 'graph' })
        .some((r) => r.path.includes(`/configurationPolicies/${policy.external_id}`)),
    ).toBe(true);
    const [item] = await web.dataSource.query(
      'SELECT p.payload FROM backup_items i JOIN policy_payloads p ON p.tenant_id = i.tenant_id AND p.payload_hash = i.payload_hash WHERE i.backup_set_id = ?',
      [setId],
    );
    const payload = typeof item.payload === 'string' ? JSON.parse(item.payload) : item.payload;
    expect(Array.isArray(payload.settings)).toBe(true);
    expect(payload).toHaveProperty('assignments');
  }, 120_000);

  it('connects with a certificate: only a signed assertion reaches Entra, never the key', async () => {
    const h = addFixtureTenant(sim);
    const cert = readFileSync(join(GRAPH_SIM_DIR, 'certs', 'app-cert.pem'), 'utf8');
    const key = readFileSync(join(GRAPH_SIM_DIR, 'certs', 'app-key.pem'), 'utf8');
    sim.addCertificate(h.tenantId, h.clientId, cert);
    await newTenant('certco', h);
    // A key of another certificate is refused beside its field, and nothing is saved.
    const otherKey = readFileSync(join(GRAPH_SIM_DIR, 'certs', 'other-app-key.pem'), 'utf8');
    const wrong = await post('/admin/t/certco/connection', {
      policy_source: 'graph',
      client_id: h.clientId,
      credential_type: 'certificate',
      certificate_pem: cert,
      private_key_pem: otherKey,
    });
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain('This private key does not belong to the certificate above.');
    expect(wrong.text).not.toContain('PRIVATE KEY-----\n');
    const ok = await post('/admin/t/certco/connection', {
      policy_source: 'graph',
      client_id: h.clientId,
      credential_type: 'certificate',
      certificate_pem: cert,
      private_key_pem: key,
    });
    expect(ok.status).toBe(303);
    sim.clearLog();
    expect((await check('certco')).statusBucket).toBe('succeeded');
    const tokens = sim.tokenRequests({ tenant: h.tenantId });
    expect(tokens.length).toBeGreaterThanOrEqual(1);
    const keyBody = key.replace(/-----[A-Z ]+-----|\s/g, '');
    for (const t of tokens) {
      expect(t.credential).toBe('assertion');
      expect(t.body).not.toContain('PRIVATE');
      expect(t.body).not.toContain(keyBody.slice(0, 40));
    }
    const [row] = await web.dataSource.query(
      "SELECT private_key_enc, certificate_thumbprint FROM graph_connections WHERE credential_type = 'certificate'",
    );
    expect(row.private_key_enc).toMatch(/^enc:v1:/);
    // The SHA-1 thumbprint, as Entra shows it beside the certificate.
    expect(row.certificate_thumbprint).toMatch(/^[0-9A-F]{40}$/);
  }, 120_000);

  it('waits out Retry-After, gives up on endless 429s as provider_throttled, retries a 503, and times out a hang', async () => {
    const h = addFixtureTenant(sim);
    await newTenant('faultco', h);
    await saveSecret('faultco', h);

    sim.addFault({
      path: '/beta/deviceManagement/configurationPolicies',
      tenant: h.tenantId,
      nth: 2,
      action: { kind: 'status', status: 429, retryAfter: 2 },
    });
    sim.addFault({
      path: '/beta/deviceManagement/deviceCompliancePolicies',
      tenant: h.tenantId,
      action: { kind: 'status', status: 503 },
    });
    sim.clearLog();
    const patient = await sync('faultco');
    expect(patient.statusBucket).toBe('succeeded');
    const pages = sim
      .requests({ service: 'graph', tenant: h.tenantId })
      .filter((r) => /^\/beta\/deviceManagement\/configurationPolicies(\?|$)/.test(r.path));
    const throttled = pages.findIndex((r) => r.status === 429);
    expect(throttled).toBeGreaterThanOrEqual(0);
    expect(pages[throttled + 1].at - pages[throttled].at).toBeGreaterThanOrEqual(2000);

    sim.clearFaults();
    sim.addFault({
      path: '/beta/deviceManagement/deviceConfigurations',
      tenant: h.tenantId,
      times: Infinity,
      action: { kind: 'status', status: 429 },
    });
    sim.addFault({
      path: '/beta/deviceManagement/deviceManagementScripts',
      tenant: h.tenantId,
      times: Infinity,
      action: { kind: 'hang' },
    });
    const limited = await sync('faultco');
    sim.clearFaults();
    expect(limited.statusBucket).toBe('partial');
    const reasons = Object.fromEntries((limited.failures ?? []).map((f) => [f.item_id, f.reason_code]));
    expect(reasons).toEqual({
      'type:deviceConfiguration': 'provider_throttled',
      'type:deviceManagementScript': 'timeout',
    });
    // The unread types keep their policies: none was marked removed.
    expect(await policyCount('faultco')).toBe(fixturePolicyCount(fixture));
  }, 180_000);

  it('a revoked permission ends the next sync partial, naming the type and permission, and removes nothing', async () => {
    const h = addFixtureTenant(sim);
    await newTenant('permco', h);
    await saveSecret('permco', h);
    expect((await sync('permco')).statusBucket).toBe('succeeded');
    const appPolicies = await policyCount('permco', " AND policy_type = 'appProtection'");
    expect(appPolicies).toBeGreaterThan(0);

    sim.revoke(h.tenantId, h.clientId, 'DeviceManagementApps.Read.All');
    const next = await sync('permco');
    expect(next.statusBucket).toBe('partial');
    expect(next.failures).toHaveLength(1);
    expect(next.failures![0]).toMatchObject({
      item_id: 'type:appProtection',
      reason_code: 'permission_denied',
    });
    expect(next.failures![0].message).toContain('DeviceManagementApps.Read.All');
    expect(next.succeeded).toBe(fixturePolicyCount(fixture) - appPolicies);
    expect(await policyCount('permco', " AND policy_type = 'appProtection'")).toBe(appPolicies);

    const tested = await check('permco');
    expect(tested.statusBucket).toBe('partial');
    const page = decodeHtml((await admin.agent.get('/admin/t/permco/connection').expect(200)).text);
    expect(page).toMatch(
      /App protection<\/td>\s*<td[^>]*><span class="badge badge-failed">Permission denied/,
    );
  }, 180_000);

  it('a wrong secret fails the test with credentials_invalid and the AADSTS code, and the secret is nowhere', async () => {
    const h = addFixtureTenant(sim);
    await newTenant('wrongco', h);
    const wrongSecret = `Wr0ng~${Date.now().toString(36)}SecretValue`;
    await saveSecret('wrongco', h, wrongSecret);
    const tested = await check('wrongco');
    expect(tested.statusBucket).toBe('failed');
    expect(new Set(tested.failures!.map((f) => f.reason_code))).toEqual(new Set(['credentials_invalid']));
    expect(tested.failures![0].message).toContain('AADSTS7000215');
    // The simulator echoed it back in its error: it still must not be anywhere of ours.
    expect(
      sim.tokenRequests({ tenant: h.tenantId }).some((t) => t.errorDescription?.includes(wrongSecret)),
    ).toBe(true);

    const synced = await sync('wrongco');
    expect(synced.statusBucket).toBe('failed');
    expect(synced.failures![0].reason_code).toBe('credentials_invalid');

    const pages = [
      (await admin.agent.get('/admin/t/wrongco/connection')).text,
      (await admin.agent.get(`/admin/t/wrongco/operations/${tested.id}`)).text,
      (await admin.agent.get(`/admin/t/wrongco/operations/${synced.id}`)).text,
      (await admin.agent.get('/admin/t/wrongco/operations')).text,
      (await admin.agent.get('/admin/t/wrongco/audit')).text,
    ];
    expect(pages.join('')).toContain('AADSTS7000215');
    const api = await request(web.server)
      .get(`/api/v1/tenants/wrongco/runs/${tested.id}`)
      .set('Authorization', `Bearer ${apiToken}`)
      .expect(200);
    const rows = JSON.stringify(await web.dataSource.query('SELECT * FROM operation_runs'));
    const audit = JSON.stringify(await web.dataSource.query('SELECT * FROM audit_entries'));
    const jobs = await redisDump(web.backends.redisUrl, web.backends.redisPrefix);
    expect(jobs.length).toBeGreaterThan(100);
    for (const secret of [...secrets, wrongSecret]) {
      for (const html of pages) expect(html).not.toContain(secret);
      expect(JSON.stringify(api.body)).not.toContain(secret);
      expect(rows).not.toContain(secret);
      expect(audit).not.toContain(secret);
      expect(jobs).not.toContain(secret);
      for (const w of workers) expect(w.output()).not.toContain(secret);
    }
  }, 180_000);

  it('drift between two syncs shows exactly the changed setting; bumped versions and reordered arrays are no drift', async () => {
    const h = addFixtureTenant(sim);
    await newTenant('driftco', h);
    await saveSecret('driftco', h);
    expect((await sync('driftco')).statusBucket).toBe('succeeded');

    const policies = sim.collection(h.tenantId, 'deviceCompliancePolicies');
    const changed = structuredClone(policies[0]);
    const key = Object.keys(changed).find((k) => typeof changed[k] === 'boolean')!;
    changed[key] = !changed[key];
    sim.putPolicy(h.tenantId, 'deviceCompliancePolicies', changed);
    expect((await sync('driftco')).statusBucket).toBe('succeeded');

    const tenant = (await web.get<TenantsService>(TenantsService).findBySlug('driftco'))!;
    const drift = web.get<DriftService>(DriftService);
    const adminId = (await web.get<AuthService>(AuthService).findByEmail('admin@example.com'))!.id;
    const all = drift.scopes()[0];
    const first = await drift.startGenerate(tenant.id, adminId, all.key);
    expect((await waitForTerminal(web, first.run.id, 60_000)).statusBucket).toBe('succeeded');
    const found = await drift.findings(
      tenant.id,
      {
        scopeKey: all.key,
        baselineRunId: Number(first.run.payload!.baseline_run_id),
        currentRunId: Number(first.run.payload!.current_run_id),
      },
      0,
      50,
    );
    expect(found.total).toBe(1);
    expect(found.rows[0]).toMatchObject({ changeType: 'modified', externalId: changed.id });
    expect(found.rows[0].changes.map((c) => c.path)).toEqual([key]);

    // Only what Graph rewrites on every read changed, and arrays came back in another order.
    for (const name of ['deviceCompliancePolicies', 'configurationPolicies', 'deviceConfigurations'] as const)
      for (const doc of sim.collection(h.tenantId, name)) {
        const bumped = structuredClone(doc);
        bumped.version = Number(bumped.version ?? 1) + 7;
        bumped.lastModifiedDateTime = new Date().toISOString();
        for (const [k, v] of Object.entries(bumped)) if (Array.isArray(v)) bumped[k] = [...v].reverse();
        sim.putPolicy(h.tenantId, name, bumped);
      }
    expect((await sync('driftco')).statusBucket).toBe('succeeded');
    const second = await drift.startGenerate(tenant.id, adminId, all.key);
    expect((await waitForTerminal(web, second.run.id, 60_000)).statusBucket).toBe('succeeded');
    const none = await drift.findings(
      tenant.id,
      {
        scopeKey: all.key,
        baselineRunId: Number(second.run.payload!.baseline_run_id),
        currentRunId: Number(second.run.payload!.current_run_id),
      },
      0,
      50,
    );
    expect(none.total).toBe(0);
  }, 240_000);

  it('rotates the encryption key, and refuses a ciphertext copied to another tenant readably', async () => {
    const before = (await web.dataSource.query(
      'SELECT tenant_id, client_secret_enc FROM graph_connections WHERE client_secret_enc IS NOT NULL ORDER BY tenant_id',
    )) as Array<{ tenant_id: number; client_secret_enc: string }>;
    expect(before.length).toBeGreaterThanOrEqual(4);
    const newKeys = `k2:${Buffer.alloc(32, 9).toString('base64')},${TEST_ENCRYPTION_KEYS}`;
    const cli = await run(
      process.execPath,
      [join(__dirname, '..', '..', 'dist', 'cli.js'), 'rotate-encryption-key'],
      {
        env: { ...process.env, DATABASE_URL: web.backends.databaseUrl, APP_ENCRYPTION_KEYS: newKeys },
      },
    );
    expect(cli.stdout).toMatch(/Re-encrypted \d+ of \d+ Microsoft connections with the current key/);
    const after = (await web.dataSource.query(
      'SELECT tenant_id, client_secret_enc FROM graph_connections WHERE client_secret_enc IS NOT NULL ORDER BY tenant_id',
    )) as typeof before;
    for (const r of after) expect(r.client_secret_enc).toMatch(/^enc:v1:k2:/);

    // A web process on the new ring reads them; the old ring alone no longer does (k2 unknown).
    const rotated = await createTestApp({
      backends: web.backends,
      env: { APP_ROLE: 'web', APP_ENCRYPTION_KEYS: newKeys, DEMO_SEED: 'false', ...graphEnv },
    });
    try {
      const { GraphConnectionsService } = await import('../../src/graph');
      const connections = rotated.get<InstanceType<typeof GraphConnectionsService>>(GraphConnectionsService);
      for (const r of after) expect(await connections.forTenant(Number(r.tenant_id))).not.toBeNull();
    } finally {
      await rotated.close();
    }

    // graphco's envelope pasted into permco's row: bound to graphco, it does not open there.
    const ids = Object.fromEntries(
      await Promise.all(
        ['graphco', 'permco'].map(async (s) => [
          s,
          (await web.get<TenantsService>(TenantsService).findBySlug(s))!.id,
        ]),
      ),
    );
    const [graphco] = await web.dataSource.query(
      'SELECT client_secret_enc FROM graph_connections WHERE tenant_id = ?',
      [ids.graphco],
    );
    await web.dataSource.query('UPDATE graph_connections SET client_secret_enc = ? WHERE tenant_id = ?', [
      graphco.client_secret_enc,
      ids.permco,
    ]);
    // The workers still hold the old ring only: restart is not needed for this check, the web app
    // with the new ring is. Use the CLI's view instead: rotation reports the row it cannot read.
    const again = await run(
      process.execPath,
      [join(__dirname, '..', '..', 'dist', 'cli.js'), 'rotate-encryption-key'],
      {
        env: { ...process.env, DATABASE_URL: web.backends.databaseUrl, APP_ENCRYPTION_KEYS: newKeys },
      },
    ).catch((e: { code: number; stdout: string; stderr: string }) => e);
    expect((again as { code?: number }).code).toBe(1);
    expect(again.stderr).toContain(
      `Tenant #${ids.permco}: The stored secret could not be decrypted: it belongs to another record or column, or was altered.`,
    );
  }, 120_000);

  it('never has more than GRAPH_MAX_CONCURRENCY requests in flight for one tenant across both workers', async () => {
    const h = addFixtureTenant(sim);
    await newTenant('busyco', h);
    await saveSecret('busyco', h);
    sim.clearLog();
    sim.addFault({ path: '*', tenant: h.tenantId, times: Infinity, action: { kind: 'delay', ms: 150 } });
    const tenant = (await web.get<TenantsService>(TenantsService).findBySlug('busyco'))!;
    const runs = web.get<RunsService>(RunsService);
    const adminId = (await web.get<AuthService>(AuthService).findByEmail('admin@example.com'))!.id;
    // Two checks of one tenant at once on one queue: with one job per queue per worker, each worker
    // takes one, and both want more requests in flight than the tenant's limit allows.
    const started = await Promise.all(
      [1, 2].map(() =>
        runs.start({ tenantId: tenant.id, userId: adminId, type: 'tenant.connection_check', totalItems: 10 }),
      ),
    );
    const done = await Promise.all(started.map((s) => waitForTerminal(web, s.run.id, 120_000)));
    sim.clearFaults();
    expect(done.map((r) => r.statusBucket)).toEqual(['succeeded', 'succeeded']);
    const ids = started.map((s) => s.run.id);
    // Log lines are written behind (within 200 ms): wait for both workers' lines to arrive.
    const finishedIn = await waitFor(
      async () => {
        const lists = workers.map((w) =>
          [...w.output().matchAll(/"runId":(\d+)[^\n]*"msg":"run handler finished"/g)].map((m) =>
            Number(m[1]),
          ),
        );
        return ids.every((id) => lists.some((l) => l.includes(id))) ? lists : undefined;
      },
      'both workers to log their run',
      5000,
    );
    expect(ids.map((id) => finishedIn.findIndex((list) => list.includes(id))).sort()).toEqual([0, 1]);
    const inFlight = sim.maxInFlight(h.tenantId);
    expect(inFlight).toBe(3);
  }, 180_000);
});

/** Every Bull key's contents under a prefix, as text (job data, options, results, logs). */
async function redisDump(url: string, prefix: string): Promise<string> {
  const r = new Redis(url);
  const out: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        const type = await r.type(key);
        if (type === 'hash') out.push(JSON.stringify(await r.hgetall(key)));
        else if (type === 'string') out.push((await r.get(key)) ?? '');
        else if (type === 'list') out.push(JSON.stringify(await r.lrange(key, 0, -1)));
        else if (type === 'zset') out.push(JSON.stringify(await r.zrange(key, 0, -1)));
        else if (type === 'set') out.push(JSON.stringify(await r.smembers(key)));
      }
    } while (cursor !== '0');
  } finally {
    await r.quit();
  }
  return out.join('\n');
}
