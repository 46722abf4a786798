import { runsTable } from '../factories/runs';
import request from 'supertest';
import { BackupSetsService } from '../../src/backup-sets/backup-sets.service';
import { RunsService } from '../../src/runs/runs.service';
import { demoChanges } from '../../src/demo';
import { DemoPolicySource } from '../../src/demo';
import { NotificationsService } from '../../src/notifications/notifications.service';
import { createSetVia, decodeHtml, startVia, waitForTerminal } from '../factories/flows';
import { createTestApp, demoActors, Session, TestApp } from '../factories/test-app';
import { waitFor } from '../factories/wait';

describe('backup sets: Add policies as a run with per-item outcomes', () => {
  let t: TestApp;
  let admin: Session;
  let operator: Session;
  let readonly: Session;
  let contoso: number;
  let fabrikam: number;

  const policyId = async (tenantId: number, externalId: string) =>
    Number(
      (
        await t.dataSource.query('SELECT id FROM policies WHERE tenant_id = ? AND external_id = ?', [
          tenantId,
          externalId,
        ])
      )[0].id,
    );
  const runCount = () => runsTable(t.dataSource).count();
  const itemsOf = async (setId: number) =>
    (await t.dataSource.query('SELECT policy_id, external_id FROM backup_items WHERE backup_set_id = ?', [
      setId,
    ])) as Array<{ policy_id: number; external_id: string }>;

  const createSet = (name: string) => createSetVia(admin, 'contoso', { name, description: 'test set' });

  beforeAll(async () => {
    t = await createTestApp({ env: { QUEUE_CONCURRENCY: '2' } });
    ({ contoso, fabrikam, admin, operator, readonly } = await demoActors(t));
    // A larger synthetic tenant, so 500 policies can be selected.
    await t.get<DemoPolicySource>(DemoPolicySource).setSize(contoso, 800);
    for (const tenant of ['contoso', 'fabrikam']) {
      const sync = await startVia(admin, `/admin/t/${tenant}/inventory/sync`);
      expect((await waitForTerminal(t, sync.id)).statusBucket).toBe('succeeded');
    }
  });
  afterAll(() => t.close());

  it('one already in the set, one removed upstream, one fresh → partial 1/1/1 with a safe not_found', async () => {
    const setId = await createSet('Mixed outcomes');
    // The inventory holds generation 1; upstream has moved on to generation 2.
    const changes = demoChanges('contoso', 1, 2, { size: 800 });
    const removedUpstream = await policyId(contoso, changes.removed[0].split(':')[1]);
    const changed = new Set([...changes.removed, ...changes.modified].map((k) => k.split(':')[1]));
    const stable = (
      await t.dataSource.query(
        'SELECT id, external_id FROM policies WHERE tenant_id = ? ORDER BY id LIMIT 50',
        [contoso],
      )
    )
      .filter((r: { external_id: string }) => !changed.has(r.external_id))
      .map((r: { id: number }) => Number(r.id));
    const [already, fresh] = stable;

    const first = await startVia(operator, `/admin/t/contoso/backup-sets/${setId}/add-policies`, {
      policy_ids: [String(already)],
    });
    expect((await waitForTerminal(t, first.id)).statusBucket).toBe('succeeded');

    const started = await startVia(operator, `/admin/t/contoso/backup-sets/${setId}/add-policies`, {
      policy_ids: [String(already), String(removedUpstream), String(fresh)],
    });
    expect(started.html).toContain('Adding 3 policies as run #');
    const run = await waitForTerminal(t, started.id);
    expect(run.status).toBe('completed_with_errors');
    expect(run.statusBucket).toBe('partial');
    expect([run.succeeded, run.skipped, run.failed, run.processedItems, run.totalItems]).toEqual([
      1, 1, 1, 3, 3,
    ]);
    expect(run.failures).toEqual([
      expect.objectContaining({
        item_id: String(removedUpstream),
        reason_code: 'not_found',
        message: expect.stringContaining('no longer exists upstream'),
      }),
    ]);

    const items = await itemsOf(setId);
    expect(items.map((i) => Number(i.policy_id)).sort((a, b) => a - b)).toEqual(
      [already, fresh].sort((a, b) => a - b),
    );

    const detail = decodeHtml((await operator.agent.get(started.href).expect(200)).text);
    expect(detail).toContain(`href="/admin/t/contoso/backup-sets/${setId}"`);
    expect(detail).toContain('badge-partial');
    const setPage = decodeHtml(
      (await operator.agent.get(`/admin/t/contoso/backup-sets/${setId}`).expect(200)).text,
    );
    expect(setPage).toContain(`href="/admin/t/contoso/operations/${started.id}"`);
    expect(setPage).toContain('2 items');

    // The result replaces the queued notice: one entry per run.
    const notes = await waitFor(async () => {
      const rows = await t.get<NotificationsService>(NotificationsService).forRun(started.id);
      return rows.some((n) => n.kind !== 'run_queued') ? rows : undefined;
    }, 'the result notification of the run');
    expect(notes.map((n) => n.kind)).toEqual(['run_completed']);
    expect(notes[0].title).toContain('completed with errors');
    expect(notes[0].body).toContain('Top reason: Not found (not_found), 1 item.');
  });

  it('adds 500 policies as one run, and the same selection started twice at once is one run', async () => {
    const setId = await createSet('Five hundred');
    const changes = demoChanges('contoso', 1, 2, { size: 800 });
    const gone = new Set(changes.removed.map((k) => k.split(':')[1]));
    const ids = (
      await t.dataSource.query('SELECT id, external_id FROM policies WHERE tenant_id = ? ORDER BY id', [
        contoso,
      ])
    )
      .filter((r: { external_id: string }) => !gone.has(r.external_id))
      .slice(0, 500)
      .map((r: { id: number }) => String(r.id));
    expect(ids).toHaveLength(500);

    const before = await runCount();
    const token = await operator.csrf();
    // Held in the queue while both clicks arrive, so "still active" is certain for the second one.
    const queue = t.get<RunsService>(RunsService).queue('backup-sets');
    await queue.pause(true);
    let a: request.Response;
    let b: request.Response;
    try {
      [a, b] = await Promise.all(
        [1, 2].map(() =>
          operator.agent
            .post(`/admin/t/contoso/backup-sets/${setId}/add-policies`)
            .type('form')
            .send({ _csrf: token, policy_ids: ids }),
        ),
      );
    } finally {
      await queue.resume(true);
    }
    expect([a.status, b.status]).toEqual([303, 303]);
    expect(await runCount()).toBe(before + 1);
    const runId = Number(
      (await t.dataSource.query("SELECT MAX(id) AS id FROM operation_runs WHERE resource = 'backup_set'"))[0]
        .id,
    );
    const run = await waitForTerminal(t, runId);
    expect(run.statusBucket).toBe('succeeded');
    expect([run.succeeded, run.failed, run.skipped, run.processedItems]).toEqual([500, 0, 0, 500]);
    const items = await itemsOf(setId);
    expect(items).toHaveLength(500);
    expect(new Set(items.map((i) => i.external_id)).size).toBe(500);
    const set = await t.get<BackupSetsService>(BackupSetsService).get(contoso, setId);
    expect(set.itemCount).toBe(500);
  });

  it('selects all matching policies of a search', async () => {
    const setId = await createSet('All matching');
    const res = await operator.agent
      .post(`/admin/t/contoso/backup-sets/${setId}/add-policies`)
      .type('form')
      .send({ _csrf: await operator.csrf(), all_matching: '1', type: 'compliancePolicy', pick: '' })
      .expect(303);
    expect(res.headers.location).toBe(`/admin/t/contoso/backup-sets/${setId}`);
    const runId = Number(
      (await t.dataSource.query("SELECT MAX(id) AS id FROM operation_runs WHERE resource = 'backup_set'"))[0]
        .id,
    );
    const run = await waitForTerminal(t, runId);
    const expected = Number(
      (
        await t.dataSource.query(
          "SELECT COUNT(*) AS n FROM policies WHERE tenant_id = ? AND policy_type = 'compliancePolicy' AND removed_at IS NULL",
          [contoso],
        )
      )[0].n,
    );
    expect(run.totalItems).toBe(expected);
    expect(expected).toBeGreaterThan(10);
  });

  it('Readonly has no Add policies control and a forged POST is 403; an operator cannot create or delete sets', async () => {
    const setId = await createSet('Guarded');
    const page = await readonly.agent.get(`/admin/t/contoso/backup-sets/${setId}`).expect(200);
    expect(page.text).not.toContain('Add policies');
    expect(page.text).not.toContain('/add-policies');
    const policy = Number(
      (await t.dataSource.query('SELECT id FROM policies WHERE tenant_id = ? LIMIT 1', [contoso]))[0].id,
    );
    const before = await runCount();
    await readonly.agent
      .post(`/admin/t/contoso/backup-sets/${setId}/add-policies`)
      .type('form')
      .send({ _csrf: await readonly.csrf(), policy_ids: [String(policy)] })
      .expect(403);
    expect(await runCount()).toBe(before);

    const list = await operator.agent.get('/admin/t/contoso/backup-sets').expect(200);
    expect(list.text).toContain(
      '<button type="button" disabled aria-describedby="why-create">Create backup set</button>',
    );
    await operator.agent
      .post('/admin/t/contoso/backup-sets')
      .type('form')
      .send({ _csrf: await operator.csrf(), name: 'Not mine to make' })
      .expect(403);
    await operator.agent
      .post(`/admin/t/contoso/backup-sets/${setId}/delete`)
      .type('form')
      .send({ _csrf: await operator.csrf() })
      .expect(403);
    await operator.agent
      .post(`/admin/t/contoso/backup-sets/${setId}/rename`)
      .type('form')
      .send({ _csrf: await operator.csrf(), name: 'x' })
      .expect(403);
    expect(
      (
        await t.dataSource.query('SELECT COUNT(*) AS n FROM backup_sets WHERE name = ?', ['Not mine to make'])
      )[0].n,
    ).toBe(0);
    await t.get<BackupSetsService>(BackupSetsService).get(contoso, setId);
  });

  it('refuses a policy id of another tenant (400), capturing nothing and starting no run', async () => {
    const setId = await createSet('Isolation');
    const mine = Number(
      (await t.dataSource.query('SELECT id FROM policies WHERE tenant_id = ? LIMIT 1', [contoso]))[0].id,
    );
    const theirs = Number(
      (await t.dataSource.query('SELECT id FROM policies WHERE tenant_id = ? LIMIT 1', [fabrikam]))[0].id,
    );
    const before = await runCount();
    const res = await admin.agent
      .post(`/admin/t/contoso/backup-sets/${setId}/add-policies`)
      .type('form')
      .send({ _csrf: await admin.csrf(), policy_ids: [String(mine), String(theirs)] })
      .expect(400);
    expect(res.text).toContain('1 selected policy is not in this tenant&#x27;s inventory');
    expect(await runCount()).toBe(before);
    expect(await itemsOf(setId)).toEqual([]);
    await admin.agent
      .post(`/admin/t/contoso/backup-sets/${setId}/add-policies`)
      .type('form')
      .send({ _csrf: await admin.csrf(), policy_ids: ['abc'] })
      .expect(400);
    // Another tenant's set is not found, never forbidden.
    const fabSet = await t
      .get<BackupSetsService>(BackupSetsService)
      .create(fabrikam, 1, 'Fabrikam set', null);
    await operator.agent.get(`/admin/t/contoso/backup-sets/${fabSet}`).expect(404);
    await admin.agent.get(`/admin/t/contoso/backup-sets/${fabSet}`).expect(404);
  });

  it('lets owners rename and delete sets, and shows a captured payload', async () => {
    const setId = await createSet('Renamable');
    const policy = Number(
      (
        await t.dataSource.query(
          'SELECT id FROM policies WHERE tenant_id = ? AND removed_at IS NULL ORDER BY id LIMIT 1',
          [contoso],
        )
      )[0].id,
    );
    const run = await startVia(admin, `/admin/t/contoso/backup-sets/${setId}/add-policies`, {
      policy_ids: [String(policy)],
    });
    await waitForTerminal(t, run.id);
    const item = Number(
      (await t.dataSource.query('SELECT id FROM backup_items WHERE backup_set_id = ?', [setId]))[0].id,
    );
    const itemPage = await admin.agent.get(`/admin/t/contoso/backup-sets/${setId}/items/${item}`).expect(200);
    expect(itemPage.text).toContain('Payload hash');
    expect(itemPage.text).not.toContain('lastModifiedDateTime');
    await admin.agent
      .post(`/admin/t/contoso/backup-sets/${setId}/rename`)
      .type('form')
      .send({ _csrf: await admin.csrf(), name: 'Renamed', description: '' })
      .expect(303);
    await admin.agent
      .post('/admin/t/contoso/backup-sets')
      .type('form')
      .send({ _csrf: await admin.csrf(), name: 'Renamed' })
      .expect(400);
    await admin.agent
      .post(`/admin/t/contoso/backup-sets/${setId}/delete`)
      .type('form')
      .send({ _csrf: await admin.csrf() })
      .expect(303);
    await admin.agent.get(`/admin/t/contoso/backup-sets/${setId}`).expect(404);
  });
});
