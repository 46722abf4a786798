import request from 'supertest';
import { DemoPolicySource } from '../../src/demo';
import { RunMaintenance } from '../../src/runs/run-maintenance';
import { jobIdFor, RunsService } from '../../src/runs/runs.service';
import { createSetVia, decodeHtml, startVia, viewRunLink, waitForTerminal } from '../factories/flows';
import { insertRun, runsTable, toDbDate } from '../factories/runs';
import { createTestApp, demoActors, Session, TestApp } from '../factories/test-app';
import { waitFor } from '../factories/wait';

describe('operations-grade: Bull board, cancel and retry with audit, recovery, stalled flag, retention, metrics', () => {
  let t: TestApp;
  let admin: Session;
  let operator: Session;
  let readonly: Session;
  let contoso: number;
  let fabrikam: number;
  let runs: RunsService;
  let demo: DemoPolicySource;
  const repo = () => runsTable(t.dataSource);

  async function policyIds(n: number): Promise<string[]> {
    const rows: Array<{ id: number }> = await t.dataSource.query(
      'SELECT id FROM policies WHERE tenant_id = ? AND removed_at IS NULL ORDER BY id LIMIT ?',
      [contoso, n],
    );
    return rows.map((r) => String(r.id));
  }

  const newSet = (name: string) => createSetVia(admin, 'contoso', { name });

  beforeAll(async () => {
    t = await createTestApp({ env: { STALL_THRESHOLD_SECONDS: '60', RUNS_RETENTION_DAYS: '90' } });
    ({ contoso, fabrikam, admin, operator, readonly } = await demoActors(t));
    runs = t.get(RunsService);
    demo = t.get(DemoPolicySource);
    const sync = await startVia(admin, '/admin/t/contoso/inventory/sync');
    await waitForTerminal(t, sync.id);
  });
  afterAll(() => t.close());

  describe('Bull board', () => {
    it('refuses a NUL in the board API query with a readable 400 (the board itself answered 500)', async () => {
      const res = await admin.agent
        .get('/admin/queues/api/queues?status=2026-11-26%00&%00[]=LTg2NDAw-&%00[]=%E2%80%AE')
        .expect(400);
      expect(res.body).toEqual(expect.objectContaining({ error: 'bad_request', status: 400 }));
      expect(res.body.message).toContain('NUL');
    });

    it('is there for platform ops only; everyone else gets the styled 404 (JSON for its API)', async () => {
      const page = await admin.agent.get('/admin/queues').expect(200);
      expect(page.text).toContain('<div id="root">');
      for (const s of [operator, readonly]) {
        const res = await s.agent.get('/admin/queues').expect(404).expect('Content-Type', /html/);
        expect(res.text).toContain('<title>Not found · Tenant Operations Hub</title>');
        expect(res.text).toContain('There is no page at this address.');
        // The signed-in user's own layout: navigation, and a way back rather than "Sign in".
        expect(res.text).toContain('<nav class="sidenav"');
        expect(res.text).toContain('href="/admin" role="button" class="outline">Back to operations');
        expect(res.text).not.toContain('<div id="root">');
      }
      const anonymous = await request(t.server)
        .get('/admin/queues')
        .expect(404)
        .expect('Content-Type', /html/);
      expect(anonymous.text).toContain('There is no page at this address.');
      expect(anonymous.text).toContain('href="/login" role="button" class="outline">Sign in');
      expect(anonymous.text).not.toContain('<nav class="sidenav"');
      const deep = await operator.agent.get('/admin/queues/queue/inventory').expect(404);
      expect(deep.text).toContain('<nav class="sidenav"');
      const notFoundJson = { error: 'not_found', message: 'There is no page at this address.', status: 404 };
      const api = await operator.agent
        .get('/admin/queues/api/queues')
        .expect(404)
        .expect('Content-Type', /json/);
      expect(api.body).toEqual(notFoundJson);
      const anonymousApi = await request(t.server).get('/admin/queues/api/queues').expect(404);
      expect(anonymousApi.body).toEqual(notFoundJson);
      const asJson = await operator.agent.get('/admin/queues').set('Accept', 'application/json').expect(404);
      expect(asJson.body).toEqual(notFoundJson);
    });

    it('asks no third party for fonts and offers a link back to the hub', async () => {
      const page = await admin.agent.get('/admin/queues').expect(200);
      expect(page.text).not.toMatch(/fonts\.(googleapis|gstatic)\.com/);
      // The board's own stylesheet is still there; only the font link went.
      expect(page.text).toMatch(/<link href="static\/css\/main\.[0-9a-f]+\.css" rel="stylesheet">/);
      const config = JSON.parse(
        /<script id="__UI_CONFIG__" type="application\/json">(.*?)<\/script>/s.exec(page.text)![1],
      );
      expect(config.miscLinks).toEqual([{ text: 'Back to the hub', url: '/admin' }]);
      expect(config.boardTitle).toBe('Operations Hub');
      const deep = await admin.agent.get('/admin/queues/queue/inventory').expect(200);
      expect(deep.text).not.toContain('fonts.googleapis.com');
    });

    it("shows every producer queue, and a job links back to its run's page", async () => {
      const api = await admin.agent
        .get('/admin/queues/api/queues?activeQueue=inventory&status=completed&page=1&jobsPerPage=10')
        .expect(200);
      const names = api.body.queues.map((q: { name: string }) => q.name).sort();
      expect(names).toEqual(expect.arrayContaining(['backup-sets', 'drift', 'inventory']));
      const inventory = api.body.queues.find((q: { name: string }) => q.name === 'inventory');
      const job = inventory.jobs[0];
      expect(job.externalUrl.href).toBe(`/admin/runs/${job.data.runId}`);
      const follow = await admin.agent.get(job.externalUrl.href).expect(302);
      expect(follow.headers.location).toBe(`/admin/t/contoso/operations/${job.data.runId}`);
      const foreign = await insertRun(t.dataSource, {
        tenantId: fabrikam,
        type: 'inventory.sync',
        status: 'completed',
        createdAt: new Date(),
      });
      await operator.agent.get(`/admin/runs/${foreign}`).expect(404);
    });
  });

  describe('cancel and retry, recorded on the run page', () => {
    it('cancels a queued run: it ends aborted, its job is removed, and the page says who did it', async () => {
      const queue = runs.queue('backup-sets');
      await queue.pause(true);
      try {
        const setId = await newSet('Cancel me');
        const started = await startVia(operator, `/admin/t/contoso/backup-sets/${setId}/add-policies`, {
          policy_ids: await policyIds(3),
        });
        const page = decodeHtml((await operator.agent.get(started.href).expect(200)).text);
        expect(page).toContain(`action="/admin/t/contoso/operations/${started.id}/cancel"`);
        await readonly.agent
          .post(`/admin/t/contoso/operations/${started.id}/cancel`)
          .type('form')
          .send({ _csrf: await readonly.csrf() })
          .expect(403);
        await operator.agent
          .post(`/admin/t/contoso/operations/${started.id}/cancel`)
          .type('form')
          .send({ _csrf: await operator.csrf() })
          .expect(303);
        const run = await repo().findOneByOrFail({ id: started.id });
        expect([run.status, run.statusBucket]).toEqual(['aborted', 'failed']);
        expect(run.failures?.[0]).toMatchObject({ reason_code: 'cancelled', item_id: null });
        expect(await queue.getJob(jobIdFor(started.id))).toBeNull();
        const after = decodeHtml((await operator.agent.get(started.href).expect(200)).text);
        expect(after).toContain('Olivia Operator');
        expect(after).toContain('Cancelled before any of its 3 items was processed');
        expect(after).not.toContain('/cancel"');
        await operator.agent
          .post(`/admin/t/contoso/operations/${started.id}/cancel`)
          .type('form')
          .send({ _csrf: await operator.csrf() })
          .expect(400);
      } finally {
        await queue.resume(true);
      }
    });

    it('cancels a running run: the handler stops at its next batch and nothing more is captured', async () => {
      const setId = await newSet('Cancel while running');
      await demo.setLatency(contoso, 700);
      try {
        const started = await startVia(operator, `/admin/t/contoso/backup-sets/${setId}/add-policies`, {
          policy_ids: await policyIds(150),
        });
        await waitFor(
          async () =>
            (await repo().findOneByOrFail({ id: started.id })).status === 'running' ? true : undefined,
          'the run to start',
        );
        await operator.agent
          .post(`/admin/t/contoso/operations/${started.id}/cancel`)
          .type('form')
          .send({ _csrf: await operator.csrf() })
          .expect(303);
        // The worker notices on its next write (or its context's signal) and lets the job go.
        const job = await t.get<RunsService>(RunsService).queue('backup-sets').getJob(`run-${started.id}`);
        await waitFor(
          async () => (job ? (await job.getState()) === 'completed' : true),
          'the worker to stop',
        );
        const run = await repo().findOneByOrFail({ id: started.id });
        expect(run.status).toBe('aborted');
        expect(run.processedItems).toBeLessThan(150);
        const items = await t.dataSource.query(
          'SELECT COUNT(*) AS n FROM backup_items WHERE backup_set_id = ?',
          [setId],
        );
        expect(Number(items[0].n)).toBe(run.succeeded);
      } finally {
        await demo.setLatency(contoso, 0);
      }
    });

    it('retries only the failed items as a linked child run, once, and records it on both pages', async () => {
      const setId = await newSet('Retry me');
      const ids = await policyIds(4);
      // One id that is not in the inventory any more fails as not_found.
      const [{ external_id: originalExternalId }] = await t.dataSource.query(
        'SELECT external_id FROM policies WHERE id = ?',
        [Number(ids[3])],
      );
      await t.dataSource.query('UPDATE policies SET external_id = ? WHERE id = ?', [
        '00000000-0000-4000-8000-000000000000',
        Number(ids[3]),
      ]);
      const parent = await startVia(operator, `/admin/t/contoso/backup-sets/${setId}/add-policies`, {
        policy_ids: ids,
      });
      const done = await waitForTerminal(t, parent.id);
      expect(done.statusBucket).toBe('partial');
      expect(done.failed).toBe(1);

      await readonly.agent
        .post(`/admin/t/contoso/operations/${parent.id}/retry`)
        .type('form')
        .send({ _csrf: await readonly.csrf() })
        .expect(403);
      // not_found is permanent: another attempt would fail it again, so no retry is offered, and a
      // forged one is refused on the run's own page, saying why.
      const permanent = decodeHtml((await operator.agent.get(parent.href).expect(200)).text);
      expect(permanent).not.toContain(`/operations/${parent.id}/retry"`);
      expect(permanent).toContain('No retry offered');
      const refused = await operator.agent
        .post(`/admin/t/contoso/operations/${parent.id}/retry`)
        .type('form')
        .send({ _csrf: await operator.csrf() })
        .expect(400);
      expect(decodeHtml(refused.text)).toContain('No retry offered');

      // Had the provider throttled that item instead (and the policy come back), a retry is worth it.
      await t.dataSource.query('UPDATE policies SET external_id = ? WHERE id = ?', [
        originalExternalId,
        Number(ids[3]),
      ]);
      const failures = done.failures!.map((f) => ({ ...f, reason_code: 'provider_throttled' }));
      await t.dataSource.query('UPDATE operation_runs SET failures = ?, top_reason = ? WHERE id = ?', [
        JSON.stringify(failures),
        'provider_throttled',
        parent.id,
      ]);
      const res = await operator.agent
        .post(`/admin/t/contoso/operations/${parent.id}/retry`)
        .type('form')
        .send({ _csrf: await operator.csrf() })
        .expect(303);
      const child = await viewRunLink(operator, res.headers.location);
      const childRun = await repo().findOneByOrFail({ id: child.id });
      expect(childRun.parentRunId).toBe(parent.id);
      expect(childRun.itemIds).toEqual([ids[3]]);
      expect(childRun.runType()).toBe('backup_set.add_policies');

      const parentPage = decodeHtml((await operator.agent.get(parent.href).expect(200)).text);
      expect(parentPage).toContain(`Retried 1 failed item as run #${child.id}`);
      expect(parentPage).toContain(`href="/admin/t/contoso/operations/${child.id}"`);
      const childPage = decodeHtml((await operator.agent.get(child.href).expect(200)).text);
      expect(childPage).toContain(
        `Retry of <a href="/admin/t/contoso/operations/${parent.id}">run #${parent.id}</a>`,
      );

      await waitForTerminal(t, child.id);
      // Retrying the same parent again while its retry is done starts a new retry, but never two at once.
      const twice = await Promise.all(
        [1, 2].map(async () =>
          operator.agent
            .post(`/admin/t/contoso/operations/${parent.id}/retry`)
            .type('form')
            .send({ _csrf: await operator.csrf() }),
        ),
      );
      expect(twice.map((r) => r.status)).toEqual([303, 303]);
      const children = await repo().count({ where: { parentRunId: parent.id } });
      expect(children).toBeLessThanOrEqual(3);
      expect(children).toBeGreaterThanOrEqual(2);

      const succeeded = await insertRun(t.dataSource, {
        tenantId: contoso,
        type: 'inventory.sync',
        status: 'completed',
        createdAt: new Date(),
        succeeded: 1,
      });
      await operator.agent
        .post(`/admin/t/contoso/operations/${succeeded}/retry`)
        .type('form')
        .send({ _csrf: await operator.csrf() })
        .expect(400);
    });
  });

  describe('recovery of runs left behind', () => {
    it('re-enqueues a pending run whose job is gone (Redis flushed) and it finishes', async () => {
      const queue = runs.queue('inventory');
      await queue.pause(true);
      let id: number;
      try {
        const { run } = await runs.start({
          tenantId: contoso,
          userId: null,
          type: 'inventory.sync',
          idempotencyKey: 'inventory.sync',
        });
        id = run.id;
        const job = await queue.getJob(jobIdFor(id));
        await job!.remove();
      } finally {
        await queue.resume(true);
      }
      await t.dataSource.query('UPDATE operation_runs SET updated_at = ? WHERE id = ?', [
        toDbDate(new Date(Date.now() - 60_000), t.dataSource.options.type === 'mysql'),
        id,
      ]);
      const report = await t.get<RunMaintenance>(RunMaintenance).reconcile(1000);
      expect(report.requeued).toContain(id);
      expect((await waitForTerminal(t, id)).statusBucket).toBe('succeeded');
    });
  });

  it('flags a running run with no progress past the threshold, on the list and the page', async () => {
    const id = await insertRun(t.dataSource, {
      tenantId: contoso,
      type: 'inventory.sync',
      status: 'running',
      createdAt: new Date(Date.now() - 10 * 60_000),
      total: 5,
    });
    const list = await admin.agent.get('/admin/t/contoso/operations?status=running').expect(200);
    expect(list.text).toMatch(new RegExp(`#${id}[\\s\\S]*?badge-stalled`));
    const page = await admin.agent.get(`/admin/t/contoso/operations/${id}`).expect(200);
    expect(page.text).toMatch(/stalled<\/span> no progress for \d+ min/);
    await runs.fail(id, { reasonCode: 'worker_lost' });
  });

  it('prunes runs older than the retention period with their notifications and counters', async () => {
    const mysql = t.dataSource.options.type === 'mysql';
    const old = new Date(Date.now() - 100 * 86_400_000);
    const oldRun = await insertRun(t.dataSource, {
      tenantId: contoso,
      type: 'inventory.sync',
      status: 'completed',
      createdAt: old,
      succeeded: 1,
    });
    const keep = await insertRun(t.dataSource, {
      tenantId: contoso,
      type: 'inventory.sync',
      status: 'completed',
      createdAt: new Date(Date.now() - 10 * 86_400_000),
      succeeded: 1,
    });
    const user = Number(
      (await t.dataSource.query("SELECT id FROM users WHERE email = 'admin@example.com'"))[0].id,
    );
    await t.dataSource.query(
      "INSERT INTO notifications (user_id, tenant_id, run_id, kind, level, title, body, link, created_at) VALUES (?, ?, ?, 'run_completed', 'success', 'old', 'old', NULL, ?)",
      [user, contoso, oldRun, toDbDate(old, mysql)],
    );
    await t.dataSource.query(
      "INSERT INTO run_daily_counts (tenant_id, day, resource, action, bucket, n) VALUES (?, ?, 'inventory', 'sync', 'succeeded', 1)",
      [contoso, old.toISOString().slice(0, 10)],
    );
    const removed = await t.get<RunMaintenance>(RunMaintenance).prune();
    expect(removed).toBeGreaterThanOrEqual(1);
    expect(await repo().findOneBy({ id: oldRun })).toBeNull();
    expect(await repo().findOneBy({ id: keep })).not.toBeNull();
    await waitFor(async () => {
      const n = await t.dataSource.query('SELECT COUNT(*) AS n FROM notifications WHERE run_id = ?', [
        oldRun,
      ]);
      return Number(n[0].n) === 0 ? true : undefined;
    }, 'notifications of the pruned run to go');
    const counters = await t.dataSource.query('SELECT COUNT(*) AS n FROM run_daily_counts WHERE day = ?', [
      old.toISOString().slice(0, 10),
    ]);
    expect(Number(counters[0].n)).toBe(0);
  });

  it('exposes Prometheus metrics: runs by type and bucket, durations, queue depths', async () => {
    const res = await request(t.server).get('/metrics').expect(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.text).toMatch(/ops_runs_started_total\{[^}]*type="inventory.sync"[^}]*\} \d+/);
    expect(res.text).toMatch(
      /ops_runs_finished_total\{[^}]*type="inventory.sync"[^}]*bucket="succeeded"[^}]*\} \d+/,
    );
    expect(res.text).toContain('ops_run_duration_seconds_bucket');
    expect(res.text).toMatch(/ops_queue_waiting_jobs\{[^}]*queue="inventory"[^}]*\} \d+/);
    expect(res.text).toContain('process_resident_memory_bytes');
  });

  it('answers a readable 503 while the database is unreachable, says so on /readyz, and recovers', async () => {
    await t.dataSource.destroy();
    try {
      const page = await admin.agent.get('/admin/t/contoso/operations').expect(503);
      expect(page.text).toContain('The database is not reachable right now');
      expect(page.text).not.toMatch(/at \S+ \(.*:\d+:\d+\)/);
      const api = await admin.agent.get('/api/v1/tenants/contoso/runs').expect(503);
      expect(api.body.error).toBe('database_unavailable');
      const ready = await request(t.server).get('/readyz').expect(503);
      expect(ready.body.down).toEqual(['database']);
      await request(t.server).get('/healthz').expect(200);
    } finally {
      await t.dataSource.initialize();
    }
    await admin.agent.get('/admin/t/contoso/operations').expect(200);
    await request(t.server).get('/readyz').expect(200);
  });

  it('a worker-only process answers its probes and nothing else', async () => {
    const worker = await createTestApp({ env: { APP_ROLE: 'worker' }, backends: t.backends });
    try {
      await request(worker.server).get('/healthz').expect(200);
      await request(worker.server).get('/readyz').expect(200);
      const res = await request(worker.server).get('/login').expect(404);
      expect(res.body.message).toContain('APP_ROLE=worker');
    } finally {
      await worker.close();
    }
  });
});
