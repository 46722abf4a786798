import { InventoryService } from '../../src/inventory';
import { RunsService } from '../../src/runs/runs.service';
import { waitForTerminal } from '../factories/flows';
import { insertRun } from '../factories/runs';
import {
  BrowserHarness,
  flashOf,
  followViewRun,
  horizontalOverflow,
  PHONE,
  runBadge,
  startHarness,
  statValue,
  texts,
  UserPage,
  waitForBadge,
  WAIT_MS,
} from './browser-harness';

// page.evaluate runs this in Chromium; the project's type-check has no DOM lib (see browser-harness.ts).
declare const document: { documentElement: { setAttribute(name: string, value: string): void } };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A datetime-local value in UTC, as the filter form's "(UTC)" fields expect. */
const utcInput = (d: Date) => d.toISOString().slice(0, 16);

/**
 * Seed test 1: an operator syncs the inventory from the Policies page, then watches and filters runs on
 * Monitoring → Operations with the real filter form, opens a run, and sees an active run's page and
 * the list follow the run to its end without reloading.
 */
describe('browser: monitor runs and filter them', () => {
  let h: BrowserHarness;
  let op: UserPage;
  const seeded: Record<'driftFailed' | 'driftRecent' | 'backupPartial' | 'syncOld', number> = {
    driftFailed: 0,
    driftRecent: 0,
    backupPartial: 0,
    syncOld: 0,
  };
  let syncId: number;
  let total: number;

  /** Run ids in the Operations table, top to bottom. */
  const listedIds = async () =>
    (await texts(op.page.locator('#run-rows table.runs tbody tr td:first-child a'))).map((s) =>
      Number(s.replace('#', '')),
    );
  const filters = () => op.page.getByRole('region', { name: 'Filters' });
  let operatorId: number;
  /**
   * The finished sync the later tests look at: the one the first test started through the page, or,
   * when a test runs on its own, one started here.
   */
  const ensureSync = async () => {
    if (syncId) return;
    syncId = (await h.t.get<InventoryService>(InventoryService).startSync(h.contosoId, operatorId)).run.id;
    await waitForTerminal(h.t, syncId);
  };

  beforeAll(async () => {
    h = await startHarness('monitor-runs');
    const ds = h.t.dataSource;
    operatorId = Number((await ds.query("SELECT id FROM users WHERE email = 'operator@example.com'"))[0].id);
    const now = Date.now();
    const tenantId = h.contosoId;
    // Older runs in other buckets, types and days, so every filter has something to leave out.
    seeded.syncOld = await insertRun(ds, {
      tenantId,
      userId: operatorId,
      type: 'inventory.sync',
      status: 'completed',
      createdAt: new Date(now - 40 * DAY),
      succeeded: 5,
    });
    seeded.backupPartial = await insertRun(ds, {
      tenantId,
      userId: operatorId,
      type: 'backup_set.add_policies',
      status: 'completed_with_errors',
      createdAt: new Date(now - 10 * DAY),
      succeeded: 2,
      failed: 1,
    });
    seeded.driftFailed = await insertRun(ds, {
      tenantId,
      userId: operatorId,
      type: 'drift.generate',
      status: 'failed',
      createdAt: new Date(now - 3 * DAY),
    });
    seeded.driftRecent = await insertRun(ds, {
      tenantId,
      userId: operatorId,
      type: 'drift.generate',
      status: 'completed',
      createdAt: new Date(now - 2 * HOUR),
    });
    op = await h.signIn('operator@example.com');
  });
  afterEach(() => h.assertClean());
  afterAll(() => h?.close());

  it('syncs the inventory with "Sync now" and follows the run to Succeeded', async () => {
    const page = op.page;
    await op.clickTo(page.locator('nav.sidenav').getByRole('link', { name: 'Policies' }), 'policies-empty');
    await op.clickTo(page.getByRole('button', { name: 'Sync now' }), 'sync-queued-flash');
    syncId = await followViewRun(op, /^Inventory sync queued as run #\d+\./, 'sync-run-page');
    await waitForBadge(page, 'Succeeded');
    await op.shot('sync-run-succeeded');
    const run = await waitForTerminal(h.t, syncId);
    total = run.totalItems;
    expect(total).toBeGreaterThan(250);
  }, 90_000);

  it('filters the Operations list by type, status, presets and a from/to range', async () => {
    await ensureSync();
    const page = op.page;
    await op.clickTo(page.locator('nav.sidenav').getByRole('link', { name: 'Operations' }), 'operations-all');
    const all = [syncId, seeded.driftRecent, seeded.driftFailed, seeded.backupPartial, seeded.syncOld];
    expect(await listedIds()).toEqual(all);
    await expect(page.locator('svg.chart').getAttribute('aria-label')).resolves.toMatch(
      /^Runs per day by status over the last 14 days: \d+ runs$/,
    );

    await filters().getByLabel('Type').selectOption({ label: 'Drift generation' });
    await op.clickTo(filters().getByRole('button', { name: 'Apply' }), 'filter-type-drift');
    expect(page.url()).toContain('type=drift.generate');
    expect(await listedIds()).toEqual([seeded.driftRecent, seeded.driftFailed]);

    await filters().getByLabel('Status').selectOption({ label: 'Failed' });
    await op.clickTo(filters().getByRole('button', { name: 'Apply' }), 'filter-type-drift-failed');
    expect(await listedIds()).toEqual([seeded.driftFailed]);
    await expect(filters().getByLabel('Type').inputValue()).resolves.toBe('drift.generate');
    await expect(filters().getByLabel('Status').inputValue()).resolves.toBe('failed');

    // A preset keeps type and status: the failed drift run is three days old, outside the last 24h.
    await op.clickTo(filters().getByRole('link', { name: 'Last 24h' }), 'filter-drift-failed-24h');
    expect(page.url()).toMatch(/type=drift\.generate&status=failed&preset=24h$/);
    expect(await listedIds()).toEqual([]);
    await page.getByRole('heading', { name: 'No runs match these filters' }).waitFor();
    await expect(
      filters().getByRole('link', { name: 'Last 24h' }).getAttribute('aria-current'),
    ).resolves.toBe('true');

    await op.clickTo(filters().getByRole('link', { name: 'Last 7d' }), 'filter-drift-failed-7d');
    expect(await listedIds()).toEqual([seeded.driftFailed]);

    await op.clickTo(filters().getByRole('button', { name: 'Clear' }), 'filter-cleared');
    expect(page.url()).toMatch(/\/operations$/);
    expect(await listedIds()).toEqual(all);

    await filters().getByLabel('Status').selectOption({ label: 'Succeeded' });
    await op.clickTo(filters().getByRole('button', { name: 'Apply' }), 'filter-succeeded');
    expect(await listedIds()).toEqual([syncId, seeded.driftRecent, seeded.syncOld]);
    await op.clickTo(filters().getByRole('link', { name: 'Last 24h' }), 'filter-succeeded-24h');
    expect(await listedIds()).toEqual([syncId, seeded.driftRecent]);
    await op.clickTo(filters().getByRole('link', { name: 'All time' }), 'filter-succeeded-all-time');
    expect(await listedIds()).toEqual([syncId, seeded.driftRecent, seeded.syncOld]);

    await op.clickTo(filters().getByRole('button', { name: 'Clear' }), 'filter-cleared-again');
    const now = Date.now();
    await filters()
      .getByLabel('Created from (UTC)')
      .fill(utcInput(new Date(now - 15 * DAY)));
    await filters()
      .getByLabel('Created to (UTC)')
      .fill(utcInput(new Date(now - DAY)));
    await op.clickTo(filters().getByRole('button', { name: 'Apply' }), 'filter-from-to');
    expect(await listedIds()).toEqual([seeded.driftFailed, seeded.backupPartial]);

    await filters().getByLabel('Type').selectOption({ label: 'Add policies to backup set' });
    await filters().getByLabel('Status').selectOption({ label: 'Partial' });
    await op.clickTo(filters().getByRole('button', { name: 'Apply' }), 'filter-from-to-backup-partial');
    expect(await listedIds()).toEqual([seeded.backupPartial]);
    // The range survives the round trip through the form.
    await expect(filters().getByLabel('Created from (UTC)').inputValue()).resolves.toBe(
      utcInput(new Date(now - 15 * DAY)),
    );
    const row = page.locator('#run-rows tbody tr').first();
    await expect(row.locator('.badge').first().textContent()).resolves.toBe('Partial');

    await op.clickTo(filters().getByRole('button', { name: 'Clear' }), 'filter-cleared-last');
    await op.clickTo(filters().getByRole('link', { name: 'Last 30d' }), 'filter-30d');
    expect(await listedIds()).toEqual([syncId, seeded.driftRecent, seeded.driftFailed, seeded.backupPartial]);

    // A range the wrong way round is refused with a readable page, not a 500.
    await op.visit('/admin/t/contoso/operations', 'operations-before-bad-range');
    await filters()
      .getByLabel('Created from (UTC)')
      .fill(utcInput(new Date(now - DAY)));
    await filters()
      .getByLabel('Created to (UTC)')
      .fill(utcInput(new Date(now - 2 * DAY)));
    h.expectConsoleError(/status of 400/);
    await op.clickTo(filters().getByRole('button', { name: 'Apply' }), 'filter-bad-range-400');
    await page.getByText('"from" must be before "to".').waitFor();
  }, 90_000);

  it('opens a run: counts, progress bar and Related links', async () => {
    await ensureSync();
    const page = op.page;
    await op.visit('/admin/t/contoso/operations', 'operations-list');
    await op.clickTo(
      page
        .locator('#run-rows tbody tr')
        .filter({ hasText: `#${syncId}` })
        .getByRole('link', { name: `#${syncId}`, exact: true }),
      'run-detail-sync',
    );
    expect(page.url()).toBe(`${h.baseUrl}/admin/t/contoso/operations/${syncId}`);
    await page.getByRole('heading', { name: `Inventory sync #${syncId}` }).waitFor();
    await expect(runBadge(page).textContent()).resolves.toBe('Succeeded');
    expect(await statValue(page, 'Processed')).toBe(`${total} / ${total}`);
    expect(await statValue(page, 'Succeeded')).toBe(String(total));
    expect(await statValue(page, 'Failed')).toBe('0');
    expect(await statValue(page, 'Skipped')).toBe('0');

    const bar = page.locator('#run-live svg.progress.big');
    await expect(bar.getAttribute('aria-valuenow')).resolves.toBe(String(total));
    await expect(bar.getAttribute('aria-valuemax')).resolves.toBe(String(total));
    expect(Number(await bar.locator('rect.p-succeeded').getAttribute('width'))).toBe(100);
    await expect(bar.locator('rect.p-failed, rect.p-skipped').count()).resolves.toBe(0);
    const barBox = await bar.boundingBox();
    expect(barBox!.width).toBeGreaterThan(200);
    await expect(page.locator('#run-live .progress-label').textContent()).resolves.toBe(
      '100% of items processed',
    );
    await expect(page.locator('#run-live').getAttribute('hx-get')).resolves.toBeNull();
    await page.getByText('No failures recorded.').waitFor();

    const related = page.getByRole('region', { name: 'Related' });
    await expect(texts(related.getByRole('button'))).resolves.toEqual(['Policies captured', 'Drift']);
    await op.clickTo(related.getByRole('button', { name: 'Policies captured' }), 'related-policies-captured');
    expect(page.url()).toBe(`${h.baseUrl}/admin/t/contoso/policies?sync=${syncId}`);
    await page.getByText(`What inventory sync #${syncId} captured.`).waitFor();
    await page.getByText(`1–25 of ${total}`, { exact: true }).waitFor();
  }, 60_000);

  it('an active run page and the list follow the run to Succeeded without a reload', async () => {
    await ensureSync();
    const page = op.page;
    const queue = h.t.get<RunsService>(RunsService).queue('inventory');
    await queue.pause(true);
    let runId: number;
    try {
      await op.visit('/admin/t/contoso/policies', 'policies-before-live');
      await op.clickTo(page.getByRole('button', { name: 'Sync now' }), 'live-sync-queued');
      runId = await followViewRun(op, /^Inventory sync queued as run #\d+\./, 'live-run-queued');
      await expect(runBadge(page).textContent()).resolves.toBe('Queued');
      await page.getByText('updating live').waitFor();
      await expect(page.locator('#run-live').getAttribute('hx-get')).resolves.toBe(
        `/admin/t/contoso/operations/${runId}/live?seen=queued`,
      );
      await expect(statValue(page, 'Processed')).resolves.toBe('0 / 0');
      // Proof that what follows happens in this document: a reload would lose the marker.
      await page.evaluate(() => document.documentElement.setAttribute('data-still-here', '1'));
    } finally {
      await queue.resume(true);
    }
    const navigations: string[] = [];
    page.on('framenavigated', (f) => f === page.mainFrame() && navigations.push(f.url()));
    await waitForBadge(page, 'Succeeded');
    await op.shot('live-run-succeeded');
    expect(navigations).toEqual([]);
    await expect(page.locator('html').getAttribute('data-still-here')).resolves.toBe('1');
    const done = (await waitForTerminal(h.t, runId!)).totalItems;
    expect(done).toBeGreaterThan(250);
    expect(await statValue(page, 'Processed')).toBe(`${done} / ${done}`);
    expect(await statValue(page, 'Succeeded')).toBe(String(done));
    await expect(page.getByText('updating live').count()).resolves.toBe(0);
    // Terminal: the fragment stops asking.
    await expect(page.locator('#run-live').getAttribute('hx-get')).resolves.toBeNull();

    // The list, too, refreshes its rows while something on the first page is active.
    await queue.pause(true);
    let listRunId: number;
    try {
      await op.visit('/admin/t/contoso/policies', 'policies-before-live-list');
      await op.clickTo(page.getByRole('button', { name: 'Sync now' }), 'live-list-sync-queued');
      listRunId = (await flashOf(op, /^Inventory sync queued as run #\d+\./)).runId!;
      expect(listRunId).not.toBe(runId);
      await op.clickTo(
        page.locator('nav.sidenav').getByRole('link', { name: 'Operations' }),
        'live-list-queued',
      );
      const row = page.locator('#run-rows tbody tr').first();
      await expect(row.locator('td').first().textContent()).resolves.toBe(`#${listRunId}`);
      await expect(row.locator('.badge').first().textContent()).resolves.toBe('Queued');
      await page.locator('#run-rows .pager').getByText('updating live').waitFor();
      await page.evaluate(() => document.documentElement.setAttribute('data-still-here', '2'));
    } finally {
      await queue.resume(true);
    }
    navigations.length = 0;
    await page
      .locator('#run-rows tbody tr')
      .first()
      .locator('.badge', { hasText: /^Succeeded$/ })
      .waitFor({ timeout: WAIT_MS });
    await op.shot('live-list-succeeded');
    expect(navigations).toEqual([]);
    await expect(page.locator('html').getAttribute('data-still-here')).resolves.toBe('2');
    await expect(page.locator('#run-rows').getAttribute('hx-get')).resolves.toBeNull();
  }, 90_000);

  it('fits a phone: Operations and a run page have no horizontal overflow at 390 px', async () => {
    await ensureSync();
    const phone = await h.signIn('operator@example.com', PHONE, 'phone');
    const overflow: string[] = [];
    const check = async (what: string) => {
      const o = await horizontalOverflow(phone.page);
      if (o.overflows) overflow.push(`${what}: ${o.offenders.join('; ') || 'no single element found'}`);
    };
    await check('Operations');
    await phone.clickTo(
      phone.page.getByRole('link', { name: `#${syncId}`, exact: true }),
      'phone-run-detail',
    );
    await check(`run #${syncId}`);
    await phone.visit(
      '/admin/t/contoso/operations?type=inventory.sync&status=succeeded&preset=7d',
      'phone-filtered',
    );
    await check('Operations, filtered');
    expect(overflow).toEqual([]);
  }, 60_000);
});
