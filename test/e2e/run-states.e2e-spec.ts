import { DemoPolicySource } from '../../src/demo';
import { RunsService } from '../../src/runs/runs.service';
import { MAX_RETRY_AFTER_MS } from '../../src/runs/run-executor';
import {
  createSetVia,
  decodeHtml,
  runResultNotes,
  startVia,
  viewRunLink,
  waitForTerminal,
} from '../factories/flows';
import { createTestApp, demoActors, Session, TestApp } from '../factories/test-app';
import { waitFor } from '../factories/wait';

/**
 * Truthful run states without a browser (issue 15): what notifications say about a failed run, when a
 * retry is offered, a provider's Retry-After honoured and bounded, "select all" in the backup-set
 * picker, the forms that answer a mistake on the same page, and the drift page while a comparison runs.
 * The browser spec (test/browser/run-states.browser-spec.ts) shows the same as a user sees it.
 */
describe('run states: notifications, retry, Retry-After, picker, inline form errors', () => {
  let t: TestApp;
  let admin: Session;
  let operator: Session;
  let contoso: number;
  let demo: DemoPolicySource;
  let runs: RunsService;

  const policyIds = async (n: number, offset = 0): Promise<string[]> =>
    (
      await t.dataSource.query(
        `SELECT id FROM policies WHERE tenant_id = ? AND removed_at IS NULL ORDER BY id LIMIT ${n} OFFSET ${offset}`,
        [contoso],
      )
    ).map((r: { id: unknown }) => String(r.id));

  beforeAll(async () => {
    t = await createTestApp({ env: { JOB_ATTEMPTS: '3' } });
    ({ contoso, admin, operator } = await demoActors(t));
    demo = t.get(DemoPolicySource);
    runs = t.get(RunsService);
    await demo.setLatency(contoso, 0);
    const sync = await startVia(admin, '/admin/t/contoso/inventory/sync');
    await waitForTerminal(t, sync.id);
  });
  afterEach(() => demo.setFault(contoso, null));
  afterAll(() => t.close());

  it('a retry child that failed 4/4 is announced with its top reason and count, once, and offers no retry of not_found', async () => {
    const setId = await createSetVia(admin, 'contoso', { name: 'Announced' });
    const ids = await policyIds(4);
    await demo.setFault(contoso, 'not_found', ['get']);
    const parent = await startVia(operator, `/admin/t/contoso/backup-sets/${setId}/add-policies`, {
      policy_ids: ids,
    });
    const done = await waitForTerminal(t, parent.id);
    expect([done.statusBucket, done.failed]).toEqual(['failed', 4]);
    // Had the provider throttled those items, another attempt could pass: a retry is offered, saying why.
    await t.dataSource.query('UPDATE operation_runs SET failures = ?, top_reason = ? WHERE id = ?', [
      JSON.stringify(done.failures!.map((f) => ({ ...f, reason_code: 'provider_throttled' }))),
      'provider_throttled',
      parent.id,
    ]);
    const parentPage = decodeHtml((await operator.agent.get(parent.href).expect(200)).text);
    expect(parentPage).toContain('id="run-retry"');
    expect(parentPage).toContain('4 failed items may pass on another attempt');
    const res = await operator.agent
      .post(`/admin/t/contoso/operations/${parent.id}/retry`)
      .type('form')
      .send({ _csrf: await operator.csrf() })
      .expect(303);
    const child = await viewRunLink(operator, res.headers.location);
    const childRun = await waitForTerminal(t, child.id);
    expect([childRun.statusBucket, childRun.failed, childRun.parentRunId]).toEqual(['failed', 4, parent.id]);

    // The result's notice is written behind the run's end (its listener, then a batched insert).
    const notes = await runResultNotes(t, child.id);
    // One entry per run: the result replaced the queued notice.
    expect(notes.map((n) => n.kind)).toEqual(['run_failed']);
    expect(notes[0].body).toContain(`Run #${child.id} failed — Not found (not_found), 4 items of 4 items:`);
    expect(notes[0].body).not.toContain('no reason');
    const list = decodeHtml((await operator.agent.get('/admin/notifications').expect(200)).text);
    expect(list).toContain('Not found (not_found), 4 items of 4 items');

    // not_found is permanent: no retry is offered on the child, the page says why, a forged one is refused.
    const childPage = decodeHtml((await operator.agent.get(child.href).expect(200)).text);
    expect(childPage).not.toContain('id="run-retry"');
    expect(childPage).toMatch(/id="run-no-retry">No retry offered\. [^<]*not found/i);
    const forged = await operator.agent
      .post(`/admin/t/contoso/operations/${child.id}/retry`)
      .type('form')
      .send({ _csrf: await operator.csrf() })
      .expect(400);
    expect(decodeHtml(forged.text)).toContain(`Run #${child.id} was not retried.`);
    // Opening the run's page read its notification.
    expect((await runResultNotes(t, child.id))[0].read_at).not.toBeNull();
  });

  it("honours the provider's Retry-After between attempts and says so on the run page while it waits", async () => {
    await demo.setFault(
      contoso,
      'provider_throttled',
      ['list'],
      'Graph returned 429 Too Many Requests (Retry-After: 2)',
    );
    const started = await startVia(operator, '/admin/t/contoso/inventory/sync');
    const waiting = await waitFor(async () => {
      const r = await runs.findById(started.id);
      return r?.retryAt ? r : undefined;
    }, 'the run to wait for its next attempt');
    expect(waiting.retryReason).toBe('provider_throttled');
    const page = decodeHtml((await operator.agent.get(started.href).expect(200)).text);
    expect(page).toMatch(/Waiting to retry \(throttled\) — (next attempt in [12] s|next attempt due now)\./);
    const live = decodeHtml((await operator.agent.get(`${started.href}/live?seen=running`).expect(200)).text);
    expect(live).toContain('Waiting to retry (throttled)');
    expect(live).toContain(`Run #${started.id} is waiting to retry (throttled).`);

    const done = await waitForTerminal(t, started.id, 30_000);
    expect(done.status).toBe('failed');
    expect(done.attempts).toBe(3);
    // Two waits of 2 s, where the 50 ms backoff alone would have retried three times within a second.
    expect(done.finishedAt!.getTime() - done.startedAt!.getTime()).toBeGreaterThanOrEqual(3_900);
    expect(done.failures!.at(-1)!.reason_code).toBe('provider_throttled');
    expect(done.retryAt).toBeNull();
  });

  it('bounds a Retry-After past the limit, and a waiting run can be cancelled', async () => {
    await demo.setFault(contoso, 'provider_throttled', ['list'], 'Graph returned 429 (Retry-After: 86400)');
    const started = await startVia(operator, '/admin/t/contoso/inventory/sync');
    const waiting = await waitFor(async () => {
      const r = await runs.findById(started.id);
      return r?.retryAt ? r : undefined;
    }, 'the run to wait for its next attempt');
    const wait = waiting.retryAt!.getTime() - Date.now();
    expect(wait).toBeLessThanOrEqual(MAX_RETRY_AFTER_MS + 1_000);
    expect(wait).toBeGreaterThan(MAX_RETRY_AFTER_MS - 30_000);
    const page = decodeHtml((await operator.agent.get(started.href).expect(200)).text);
    expect(page).toMatch(/Waiting to retry \(throttled\) — next attempt in (29\d|300) s\./);
    await operator.agent
      .post(`/admin/t/contoso/operations/${started.id}/cancel`)
      .type('form')
      .send({ _csrf: await operator.csrf() })
      .expect(303);
    const ended = await runs.findById(started.id);
    expect(ended!.status).toBe('aborted');
    expect(decodeHtml((await operator.agent.get(started.href).expect(200)).text)).not.toContain(
      'Waiting to retry',
    );
  });

  it('"select all matching" leaves out policies already in the set and those removed upstream; the picker is paged', async () => {
    const setId = await createSetVia(admin, 'contoso', { name: 'Select all' });
    const type = 'compliancePolicy';
    const matching = async (): Promise<Array<{ id: string; removed: boolean }>> =>
      (
        await t.dataSource.query(
          'SELECT id, removed_at FROM policies WHERE tenant_id = ? AND policy_type = ? ORDER BY id',
          [contoso, type],
        )
      ).map((r: { id: unknown; removed_at: unknown }) => ({
        id: String(r.id),
        removed: r.removed_at !== null,
      }));
    const all = (await matching()).filter((p) => !p.removed);
    expect(all.length).toBeGreaterThan(6);
    // Two of them in the set already, one removed upstream since.
    const first = await startVia(operator, `/admin/t/contoso/backup-sets/${setId}/add-policies`, {
      policy_ids: [all[0].id, all[1].id],
    });
    expect((await waitForTerminal(t, first.id)).succeeded).toBe(2);
    await t.dataSource.query('UPDATE policies SET removed_at = last_seen_at WHERE id = ?', [
      Number(all[2].id),
    ]);
    const addable = all.length - 3;

    const page = decodeHtml(
      (await operator.agent.get(`/admin/t/contoso/backup-sets/${setId}?type=${type}`).expect(200)).text,
    );
    expect(page).toContain(`Select all ${addable} matching policies not yet in this set`);
    expect(page).toContain('2 matching policies are already in this set and are left out.');

    const res = await operator.agent
      .post(`/admin/t/contoso/backup-sets/${setId}/add-policies`)
      .type('form')
      .send({ _csrf: await operator.csrf(), all_matching: '1', type, pick: '' })
      .expect(303);
    const run = await waitForTerminal(t, (await viewRunLink(operator, res.headers.location)).id);
    expect(run.totalItems).toBe(addable);
    expect(run.itemIds).not.toEqual(expect.arrayContaining([all[0].id]));
    expect(run.itemIds).not.toEqual(expect.arrayContaining([all[1].id]));
    expect(run.itemIds).not.toEqual(expect.arrayContaining([all[2].id]));
    expect([run.succeeded, run.skipped, run.failed]).toEqual([addable, 0, 0]);

    // Everything matching is in the set now: "select all" says so on the same form instead of a run of skips.
    const again = await operator.agent
      .post(`/admin/t/contoso/backup-sets/${setId}/add-policies`)
      .type('form')
      .send({ _csrf: await operator.csrf(), all_matching: '1', type, pick: '' })
      .expect(400);
    expect(decodeHtml(again.text)).toContain(`All ${addable + 2} matching policies are already in this set.`);

    // Paged: 50 a page, the next page a link that keeps the search.
    const total = Number(
      (
        await t.dataSource.query(
          'SELECT COUNT(*) AS n FROM policies WHERE tenant_id = ? AND removed_at IS NULL',
          [contoso],
        )
      )[0].n,
    );
    const p1 = decodeHtml(
      (await operator.agent.get(`/admin/t/contoso/backup-sets/${setId}`).expect(200)).text,
    );
    expect(p1.match(/name="policy_ids"|disabled checked aria-label/g)).toHaveLength(50);
    expect(p1).toContain(
      `1–50 of ${total.toLocaleString('en-US')} matching · page 1 of ${Math.ceil(total / 50)}`,
    );
    expect(p1).toContain('href="?pp=2#add" rel="next"');
    const p2 = decodeHtml(
      (await operator.agent.get(`/admin/t/contoso/backup-sets/${setId}?pp=2`).expect(200)).text,
    );
    expect(p2).toContain(`51–100 of ${total.toLocaleString('en-US')} matching · page 2`);
  });

  it('answers form mistakes on the same form with the input kept: duplicate name, nothing ticked, rename, drift', async () => {
    await createSetVia(admin, 'contoso', { name: 'Taken' });
    const dup = await admin.agent
      .post('/admin/t/contoso/backup-sets')
      .type('form')
      .send({ _csrf: await admin.csrf(), name: 'Taken', description: 'what I typed' })
      .expect(400);
    const html = decodeHtml(dup.text);
    expect(html).toContain('<h1>Backup sets</h1>');
    expect(html).toMatch(/id="f-name"[^>]*value="Taken"[^>]*aria-invalid="true"/);
    expect(html).toContain('value="what I typed"');
    expect(html).toContain(
      '<small class="field-error" id="e-name">A backup set named "Taken" already exists in this tenant.</small>',
    );
    expect(html).not.toContain('Back to operations');

    const setId = await createSetVia(admin, 'contoso', { name: 'Other' });
    const rename = await admin.agent
      .post(`/admin/t/contoso/backup-sets/${setId}/rename`)
      .type('form')
      .send({ _csrf: await admin.csrf(), name: 'Taken', description: 'kept too' })
      .expect(400);
    expect(decodeHtml(rename.text)).toContain('<details class="card" open>');
    expect(decodeHtml(rename.text)).toContain('value="kept too"');
    expect(decodeHtml(rename.text)).toContain('already exists in this tenant.</small>');

    const nothing = await operator.agent
      .post(`/admin/t/contoso/backup-sets/${setId}/add-policies`)
      .type('form')
      .send({ _csrf: await operator.csrf(), pick: 'a', type: '' })
      .expect(400);
    const n = decodeHtml(nothing.text);
    expect(n).toContain('<h1>Other</h1>');
    expect(n).toContain('id="e-policy_ids">Select at least one policy to add');
    // The picker's search is kept.
    expect(n).toMatch(/<input type="search" name="pick" value="a"/);

    const drift = await operator.agent
      .post('/admin/t/contoso/drift/generate')
      .type('form')
      .send({ _csrf: await operator.csrf(), scope: 'no-such-scope' })
      .expect(400);
    expect(decodeHtml(drift.text)).toContain('<h1>Drift</h1>');
    expect(decodeHtml(drift.text)).toContain('id="generate-error">Unknown drift scope "no-such-scope".');
    // A bad findings filter: the findings page, the reason on it, the rest of the filters applied.
    const bad = decodeHtml(
      (await operator.agent.get('/admin/t/contoso/drift/findings?change=deleted').expect(400)).text,
    );
    expect(bad).toContain(
      'id="filter-error">"change" must be one of: added, removed, modified. The findings below are shown without that filter.',
    );
    expect(bad).not.toContain('Back to operations');
  });

  it('the drift page shows a comparison being generated, follows it and holds Generate until it ends', async () => {
    const sync = await startVia(admin, '/admin/t/contoso/inventory/sync');
    await waitForTerminal(t, sync.id);
    const queue = runs.queue('drift');
    await queue.pause(true);
    let runId: number;
    try {
      runId = (await startVia(operator, '/admin/t/contoso/drift/generate')).id;
      const page = decodeHtml((await operator.agent.get('/admin/t/contoso/drift').expect(200)).text);
      expect(page).toContain('hx-select="#drift-scopes" hx-trigger="every 2s"');
      expect(page).toContain('<span class="drift-generating">generating…</span>');
      expect(page).toContain(`Being generated as run #${runId}. Generate is offered again when it ends.`);
      expect(page).not.toMatch(/\+0<\/span> · <span class="change-removed">−0/);
    } finally {
      await queue.resume(true);
    }
    await waitForTerminal(t, runId);
    const after = decodeHtml((await operator.agent.get('/admin/t/contoso/drift').expect(200)).text);
    expect(after).not.toContain('hx-trigger="every 2s"');
    expect(after).not.toContain('generating…');
    expect(after).toContain('action="/admin/t/contoso/drift/generate"');
  });

  it('the policy page does not claim @odata annotations are removed while it shows @odata.type', async () => {
    const [{ id }] = await t.dataSource.query(
      'SELECT id FROM policies WHERE tenant_id = ? AND removed_at IS NULL ORDER BY id LIMIT 1',
      [contoso],
    );
    const page = decodeHtml((await operator.agent.get(`/admin/t/contoso/policies/${id}`).expect(200)).text);
    expect(page).toContain('@odata.type');
    expect(page).not.toContain('@odata annotations) are removed');
    expect(page).toContain('<code>@odata.type</code> is kept');
  });
});
