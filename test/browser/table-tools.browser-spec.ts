import { AuthService } from '../../src/auth';
import { RunsRepository } from '../../src/runs/runs.repository';
import { insertRun, runsTable } from '../factories/runs';
import { axeViolations, BrowserHarness, PHONE, startHarness, texts, UserPage } from './browser-harness';

/**
 * The Operations table's tools in Chromium (issue 15): search, reason and "My runs" filters, sortable
 * headers paged both ways, page size and the "1–25 of N" total, bulk cancel with "select all on this
 * page", saved views with an inline duplicate error, a bad filter shown beside the form, and the All
 * tenants list — each page with zero axe violations, screenshots under test-artifacts/.
 */
// Axe audits and full-page screenshots take a while on a shared two-core machine.
jest.setTimeout(240_000);

describe('browser: the Operations table tools', () => {
  let h: BrowserHarness;
  let op: UserPage;
  const ids: Record<'alpha' | 'slow' | 'pendingA' | 'pendingB', number> = {
    alpha: 0,
    slow: 0,
    pendingA: 0,
    pendingB: 0,
  };
  const base = '/admin/t/contoso/operations';
  let seededCount = 0;

  const listedIds = async (u: UserPage) =>
    (await texts(u.page.locator('#run-rows table.runs tbody tr td[data-label="Run"] a'))).map((s) =>
      Number(s.replace('#', '')),
    );
  const filters = (u: UserPage) => u.page.getByRole('region', { name: 'Filters' });

  beforeAll(async () => {
    h = await startHarness('table-tools');
    const ds = h.t.dataSource;
    const operatorId = (await h.t.get<AuthService>(AuthService).findByEmail('operator@example.com'))!.id;
    const now = Date.now() - 3_600_000;
    for (let i = 0; i < 30; i++) {
      const status = i === 3 || i === 4 ? 'pending' : i % 3 === 0 ? 'failed' : 'completed';
      const id = await insertRun(ds, {
        tenantId: h.contosoId,
        userId: i % 2 ? operatorId : null,
        type: 'inventory.sync',
        status,
        createdAt: new Date(now + i * 60_000),
        succeeded: status === 'completed' ? 2 : 0,
        failed: status === 'failed' ? 1 : 0,
      });
      await ds.query('UPDATE operation_runs SET target = ?, top_reason = ?, duration_ms = ? WHERE id = ?', [
        i === 7 ? 'Set Alpha' : `Scope ${i}`,
        status === 'failed' ? 'permission_denied' : null,
        status === 'pending' ? null : i === 11 ? 999_000 : i * 1000,
        id,
      ]);
      if (i === 7) ids.alpha = id;
      if (i === 11) ids.slow = id;
      if (i === 3) ids.pendingA = id;
      if (i === 4) ids.pendingB = id;
    }
    seededCount = 30;
    await h.t.get<RunsRepository>(RunsRepository).recountDays('2000-01-01');
    op = await h.signIn('operator@example.com');
  }, 120_000);
  afterEach(() => h.assertClean());
  afterAll(() => h?.close());

  it('searches, filters by reason and "My runs", with a total, and no axe violations', async () => {
    const page = op.page;
    await op.visit(base, 'list');
    await page.locator('.list-range').getByText(`1–25 of ${seededCount}`).waitFor();
    expect(await axeViolations(page)).toEqual([]);

    await filters(op).getByLabel('Search').fill('set al');
    await op.clickTo(filters(op).getByRole('button', { name: 'Apply' }), 'search-alpha');
    expect(await listedIds(op)).toEqual([ids.alpha]);
    await expect(page.locator('td[data-label="Target"]').first().textContent()).resolves.toBe('Set Alpha');

    await filters(op).getByLabel('Search').fill('');
    await filters(op).getByLabel('Failure reason').selectOption({ label: 'Permission denied' });
    await filters(op).getByLabel('Started by').selectOption({ label: 'My runs' });
    await op.clickTo(filters(op).getByRole('button', { name: 'Apply' }), 'reason-mine');
    const shown = await listedIds(op);
    expect(shown.length).toBeGreaterThan(0);
    const rows = await runsTable(h.t.dataSource).find({ where: { tenantId: h.contosoId } });
    for (const id of shown) {
      const r = rows.find((x) => x.id === id)!;
      expect(r.topReason).toBe('permission_denied');
      expect(r.userId).not.toBeNull();
    }
    await expect(texts(page.locator('td[data-label="Failure reason"]'))).resolves.toEqual(
      shown.map(() => 'Permission denied'),
    );
    expect(await axeViolations(page)).toEqual([]);
  });

  it('sorts by a header, both ways, and pages forward and back', async () => {
    const page = op.page;
    await op.visit(`${base}?limit=25`, 'list-before-sort');
    const duration = page.locator('th', { hasText: 'Duration' });
    await op.clickTo(duration.getByRole('link'), 'sorted-duration-desc');
    await expect(duration.getAttribute('aria-sort')).resolves.toBe('descending');
    expect((await listedIds(op))[0]).toBe(ids.slow);
    await op.clickTo(duration.getByRole('link'), 'sorted-duration-asc');
    await expect(duration.getAttribute('aria-sort')).resolves.toBe('ascending');
    const first = await listedIds(op);
    await op.clickTo(page.getByRole('link', { name: 'Next ›' }), 'sorted-page-2');
    await page.locator('.list-range').getByText(`26–${seededCount} of ${seededCount}`).waitFor();
    const second = await listedIds(op);
    expect(second).toEqual(expect.arrayContaining([ids.pendingA, ids.pendingB]));
    expect(second.some((id) => first.includes(id))).toBe(false);
    await op.clickTo(page.getByRole('link', { name: '‹ Previous' }), 'sorted-page-1-again');
    expect(await listedIds(op)).toEqual(first);
    expect(await axeViolations(page)).toEqual([]);
  });

  it('selects all on the page, and cancels the selected runs in bulk', async () => {
    const page = op.page;
    await op.visit(`${base}?status=queued`, 'queued');
    expect((await listedIds(op)).sort()).toEqual([ids.pendingA, ids.pendingB].sort());
    await page.getByLabel('Select all runs on this page').check();
    await page.getByText('2 selected').waitFor();
    await op.shot('queued-selected');
    expect(await axeViolations(page)).toEqual([]);
    await op.clickTo(page.getByRole('button', { name: 'Cancel selected' }), 'bulk-cancelled');
    await page.locator('.flash').getByText('2 cancelled.').waitFor();
    for (const id of [ids.pendingA, ids.pendingB])
      expect((await runsTable(h.t.dataSource).findOneByOrFail({ id })).status).toBe('aborted');
  });

  it('a readonly user sees no checkboxes or bulk actions', async () => {
    const ro = await h.signIn('readonly@example.com');
    await ro.visit(base, 'readonly-list');
    await expect(ro.page.locator('input[name="run_ids"]').count()).resolves.toBe(0);
    await expect(ro.page.getByRole('button', { name: 'Cancel selected' }).count()).resolves.toBe(0);
    await ro.context.close();
  });

  it('saves a view, refuses a duplicate name beside its field, keeps it typed', async () => {
    const page = op.page;
    await op.visit(`${base}?reason=permission_denied`, 'to-save');
    await page.getByLabel('Save these filters as').fill('Denied');
    await op.clickTo(page.getByRole('button', { name: 'Save view' }), 'view-saved');
    const saved = page.getByRole('navigation', { name: 'Saved views' }).getByRole('link', { name: 'Denied' });
    await expect(saved.getAttribute('aria-current')).resolves.toBe('true');

    h.expectConsoleError(/status of 400/);
    await page.getByLabel('Save these filters as').fill('Denied');
    await op.clickTo(page.getByRole('button', { name: 'Save view' }), 'view-duplicate');
    await page.getByText('You already have a view named "Denied"').waitFor();
    await expect(page.getByLabel('Save these filters as').inputValue()).resolves.toBe('Denied');
    await expect(page.getByLabel('Save these filters as').getAttribute('aria-invalid')).resolves.toBe('true');
    expect(await axeViolations(page)).toEqual([]);

    await op.clickTo(page.getByRole('button', { name: 'Delete saved view Denied' }), 'view-deleted');
    await expect(page.getByRole('navigation', { name: 'Saved views' }).count()).resolves.toBe(0);
  });

  it('shows a bad filter beside the form, with what was typed kept', async () => {
    h.expectConsoleError(/status of 400/);
    await op.visit(`${base}?from=yesterday&q=Scope`, 'bad-filter', 400);
    const page = op.page;
    await page
      .getByRole('alert')
      .getByText(/"from" must be a date like 2026-11-26/)
      .waitFor();
    await expect(filters(op).getByLabel('Search').inputValue()).resolves.toBe('Scope');
    await expect(filters(op).getByLabel('Created from (UTC)').inputValue()).resolves.toBe('yesterday');
    expect(await axeViolations(page)).toEqual([]);
    await filters(op).getByLabel('Created from (UTC)').fill('');
    await op.clickTo(filters(op).getByRole('button', { name: 'Apply' }), 'bad-filter-fixed');
    expect((await listedIds(op)).length).toBeGreaterThan(0);
  });

  it('lists every tenant of the admin under All tenants, linked from Operations', async () => {
    const admin = await h.signIn('admin@example.com');
    await admin.visit(base, 'admin-list');
    await admin.clickTo(admin.page.getByRole('link', { name: 'All tenants’ operations' }), 'all-tenants');
    await expect(admin.page.locator('th', { hasText: 'Tenant' }).count()).resolves.toBe(1);
    expect(await axeViolations(admin.page)).toEqual([]);
    await admin.context.close();
  });

  it('shows the list on a phone, without axe violations', async () => {
    const phone = await h.signIn('operator@example.com', PHONE, 'phone');
    await phone.visit(base, 'list-phone');
    expect(await axeViolations(phone.page)).toEqual([]);
    await phone.context.close();
  });
});
