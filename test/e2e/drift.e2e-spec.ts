import { runsTable } from '../factories/runs';
import { demoChanges } from '../../src/demo';
import { DemoPolicySource } from '../../src/demo';
import { NotificationsService } from '../../src/notifications/notifications.service';
import { RunsService } from '../../src/runs/runs.service';
import { TenantsService } from '../../src/tenants/tenants.service';
import { decodeHtml, startVia, viewRunLink, waitForTerminal } from '../factories/flows';
import { createTestApp, login, Session, TestApp } from '../factories/test-app';
import { waitFor } from '../factories/wait';

/**
 * The seed's independent tests for drift, with web and worker as separate app instances on one
 * database and Redis (APP_ROLE=web / APP_ROLE=worker).
 */
describe('inventory and drift as observable runs, with notifications', () => {
  let web: TestApp;
  let worker: TestApp;
  let operator: Session;
  let readonly: Session;
  let contoso: number;
  let driftRunId: number;

  beforeAll(async () => {
    web = await createTestApp({ env: { APP_ROLE: 'web' } });
    worker = await createTestApp({ env: { APP_ROLE: 'worker', JOB_ATTEMPTS: '2' }, backends: web.backends });
    contoso = (await web.get<TenantsService>(TenantsService).findBySlug('contoso'))!.id;
    [operator, readonly] = await Promise.all([
      login(web, 'operator@example.com'),
      login(web, 'readonly@example.com'),
    ]);
  });
  afterAll(async () => {
    await worker.close();
    await web.close();
  });

  const runCount = () => runsTable(web.dataSource).count({ where: { tenantId: contoso } });
  /** A run's notifications once `count` are stored (they are written a few milliseconds behind). */
  const notificationsOf = (runId: number, count: number) =>
    waitFor(async () => {
      const rows = await web.get<NotificationsService>(NotificationsService).forRun(runId);
      return rows.length >= count ? rows : undefined;
    }, `${count} notifications of run ${runId}`);
  /** A run's notifications once its result is stored: the result replaces the queued notice. */
  const resultOf = (runId: number) =>
    waitFor(async () => {
      const rows = await web.get<NotificationsService>(NotificationsService).forRun(runId);
      return rows.some((n) => n.kind !== 'run_queued') ? rows : undefined;
    }, `the result notification of run ${runId}`);

  it('syncs the inventory twice as runs that link to what they captured', async () => {
    for (let i = 1; i <= 2; i++) {
      const started = await startVia(operator, '/admin/t/contoso/inventory/sync');
      const run = await waitForTerminal(web, started.id);
      expect(run.statusBucket).toBe('succeeded');
      expect(run.processedItems).toBe(run.totalItems);
      expect(run.totalItems).toBeGreaterThan(250);
      const detail = decodeHtml((await operator.agent.get(started.href).expect(200)).text);
      expect(detail).toContain(`href="/admin/t/contoso/policies?sync=${started.id}"`);
      const captured = await operator.agent.get(`/admin/t/contoso/policies?sync=${started.id}`).expect(200);
      expect(captured.text).toContain(`1–25 of ${run.totalItems}`);
    }
  });

  it('Generate answers at once with a View run link and a queued notification; the run then succeeds with the known changes', async () => {
    const driftQueue = worker.get<RunsService>(RunsService).queue('drift');
    await driftQueue.pause(true);
    try {
      const started = await startVia(operator, '/admin/t/contoso/drift/generate');
      driftRunId = started.id;
      expect(started.html).toContain('Drift generation queued as run #');
      // The work has not happened yet: the response did not wait for it.
      const pending = await web.get<RunsService>(RunsService).findById(started.id);
      expect(pending!.status).toBe('pending');
      expect(pending!.payload).toMatchObject({
        baseline_run_id: expect.any(Number),
        current_run_id: expect.any(Number),
        scope_key: expect.stringMatching(/^[0-9a-f]{16}$/),
      });

      const queued = await notificationsOf(started.id, 1);
      expect(queued).toEqual([expect.objectContaining({ kind: 'run_queued', link: started.href })]);
      const bell = await operator.agent.get('/admin/notifications').expect(200);
      expect(bell.text).toContain('Drift generation queued');
      expect(bell.text).toContain(`href="${started.href}">View run`);
    } finally {
      await driftQueue.resume(true);
    }

    const run = await waitForTerminal(web, driftRunId);
    expect(run.statusBucket).toBe('succeeded');
    const kinds = (await resultOf(driftRunId)).map((n) => [n.kind, n.link]);
    expect(kinds).toEqual([['run_completed', `/admin/t/contoso/operations/${driftRunId}`]]);

    const detail = decodeHtml(
      (await operator.agent.get(`/admin/t/contoso/operations/${driftRunId}`).expect(200)).text,
    );
    const findingsHref = `/admin/t/contoso/drift/findings?run=${driftRunId}`;
    expect(detail).toContain(`href="${findingsHref}"`);

    // The first sync captured generation 1 of the demo tenant, the second generation 2.
    const expected = demoChanges('contoso', 1, 2);
    const findings = await operator.agent.get(findingsHref).expect(200);
    for (const [type, keys] of Object.entries(expected)) {
      const count = new RegExp(`${type} \\((\\d+)\\)`).exec(findings.text);
      expect(Number(count?.[1] ?? 0)).toBe(keys.length);
      expect(keys.length).toBeGreaterThan(0);
    }
    for (const key of expected.modified) expect(findings.text).toContain(key.split(':')[1]);
    expect(run.processedItems).toBe(run.totalItems);
  });

  it('re-running the same comparison reuses its findings without duplicating them', async () => {
    const before = await web.dataSource.query('SELECT COUNT(*) AS n FROM drift_findings');
    const again = await startVia(operator, '/admin/t/contoso/drift/generate');
    expect(again.id).not.toBe(driftRunId);
    expect((await waitForTerminal(web, again.id)).statusBucket).toBe('succeeded');
    const after = await web.dataSource.query('SELECT COUNT(*) AS n FROM drift_findings');
    expect(Number(after[0].n)).toBe(Number(before[0].n));
    const page = await operator.agent.get(`/admin/t/contoso/drift/findings?run=${again.id}`).expect(200);
    expect(page.text).toMatch(/modified \(\d+\)/);
  });

  it('two Generate clicks at once start one run', async () => {
    const sync = await startVia(operator, '/admin/t/contoso/inventory/sync');
    await waitForTerminal(web, sync.id);
    const driftQueue = worker.get<RunsService>(RunsService).queue('drift');
    await driftQueue.pause(true);
    try {
      const token = await operator.csrf();
      const [a, b] = await Promise.all(
        [1, 2].map(() =>
          operator.agent.post('/admin/t/contoso/drift/generate').type('form').send({ _csrf: token }),
        ),
      );
      expect([a.status, b.status]).toEqual([303, 303]);
      const rows = await web.dataSource.query(
        "SELECT id FROM operation_runs WHERE resource = 'drift' AND status = 'pending'",
      );
      expect(rows).toHaveLength(1);
      // The second click is told about the run already queued.
      const flashes = await viewRunLink(operator, '/admin/t/contoso/drift');
      expect(flashes.id).toBe(Number(rows[0].id));
    } finally {
      await driftQueue.resume(true);
    }
  });

  it('Readonly sees Generate disabled with the reason, and a forged POST is 403 with no run and no notification', async () => {
    const page = await readonly.agent.get('/admin/t/contoso/drift').expect(200);
    expect(page.text).toMatch(
      /<button type="button" class="small" disabled aria-describedby="why-readonly" title="[^"]+">Generate<\/button>/,
    );
    expect(page.text).toContain(
      'Your role in Contoso Ltd (readonly) can view drift but not change or start anything.',
    );
    expect(page.text).not.toContain('action="/admin/t/contoso/drift/generate"');
    const runsBefore = await runCount();
    const readonlyNotes = async () =>
      Number(
        (
          await web.dataSource.query(
            "SELECT COUNT(*) AS n FROM notifications n JOIN users u ON u.id = n.user_id WHERE u.email = 'readonly@example.com'",
          )
        )[0].n,
      );
    const notesBefore = await readonlyNotes();
    await readonly.agent
      .post('/admin/t/contoso/drift/generate')
      .type('form')
      .send({ _csrf: await readonly.csrf() })
      .expect(403);
    await readonly.agent
      .post('/admin/t/contoso/inventory/sync')
      .type('form')
      .send({ _csrf: await readonly.csrf() })
      .expect(403);
    expect(await runCount()).toBe(runsBefore);
    expect(await readonlyNotes()).toBe(notesBefore);
    const policies = await readonly.agent.get('/admin/t/contoso/policies').expect(200);
    expect(policies.text).toContain(
      '<button type="button" disabled aria-describedby="why-sync">Sync now</button>',
    );
  });

  it('a provider fault during generation fails the run with a safe reason, shown on its page and in a failure notification', async () => {
    // Make the newest comparison a new one, so it is not already answered.
    const sync = await startVia(operator, '/admin/t/contoso/inventory/sync');
    await waitForTerminal(web, sync.id);
    await web
      .get<DemoPolicySource>(DemoPolicySource)
      .setFault(
        contoso,
        'permission_denied',
        ['labels'],
        'Forbidden: token=s3cr3t-t0ken-value Authorization: Bearer abc.def.ghi\n    at GraphClient.get (/srv/graph.js:10:5)',
      );
    try {
      const started = await startVia(operator, '/admin/t/contoso/drift/generate');
      const run = await waitForTerminal(web, started.id);
      expect(run.status).toBe('failed');
      expect(run.failures).toHaveLength(1);
      expect(run.failures![0]).toMatchObject({ item_id: null, reason_code: 'permission_denied' });
      const page = await operator.agent.get(started.href).expect(200);
      expect(page.text).toContain('permission_denied');
      for (const text of [page.text, JSON.stringify(run.failures)]) {
        expect(text).not.toContain('s3cr3t-t0ken-value');
        expect(text).not.toContain('abc.def.ghi');
        expect(text).not.toContain('/srv/graph.js');
      }
      const notes = await resultOf(started.id);
      expect(notes).toHaveLength(1);
      const failed = notes.find((n) => n.kind === 'run_failed');
      expect(failed).toMatchObject({ link: started.href });
      expect(failed!.body).toContain('permission_denied');
      expect(failed!.body).not.toContain('s3cr3t');
    } finally {
      await web.get<DemoPolicySource>(DemoPolicySource).setFault(contoso, null);
    }
  });

  it('shows the unread count on the bell and never shows notifications of a tenant the user left', async () => {
    const page = await operator.agent.get('/admin/t/contoso/operations').expect(200);
    expect(page.text).toMatch(/<span class="count">\d+<\/span>/);
    const tenants = web.get<TenantsService>(TenantsService);
    const user = (await web.dataSource.query("SELECT id FROM users WHERE email = 'operator@example.com'"))[0]
      .id;
    await tenants.removeMember(contoso, Number(user), { id: null }, 'operator@example.com');
    try {
      const list = await operator.agent.get('/admin/notifications').expect(200);
      expect(list.text).not.toContain('/admin/t/contoso/operations/');
      expect(list.text).toContain('Nothing here');
    } finally {
      await tenants.addMember(contoso, Number(user), 'operator', { id: null });
    }
    await operator.agent
      .post('/admin/notifications/read-all')
      .type('form')
      .send({ _csrf: await operator.csrf() })
      .expect(303);
    const after = await operator.agent.get('/admin/t/contoso/operations').expect(200);
    expect(after.text).not.toMatch(/<span class="count">\d+<\/span>/);
  });
});
