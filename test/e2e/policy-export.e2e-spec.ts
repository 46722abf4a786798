import { DemoPolicySource } from '../../src/demo';
import { RunMaintenance } from '../../src/runs/run-maintenance';
import { startVia, waitForTerminal } from '../factories/flows';
import { AppProcess, startProcess } from '../factories/process';
import { createBackends, createTestApp, demoActors, TestApp } from '../factories/test-app';

describe('policies CSV export (a producer in one folder: src/exports)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  it('starts from the start menu, writes one line per policy in its own table and downloads them', async () => {
    const { contoso, operator, readonly } = await demoActors(t);
    await t.get<DemoPolicySource>(DemoPolicySource).setSize(contoso, 30);
    const sync = await startVia(operator, '/admin/t/contoso/operations/start/inventory.sync');
    await waitForTerminal(t, sync.id);

    const menu = await operator.agent.get('/admin/t/contoso/operations').expect(200);
    expect(menu.text).toContain('action="/admin/t/contoso/operations/start/export.policies_csv"');
    const started = await startVia(operator, '/admin/t/contoso/operations/start/export.policies_csv');
    const run = await waitForTerminal(t, started.id);
    const policies = Number(
      (
        await t.dataSource.query(
          'SELECT COUNT(*) AS n FROM policies WHERE tenant_id = ? AND removed_at IS NULL',
          [contoso],
        )
      )[0].n,
    );
    expect({ status: run.status, succeeded: run.succeeded, total: run.totalItems }).toEqual({
      status: 'completed',
      succeeded: policies,
      total: policies,
    });

    const page = await readonly.agent.get(started.href).expect(200);
    expect(page.text).toContain(`href="/admin/t/contoso/exports/${started.id}"`);
    const csv = await readonly.agent.get(`/admin/t/contoso/exports/${started.id}`).expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toContain(`policies-${started.id}.csv`);
    const lines = csv.text.split('\r\n');
    expect(lines[0]).toBe('"type","external_id","name","platform"');
    expect(lines).toHaveLength(policies + 1);

    // Its rows are kept with the run, and go with it when retention prunes it.
    const rowsOf = async () =>
      Number(
        (
          await t.dataSource.query('SELECT COUNT(*) AS n FROM policy_export_rows WHERE run_id = ?', [
            started.id,
          ])
        )[0].n,
      );
    expect(await rowsOf()).toBe(policies);

    // A run of another type, or another tenant's, is not an export.
    await readonly.agent.get(`/admin/t/contoso/exports/${sync.id}`).expect(404);
    await readonly.agent.get(`/admin/t/fabrikam/exports/${started.id}`).expect(404);
    // Readonly may read it, not start one.
    const refused = await readonly.agent
      .post('/admin/t/contoso/operations/start/export.policies_csv')
      .type('form')
      .send({ _csrf: await readonly.csrf() });
    expect(refused.status).toBe(403);

    await t.get<RunMaintenance>(RunMaintenance).prune(new Date(Date.now() + 400 * 86_400_000));
    expect(await rowsOf()).toBe(0);
  });
});

describe('a producer-owned migration', () => {
  it("runs with the app's, once, when three processes start at once on an empty database", async () => {
    const backends = await createBackends();
    let procs: AppProcess[] = [];
    try {
      procs = await Promise.all(
        [0, 1, 2].map(() =>
          startProcess({
            APP_ROLE: 'worker',
            PORT: '0',
            NODE_ENV: 'production',
            SESSION_SECRET: 'a-session-secret-of-at-least-32-characters',
            LOG_LEVEL: 'warn',
            DATABASE_URL: backends.databaseUrl,
            REDIS_URL: backends.redisUrl,
            REDIS_PREFIX: backends.redisPrefix,
            DEMO_SEED: 'false',
            RECONCILE_INTERVAL_SECONDS: '0',
          }),
        ),
      );
      const t = await createTestApp({ backends });
      try {
        const recorded = await t.dataSource.query('SELECT name FROM migrations WHERE name = ?', [
          'PolicyExportRows1764800000000',
        ]);
        expect(recorded).toHaveLength(1);
        const [{ n }] = await t.dataSource.query('SELECT COUNT(*) AS n FROM policy_export_rows');
        expect(Number(n)).toBe(0);
      } finally {
        await t.close();
      }
    } finally {
      for (const p of procs) p.child.kill('SIGTERM');
      await Promise.all(procs.map((p) => p.exited));
      await backends.cleanup();
    }
  });
});
