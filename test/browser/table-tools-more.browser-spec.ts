import { readFileSync } from 'node:fs';
import { AuthService } from '../../src/auth';
import { insertRun, toDbDate } from '../factories/runs';
import { axeViolations, BrowserHarness, PHONE, startHarness, texts, UserPage } from './browser-harness';

/**
 * The table tools on Policies, Drift findings and Backup sets in Chromium: sorting by clicking a
 * header (aria-sort follows), changing the page size, the "1–25 of 30" range, the Export CSV link,
 * a bad parameter shown beside the filter form — and each page with zero axe violations, in the
 * light and the dark theme and on a phone. Screenshots under test-artifacts/.
 */
jest.setTimeout(240_000);

// Runs in Chromium (page.evaluate); the project's type-check has no DOM lib.
declare const matchMedia: (query: string) => { matches: boolean };

const N = 30;
const TYPES = ['deviceConfiguration', 'compliancePolicy', 'settingsCatalog'];
const pad = (n: number) => String(n).padStart(2, '0');

describe('browser: the table tools on Policies, Drift findings and Backup sets', () => {
  let h: BrowserHarness;
  let op: UserPage;
  let driftRun = 0;
  const policies = '/admin/t/contoso/policies';
  const findings = () => `/admin/t/contoso/drift/findings?run=${driftRun}`;
  const sets = '/admin/t/contoso/backup-sets';

  const filters = (u: UserPage) => u.page.getByRole('region', { name: 'Filters' });
  const range = (u: UserPage) => u.page.locator('.list-range');
  const column = (u: UserPage, label: string) => texts(u.page.locator(`tbody td[data-label="${label}"]`));

  beforeAll(async () => {
    h = await startHarness('table-tools-more');
    const ds = h.t.dataSource;
    const mysql = ds.options.type === 'mysql';
    const at = (ms: number) => toDbDate(new Date(ms), mysql);
    const adminId = (await h.t.get<AuthService>(AuthService).findByEmail('admin@example.com'))!.id;
    const start = Date.now() - 48 * 3_600_000;
    const insert = (table: string, row: Record<string, unknown>) =>
      ds.query(
        `INSERT INTO ${table} (${Object.keys(row).join(', ')}) VALUES (${Object.keys(row)
          .map(() => '?')
          .join(', ')})`,
        Object.values(row),
      );
    for (let i = 0; i < N; i++) {
      await insert('policies', {
        tenant_id: h.contosoId,
        policy_type: TYPES[i % 3],
        external_id: `browser-${i}`,
        display_name: `Policy ${pad(i)}`,
        platform: 'windows10',
        payload_hash: 'h'.repeat(64),
        last_sync_run_id: null,
        first_seen_at: at(start),
        last_seen_at: at(start + ((i * 7) % N) * 60_000),
        removed_at: null,
      });
      await insert('backup_sets', {
        tenant_id: h.contosoId,
        name: `Set ${pad(i)}`,
        description: null,
        created_by: adminId,
        item_count: (i * 11) % N,
        created_at: at(start),
        updated_at: at(start + i * 60_000),
      });
    }
    driftRun = await insertRun(ds, {
      tenantId: h.contosoId,
      userId: adminId,
      type: 'drift.generate',
      status: 'completed',
      createdAt: new Date(start),
      succeeded: N,
      payload: { scope_key: 'all', scope_name: 'All policies', baseline_run_id: 1, current_run_id: 2 },
    });
    for (let i = 0; i < N; i++)
      await insert('drift_findings', {
        tenant_id: h.contosoId,
        run_id: driftRun,
        scope_key: 'all',
        baseline_run_id: 1,
        current_run_id: 2,
        change_type: ['modified', 'added', 'removed'][i % 3],
        policy_type: TYPES[i % 3],
        external_id: `browser-${i}`,
        display_name: `Policy ${pad(i)}`,
        changes: JSON.stringify(
          i % 3 === 0 ? [{ path: 'settings.pin', before: '4', after: '6', label: 'PIN length' }] : [],
        ),
        fingerprint: `browser-${i}`,
        created_at: at(start),
      });
    op = await h.signIn('operator@example.com');
  }, 120_000);
  afterEach(() => h.assertClean());
  afterAll(() => h?.close());

  /** Clicks the Export CSV link and returns the downloaded file's lines. */
  async function exported(u: UserPage): Promise<string[]> {
    const [download] = await Promise.all([
      u.page.waitForEvent('download'),
      u.page.getByRole('link', { name: 'Export CSV' }).click(),
    ]);
    return readFileSync((await download.path())!, 'utf8')
      .trimEnd()
      .split('\r\n');
  }

  it('Policies: sorts by a header both ways, changes the page size, exports what it shows', async () => {
    const page = op.page;
    await op.visit(policies, 'policies');
    await range(op).getByText(`1–25 of ${N}`).waitFor();
    expect(await page.locator('th', { hasText: 'Name' }).getAttribute('aria-sort')).toBe('ascending');
    expect(await axeViolations(page)).toEqual([]);

    const seen = page.locator('th', { hasText: 'Last seen' });
    await op.clickTo(seen.getByRole('link'), 'policies-seen-desc');
    expect(await seen.getAttribute('aria-sort')).toBe('descending');
    expect(await page.locator('th', { hasText: 'Name' }).getAttribute('aria-sort')).toBeNull();
    // Policy i was seen at minute (i * 7) % 30: the last one seen is the one with (i * 7) % 30 = 29.
    expect((await column(op, ''))[0]).toBe('Policy 17');
    await op.clickTo(seen.getByRole('link'), 'policies-seen-asc');
    expect(await seen.getAttribute('aria-sort')).toBe('ascending');
    expect((await column(op, ''))[0]).toBe('Policy 00');

    await filters(op).getByLabel('Rows a page').selectOption('50');
    await op.clickTo(filters(op).getByRole('button', { name: 'Search' }), 'policies-50');
    await range(op).getByText(`1–${N} of ${N}`).waitFor();
    expect(await column(op, '')).toHaveLength(N);
    // The sort the header chose survives the form.
    expect(await seen.getAttribute('aria-sort')).toBe('ascending');

    const lines = await exported(op);
    expect(lines[0]).toBe(
      '"name","type","type_label","platform","external_id","last_seen_at","removed_at","url"',
    );
    expect(lines.slice(1).map((l) => l.split('","')[0].slice(1))).toEqual(await column(op, ''));
    expect(await axeViolations(page)).toEqual([]);
  });

  it('Policies: a bad page size is shown beside the filter form, typed value kept', async () => {
    h.expectConsoleError(/status of 400/);
    await op.visit(`${policies}?limit=7&q=Policy`, 'policies-bad-limit', 400);
    await op.page.getByRole('alert').getByText('"limit" must be 25, 50 or 100 rows a page.').waitFor();
    await expect(filters(op).getByLabel('Name contains').inputValue()).resolves.toBe('Policy');
    await expect(filters(op).getByLabel('Rows a page').inputValue()).resolves.toBe('7');
    expect(await axeViolations(op.page)).toEqual([]);
    await filters(op).getByLabel('Rows a page').selectOption('25');
    await op.clickTo(filters(op).getByRole('button', { name: 'Search' }), 'policies-fixed');
    await range(op).getByText(`1–25 of ${N}`).waitFor();
  });

  it('Drift findings: searches, sorts by policy name, changes the page size, exports', async () => {
    const page = op.page;
    await op.visit(findings(), 'findings');
    await range(op).getByText(`1–25 of ${N}`).waitFor();
    expect(
      await page.getByRole('columnheader', { name: 'Change', exact: true }).getAttribute('aria-sort'),
    ).toBe('ascending');
    expect(await axeViolations(page)).toEqual([]);

    const policy = page.getByRole('columnheader', { name: /^Policy/ });
    await op.clickTo(policy.getByRole('link'), 'findings-name-asc');
    expect(await policy.getAttribute('aria-sort')).toBe('ascending');
    const names = (await column(op, 'Policy')).map((s) => s.slice(0, 'Policy 00'.length));
    expect(names).toEqual(Array.from({ length: 25 }, (_, i) => `Policy ${pad(i)}`));
    await op.clickTo(policy.getByRole('link'), 'findings-name-desc');
    expect(await policy.getAttribute('aria-sort')).toBe('descending');
    expect((await column(op, 'Policy'))[0]).toMatch(/^Policy 29/);

    await filters(op).getByLabel('Policy name contains').fill('policy 1');
    await filters(op).getByLabel('Rows a page').selectOption('100');
    await op.clickTo(filters(op).getByRole('button', { name: 'Search' }), 'findings-search');
    await range(op).getByText('1–10 of 10').waitFor();
    expect(await policy.getAttribute('aria-sort')).toBe('descending');

    const lines = await exported(op);
    expect(lines[0]).toBe(
      '"change","policy_name","policy_type","type_label","external_id","changed_settings","run_id","found_at"',
    );
    expect(lines.slice(1).map((l) => l.split('","')[1])).toEqual(
      Array.from({ length: 10 }, (_, i) => `Policy 1${9 - i}`),
    );
    expect(await axeViolations(page)).toEqual([]);
  });

  it('Backup sets: sorts by Items, pages by 25, and keeps its create form', async () => {
    const page = op.page;
    await op.visit(sets, 'sets');
    await range(op).getByText(`1–25 of ${N}`).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    const items = page.locator('th', { hasText: 'Items' });
    await op.clickTo(items.getByRole('link'), 'sets-items-desc');
    expect(await items.getAttribute('aria-sort')).toBe('descending');
    const counts = (await column(op, 'Items')).map(Number);
    expect(counts).toEqual(Array.from({ length: 25 }, (_, i) => N - 1 - i));
    await op.clickTo(page.getByRole('link', { name: 'Next ›' }), 'sets-page-2');
    await range(op).getByText(`26–${N} of ${N}`).waitFor();
    expect((await column(op, 'Items')).map(Number)).toEqual([4, 3, 2, 1, 0]);
    await filters(op).getByLabel('Rows a page').selectOption('50');
    await op.clickTo(filters(op).getByRole('button', { name: 'Search' }), 'sets-50');
    await range(op).getByText(`1–${N} of ${N}`).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await expect(page.getByRole('button', { name: 'Create backup set' }).count()).resolves.toBe(1);
  });

  it('every page has no axe violation in the dark theme, on a phone, and with a bad filter', async () => {
    const dark = await h.signIn('operator@example.com', { colorScheme: 'dark' }, 'dark');
    const phone = await h.signIn('operator@example.com', { ...PHONE, colorScheme: 'dark' }, 'phone');
    for (const [u, name] of [
      [dark, 'dark'],
      [phone, 'phone'],
    ] as const) {
      for (const [path, label] of [
        [`${policies}?sort=type`, 'policies'],
        [`${findings()}&sort=name`, 'findings'],
        [`${sets}?sort=updated`, 'sets'],
      ]) {
        await u.visit(path, `${name}-${label}`);
        expect(await u.page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches)).toBe(true);
        expect({ path, violations: await axeViolations(u.page) }).toEqual({ path, violations: [] });
      }
    }
    for (const path of [`${policies}?sort=owner`, `${findings()}&sort=owner`, `${sets}?sort=owner`]) {
      h.expectConsoleError(/status of 400/);
      await dark.visit(path, `dark-bad-${path.split('/')[4].split('?')[0]}`, 400);
      await dark.page
        .getByRole('alert')
        .getByText(/Unknown sort "owner"/)
        .waitFor();
      expect({ path, violations: await axeViolations(dark.page) }).toEqual({ path, violations: [] });
    }
    await dark.context.close();
    await phone.context.close();
  });
});
