import type { Page } from 'playwright-core';
import { BackupSetsService } from '../../src/backup-sets/backup-sets.service';
import { startVia, waitForTerminal } from '../factories/flows';
import { login } from '../factories/test-app';
import { BrowserHarness, runBadge, startHarness, UserPage } from './browser-harness';

// page.evaluate runs these in Chromium; the project's type-check has no DOM lib (see browser-harness.ts).
interface FormEl {
  method: string;
  action: string;
  querySelectorAll(selector: string): ArrayLike<{ disabled: boolean; textContent: string | null }>;
}
declare const document: {
  querySelectorAll(selector: string): ArrayLike<FormEl>;
  querySelector(selector: 'input[name="_csrf"]'): { value: string };
  createElement(tag: 'form'): FormEl & { append(child: unknown): void; submit(): void };
  createElement(tag: 'input'): { type: string; name: string; value: string };
  body: { append(child: unknown): void };
};
declare const location: { href: string };

/** POST endpoints that start or change something; a readonly user must be offered none of them. */
const STARTS = /\/(inventory\/sync|drift\/generate|add-policies|backup-sets|rename|delete|fault)$/;

/**
 * Enabled controls on the page that would start or change something: submit buttons of POST forms
 * other than signing out, marking one's own notifications read and saving one's own filter views.
 */
async function enabledStartControls(page: Page): Promise<string[]> {
  return page.evaluate((starts) => {
    const re = new RegExp(starts);
    const found: string[] = [];
    for (const form of Array.from(document.querySelectorAll('form'))) {
      if (form.method.toLowerCase() !== 'post') continue;
      const action = new URL(form.action, location.href).pathname;
      if (
        action === '/logout' ||
        action.startsWith('/admin/notifications') ||
        /\/operations\/views(\/|$)/.test(action)
      )
        continue;
      for (const b of Array.from(form.querySelectorAll('button, input[type="submit"]'))) {
        if (!b.disabled) found.push(`${action}: ${(b.textContent ?? '').trim()}`);
      }
    }
    for (const form of Array.from(document.querySelectorAll('form[action]'))) {
      // A GET form only filters what is shown (a list's search): looking, which Readonly may do.
      if (form.method.toLowerCase() === 'get') continue;
      const action = new URL(form.action, location.href).pathname;
      if (re.test(action) && !found.some((f) => f.startsWith(action))) found.push(`${action}: form present`);
    }
    return found;
  }, STARTS.source);
}

/**
 * Seed test 3: a Readonly member opens every page a run touches, is shown each start control disabled
 * with the reason, and a POST forged from the page itself is refused with 403 and starts nothing.
 */
describe('browser: a Readonly user can look but never start', () => {
  let h: BrowserHarness;
  let ro: UserPage;
  let syncId: number;
  let setId: number;

  beforeAll(async () => {
    h = await startHarness('readonly');
    // History to look at, made by others: two syncs (so Drift could compare) and a backup set with a run.
    const operator = await login(h.t, 'operator@example.com');
    for (let i = 0; i < 2; i++) {
      const started = await startVia(operator, '/admin/t/contoso/inventory/sync');
      syncId = started.id;
      await waitForTerminal(h.t, syncId);
    }
    setId = await h.t.get<BackupSetsService>(BackupSetsService).create(h.contosoId, 1, 'Audited set', null);
    const policy = Number(
      (
        await h.t.dataSource.query('SELECT id FROM policies WHERE tenant_id = ? ORDER BY id LIMIT 1', [
          h.contosoId,
        ])
      )[0].id,
    );
    const add = await startVia(operator, `/admin/t/contoso/backup-sets/${setId}/add-policies`, {
      policy_ids: [String(policy)],
    });
    await waitForTerminal(h.t, add.id);
    ro = await h.signIn('readonly@example.com');
  }, 90_000);
  afterEach(() => h.assertClean());
  afterAll(() => h?.close());

  it('opens Operations, a run, Drift, Policies and a backup set, with every start control disabled and explained', async () => {
    const page = ro.page;
    const reason = (what: string) =>
      `Your role in Contoso Ltd (readonly) can view ${what} but not change or start anything.`;
    await page.locator('nav.sidenav .role-pill', { hasText: 'readonly' }).waitFor();
    expect(await enabledStartControls(page)).toEqual([]);
    await page.getByRole('link', { name: `#${syncId}`, exact: true }).waitFor();

    await ro.clickTo(page.getByRole('link', { name: `#${syncId}`, exact: true }), 'run-detail');
    await expect(runBadge(page).textContent()).resolves.toBe('Succeeded');
    await page
      .getByRole('region', { name: 'Related' })
      .getByRole('button', { name: 'Policies captured' })
      .waitFor();
    expect(await enabledStartControls(page)).toEqual([]);
    await expect(page.locator('#run-actions button:not([disabled])').count()).resolves.toBe(0);

    await ro.clickTo(page.locator('nav.sidenav').getByRole('link', { name: 'Drift' }), 'drift');
    const generate = page.locator('main table tbody tr').first().getByRole('button', { name: 'Generate' });
    await expect(generate.isDisabled()).resolves.toBe(true);
    const why = await generate.getAttribute('aria-describedby');
    const whyText = page.locator(`#${why}`);
    await expect(whyText.isVisible()).resolves.toBe(true);
    await expect(whyText.textContent()).resolves.toBe(reason('drift'));
    await expect(page.locator('main .flash-info').textContent()).resolves.toBe(reason('drift'));
    expect(await enabledStartControls(page)).toEqual([]);

    await ro.clickTo(page.locator('nav.sidenav').getByRole('link', { name: 'Policies' }), 'policies');
    const sync = page.getByRole('button', { name: 'Sync now' });
    await expect(sync.isDisabled()).resolves.toBe(true);
    await expect(page.locator(`#${await sync.getAttribute('aria-describedby')}`).textContent()).resolves.toBe(
      reason('the inventory'),
    );
    await expect(page.locator('#why-sync').isVisible()).resolves.toBe(true);
    expect(await enabledStartControls(page)).toEqual([]);

    await ro.clickTo(page.locator('nav.sidenav').getByRole('link', { name: 'Backup sets' }), 'backup-sets');
    await expect(page.getByRole('button', { name: 'Create backup set' }).isDisabled()).resolves.toBe(true);
    await page.getByText('Only owners and managers create, rename or delete backup sets.').waitFor();
    expect(await enabledStartControls(page)).toEqual([]);

    await ro.clickTo(page.getByRole('link', { name: 'Audited set' }), 'backup-set-detail');
    expect(page.url()).toBe(`${h.baseUrl}/admin/t/contoso/backup-sets/${setId}`);
    await page.getByText(/^1 item · updated/).waitFor();
    await expect(page.getByRole('heading', { name: 'Add policies' }).count()).resolves.toBe(0);
    await expect(
      page.locator('form[action$="/add-policies"], input[name="policy_ids"]').count(),
    ).resolves.toBe(0);
    await expect(page.getByText('Rename or delete').count()).resolves.toBe(0);
    expect(await enabledStartControls(page)).toEqual([]);

    await ro.clickTo(
      page.locator('nav.sidenav').getByRole('link', { name: 'Notifications' }),
      'notifications',
    );
    await page.getByRole('heading', { name: 'Nothing here' }).waitFor();
  }, 60_000);

  it('a POST forged from the page with its own CSRF token is refused with 403 and starts nothing', async () => {
    const page = ro.page;
    await ro.visit('/admin/t/contoso/drift', 'drift-before-forgery');
    const before = await h.runCount();
    const forge = (path: string, fields: Record<string, string> = {}) =>
      page.evaluate(
        async ({ path, fields }) => {
          const token = document.querySelector('input[name="_csrf"]').value;
          const res = await fetch(path, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ _csrf: token, ...fields }).toString(),
            redirect: 'manual',
          });
          return { status: res.status, body: await res.text() };
        },
        { path, fields },
      );

    h.expectConsoleError(/status of 403/);
    const drift = await forge('/admin/t/contoso/drift/generate');
    expect(drift.status).toBe(403);
    h.expectConsoleError(/status of 403/);
    expect((await forge('/admin/t/contoso/inventory/sync')).status).toBe(403);
    const policy = String(
      (
        await h.t.dataSource.query('SELECT id FROM policies WHERE tenant_id = ? ORDER BY id DESC LIMIT 1', [
          h.contosoId,
        ])
      )[0].id,
    );
    h.expectConsoleError(/status of 403/);
    expect(
      (await forge(`/admin/t/contoso/backup-sets/${setId}/add-policies`, { policy_ids: policy })).status,
    ).toBe(403);
    // Refused for the role (the token was good), in words the user can read.
    expect(drift.body).toContain('Your role does not allow this action.');
    expect(await h.runCount()).toBe(before);

    // The same forgery as a form submission shows the user a readable refusal page.
    h.expectConsoleError(/status of 403/);
    const navigated = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame() });
    await page.evaluate(() => {
      const form = document.createElement('form');
      form.method = 'post';
      form.action = '/admin/t/contoso/drift/generate';
      const token = document.createElement('input');
      token.type = 'hidden';
      token.name = '_csrf';
      token.value = document.querySelector('input[name="_csrf"]').value;
      form.append(token);
      document.body.append(form);
      form.submit();
    });
    await navigated;
    await page.waitForLoadState('load');
    await ro.shot('forged-generate-403');
    await page.locator('main .error-status', { hasText: '403' }).waitFor();
    await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
    expect(await h.runCount()).toBe(before);
    await ro.visit('/admin/t/contoso/operations', 'operations-after-forgery');
    expect(await h.runCount()).toBe(before);
  }, 60_000);

  it('the same pages offer an operator enabled start controls (so the checks above can fail)', async () => {
    const op = await h.signIn('operator@example.com');
    await op.visit('/admin/t/contoso/drift', 'operator-drift');
    expect(await enabledStartControls(op.page)).toContain('/admin/t/contoso/drift/generate: Generate');
    await op.visit('/admin/t/contoso/policies', 'operator-policies');
    expect(await enabledStartControls(op.page)).toContain('/admin/t/contoso/inventory/sync: Sync now');
    await op.visit(`/admin/t/contoso/backup-sets/${setId}`, 'operator-backup-set');
    expect(await enabledStartControls(op.page)).toContain(
      `/admin/t/contoso/backup-sets/${setId}/add-policies: Add selected policies`,
    );
  }, 60_000);
});
