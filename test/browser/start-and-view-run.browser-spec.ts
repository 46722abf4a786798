import { demoChanges } from '../../src/demo';
import { runResultNotes, waitForTerminal } from '../factories/flows';
import {
  BrowserHarness,
  flashOf,
  followViewRun,
  runBadge,
  runIdOf,
  startHarness,
  statValue,
  texts,
  UserPage,
  waitForBadge,
} from './browser-harness';

/**
 * Seed test 2: runs are started from the feature pages and answered at once with a flash whose
 * "View run" link leads to the run page, which follows the run live and links to its results; the
 * bell and the Notifications page point at the same run pages.
 */
describe('browser: start a run and follow "View run"', () => {
  let h: BrowserHarness;
  let op: UserPage;
  let admin: UserPage;
  let driftRunId: number;
  let backupRunId: number;
  let setId: number;
  const SET_NAME = 'Browser baseline';

  beforeAll(async () => {
    h = await startHarness('start-and-view-run');
    op = await h.signIn('operator@example.com');
  });
  afterEach(() => h.assertClean());
  afterAll(() => h?.close());

  it('two syncs, then Drift → Generate → "View run" → live to Succeeded → Drift findings', async () => {
    const page = op.page;
    await op.clickTo(page.locator('nav.sidenav').getByRole('link', { name: 'Drift' }), 'drift-before-syncs');
    // Nothing to compare yet: Generate is offered disabled, with the reason.
    const firstRow = page.locator('main table tbody tr').first();
    await expect(firstRow.getByRole('button', { name: 'Generate' }).isDisabled()).resolves.toBe(true);
    await firstRow.getByText('Needs two successful inventory syncs to compare.').waitFor();

    for (const n of [1, 2]) {
      await op.clickTo(page.locator('nav.sidenav').getByRole('link', { name: 'Policies' }), `policies-${n}`);
      await op.clickTo(page.getByRole('button', { name: 'Sync now' }), `sync-${n}-queued`);
      const syncId = await followViewRun(op, /^Inventory sync queued as run #\d+\./, `sync-${n}-run`);
      await waitForBadge(page, 'Succeeded');
      await op.shot(`sync-${n}-succeeded`);
      expect((await waitForTerminal(h.t, syncId)).statusBucket).toBe('succeeded');
    }

    await op.clickTo(page.locator('nav.sidenav').getByRole('link', { name: 'Drift' }), 'drift-ready');
    const generate = page.locator('main table tbody tr').first().getByRole('button', { name: 'Generate' });
    await expect(generate.isEnabled()).resolves.toBe(true);
    await op.clickTo(generate, 'drift-generate-flash');
    expect(page.url()).toBe(`${h.baseUrl}/admin/t/contoso/drift`);
    const queued = /^Drift generation queued as run #\d+\./;
    const flash = await flashOf(op, queued);
    expect(flash.text).toMatch(/View run$/);

    driftRunId = await followViewRun(op, queued, 'drift-run-page');
    expect(page.url()).toBe(`${h.baseUrl}/admin/t/contoso/operations/${driftRunId}`);
    expect(flash.text).toContain(`run #${driftRunId}.`);
    await page.getByRole('heading', { name: `Drift generation #${driftRunId}` }).waitFor();
    await waitForBadge(page, 'Succeeded');
    await op.shot('drift-run-succeeded');
    const run = await waitForTerminal(h.t, driftRunId);
    expect(await statValue(page, 'Processed')).toBe(`${run.totalItems} / ${run.totalItems}`);

    const related = page.getByRole('region', { name: 'Related' });
    await op.clickTo(related.getByRole('button', { name: 'Drift findings' }), 'drift-findings');
    expect(page.url()).toBe(`${h.baseUrl}/admin/t/contoso/drift/findings?run=${driftRunId}`);
    await page.getByRole('heading', { name: 'Drift findings' }).waitFor();
    // The first sync captured generation 1 of the demo tenant and the second generation 2.
    const expected = demoChanges('contoso', 1, 2);
    for (const [label, keys] of [
      ['Added', expected.added],
      ['Removed', expected.removed],
      ['Modified', expected.modified],
    ] as const) {
      const card = page.locator('.stat').filter({ has: page.locator('.label', { hasText: label }) });
      await expect(card.locator('.value').textContent()).resolves.toBe(String(keys.length));
    }
    const rows = page.locator('main table tbody tr');
    const shown = Math.min(50, expected.added.length + expected.removed.length + expected.modified.length);
    await expect(rows.count()).resolves.toBe(shown);
    const modifiedName = expected.modified[0].split(':')[1];
    await page.locator('main table').getByText(modifiedName).first().waitFor();
    await op.clickTo(
      page.locator('p.presets').getByRole('link', { name: /^modified/ }),
      'drift-findings-modified',
    );
    await expect(texts(page.locator('main table tbody tr td:first-child'))).resolves.toEqual(
      expected.modified.slice(0, 50).map(() => 'modified'),
    );
  }, 120_000);

  it('as admin: create a backup set, Add policies via search and ticks, "View run" → Succeeded → back to the set', async () => {
    admin = await h.signIn('admin@example.com');
    const page = admin.page;
    await admin.clickTo(
      page.locator('nav.sidenav').getByRole('link', { name: 'Backup sets' }),
      'backup-sets-empty',
    );
    await page.getByRole('heading', { name: 'No backup sets yet' }).waitFor();
    const create = page.getByRole('region', { name: 'New backup set' });
    await create.getByLabel('Name').fill(SET_NAME);
    await create.getByLabel('Description').fill('Made in a real browser');
    await admin.clickTo(create.getByRole('button', { name: 'Create backup set' }), 'backup-set-created');
    setId = Number(/\/backup-sets\/(\d+)$/.exec(page.url())![1]);
    await flashOf(admin, /^Backup set created\./);
    await page.getByRole('heading', { name: SET_NAME, level: 1 }).waitFor();
    await page.getByText('This set is empty.').waitFor();

    const add = page.getByRole('region', { name: 'Add policies' });
    const search = 'iOS';
    await add.getByLabel('Name contains').fill(search);
    await admin.clickTo(add.getByRole('button', { name: 'Find policies' }), 'add-policies-search');
    const boxes = page.locator('#add input[name="policy_ids"]');
    expect(await boxes.count()).toBeGreaterThan(3);
    const names = await texts(page.locator('#add tbody tr td:nth-child(2)'));
    for (const name of names) expect(name.toLowerCase()).toContain(search.toLowerCase());
    // Tick three rows as a user would (by clicking their boxes); names can repeat, so remember the ids.
    const picked: string[] = [];
    for (const n of [0, 2, 4]) {
      const box = boxes.nth(n);
      await box.check();
      picked.push((await box.getAttribute('value'))!);
    }
    await expect(page.locator('#add input[name="policy_ids"]:checked').count()).resolves.toBe(3);
    await admin.shot('add-policies-ticked');
    await admin.clickTo(page.getByRole('button', { name: 'Add selected policies' }), 'add-policies-flash');
    expect(page.url()).toBe(`${h.baseUrl}/admin/t/contoso/backup-sets/${setId}`);
    backupRunId = await followViewRun(admin, /^Adding 3 policies as run #\d+\./, 'backup-run-page');
    await page.getByRole('heading', { name: `Add policies to backup set #${backupRunId}` }).waitFor();
    await waitForBadge(page, 'Succeeded');
    await admin.shot('backup-run-succeeded');
    expect(await statValue(page, 'Processed')).toBe('3 / 3');
    expect(await statValue(page, 'Succeeded')).toBe('3');
    const context = page.getByRole('region', { name: 'Context' });
    await context.getByRole('link', { name: SET_NAME }).waitFor();

    const related = page.getByRole('region', { name: 'Related' });
    await admin.clickTo(
      related.getByRole('button', { name: `Backup set “${SET_NAME}”` }),
      'backup-set-after-run',
    );
    expect(page.url()).toBe(`${h.baseUrl}/admin/t/contoso/backup-sets/${setId}`);
    await page.getByText(/^Made in a real browser · 3 items · updated/).waitFor();
    const externalIds = (
      await h.t.dataSource.query(
        `SELECT external_id FROM policies WHERE id IN (${picked.map(() => '?').join(', ')})`,
        picked.map(Number),
      )
    ).map((r: { external_id: string }) => r.external_id);
    const listed = await texts(page.locator('main table').first().locator('tbody tr td:first-child code'));
    expect([...listed].sort()).toEqual([...externalIds].sort());
    const runLine = page.locator('ul.plain li').filter({ hasText: `#${backupRunId}` });
    await runLine.getByText('3 added · 0 skipped · 0 failed').waitFor();
    await admin.clickTo(runLine.getByRole('link', { name: `#${backupRunId}` }), 'backup-run-from-set');
    expect(runIdOf(page.url())).toBe(backupRunId);
    await expect(runBadge(page).textContent()).resolves.toBe('Succeeded');
  }, 90_000);

  it('one notification per run: its result replaces the queued notice, and "View run" marks it read', async () => {
    if (!driftRunId || !backupRunId) throw new Error('needs the drift and backup runs of the tests above');
    for (const user of [admin, op]) {
      const page = user.page;
      const who = user.email.split('@')[0];
      // A run this user starts and does not open: its notice stays unread.
      await user.visit('/admin/t/contoso/policies', `${who}-sync-for-bell`);
      await user.clickTo(page.getByRole('button', { name: 'Sync now' }), `${who}-sync-queued-for-bell`);
      const { runId } = await flashOf(user, /^Inventory sync queued as run #\d+\./);
      await waitForTerminal(h.t, runId!);
      await runResultNotes(h.t, runId!);

      await user.visit('/admin/t/contoso/operations', `${who}-bell`);
      const bell = page.locator('header #bell');
      const count = Number(await bell.locator('.count').textContent());
      expect(count).toBeGreaterThanOrEqual(1);
      await expect(bell.getAttribute('aria-label')).resolves.toBe(`Notifications, ${count} unread`);

      await user.clickTo(bell, `${who}-notifications`);
      expect(page.url()).toBe(`${h.baseUrl}/admin/notifications`);
      await expect(page.locator('main li.note.unread').count()).resolves.toBe(count);
      const links = page.getByRole('link', { name: 'View run', exact: true });
      const hrefs = await links.evaluateAll((els) => els.map((e) => e.getAttribute('href')));
      for (const href of hrefs) expect(href).toMatch(/^\/admin\/t\/contoso\/operations\/\d+$/);
      // Each run is one entry: the result, never the queued notice beside it.
      expect(new Set(hrefs).size).toBe(hrefs.length);
      const rows = page.locator('main li.note');
      const forRun = rows.filter({ has: page.locator(`a[href="/admin/t/contoso/operations/${runId}"]`) });
      await expect(texts(forRun.locator('strong'))).resolves.toEqual([
        expect.stringMatching(/^Unread: .*completed/i),
      ]);
      await expect(forRun.first().getAttribute('class')).resolves.toContain('unread');

      await user.clickTo(
        forRun.first().getByRole('link', { name: 'View run' }),
        `${who}-notification-view-run`,
      );
      expect(page.url()).toBe(`${h.baseUrl}/admin/t/contoso/operations/${runId}`);
      await expect(runBadge(page).textContent()).resolves.toBe('Succeeded');
      // Opening the run read its notice: the bell on the run page already counts one fewer.
      const after = (await bell.locator('.count').count())
        ? Number(await bell.locator('.count').textContent())
        : 0;
      expect(after).toBe(count - 1);

      // Every other "View run" link works too.
      for (const href of hrefs) {
        const res = await page.request.get(h.baseUrl + href!);
        expect(res.status()).toBe(200);
      }
    }
  }, 60_000);
});
