import type { BrowserContextOptions } from 'playwright-core';
import { AccountsService } from '../../src/auth';
import { AuthService } from '../../src/auth/auth.service';
import { discoverRoutes, seedWorld, World } from '../factories/routes';
import { insertRun } from '../factories/runs';
import { DEMO_PASSWORD } from '../factories/test-app';
import {
  axeViolations,
  BrowserHarness,
  horizontalOverflow,
  PHONE,
  startHarness,
  UserPage,
} from './browser-harness';

/**
 * Issue 15's look and feel, page by page: every page of the app, as the role that uses it, on a laptop
 * (1280×800) and a phone, in the light and the dark theme (the browser's prefers-color-scheme; the
 * profile's theme is left at System). Each must pass axe-core's WCAG 2.1 A/AA rules with no violation,
 * and on a phone nothing may stick out sideways. A screenshot of each is written to
 * test-artifacts/screenshots/every-page/ for a reviewer to look at.
 *
 * The list of pages is checked against the routes the running app serves, so a page added tomorrow
 * fails here until it is visited (or named below as not a page).
 */

// Runs in Chromium; the project's type-check has no DOM lib.
declare const matchMedia: (query: string) => { matches: boolean };
declare const location: { hash: string };

type Who = 'admin' | 'readonly' | 'nobody' | 'visitor';
interface PageCase {
  name: string;
  who: Who;
  /** The route (as discovered) this visit covers. */
  route: string;
  path: (w: Seeded) => string;
  /** An error page on purpose. */
  status?: number;
}
interface Seeded extends World {
  invitePath: string;
  partialRun: number;
}

const PAGES: PageCase[] = [
  { name: 'login', who: 'visitor', route: 'GET /login', path: () => '/login' },
  {
    name: 'invite-accept',
    who: 'visitor',
    route: 'GET /invite/:token',
    path: (w) => w.invitePath,
  },
  {
    name: 'invite-unknown',
    who: 'visitor',
    route: 'GET /invite/:token',
    path: () => `/invite/${'x'.repeat(43)}`,
    status: 404,
  },
  { name: 'no-tenants', who: 'nobody', route: 'GET /admin', path: () => '/admin' },
  {
    name: 'operations',
    who: 'admin',
    route: 'GET /admin/t/:tenant/operations',
    path: () => '/admin/t/contoso/operations',
  },
  {
    name: 'operations-readonly',
    who: 'readonly',
    route: 'GET /admin/t/:tenant/operations',
    path: () => '/admin/t/contoso/operations',
  },
  {
    name: 'all-tenants-operations',
    who: 'admin',
    route: 'GET /admin/operations',
    path: () => '/admin/operations',
  },
  {
    name: 'run',
    who: 'admin',
    route: 'GET /admin/t/:tenant/operations/:id',
    path: (w) => `/admin/t/contoso/operations/${w.contoso.syncRun}`,
  },
  {
    name: 'run-partial',
    who: 'admin',
    route: 'GET /admin/t/:tenant/operations/:id',
    path: (w) => `/admin/t/contoso/operations/${w.partialRun}`,
  },
  { name: 'drift', who: 'admin', route: 'GET /admin/t/:tenant/drift', path: () => '/admin/t/contoso/drift' },
  {
    name: 'drift-findings',
    who: 'admin',
    route: 'GET /admin/t/:tenant/drift/findings',
    path: (w) => `/admin/t/contoso/drift/findings?run=${w.contoso.driftRun}`,
  },
  {
    name: 'policies',
    who: 'admin',
    route: 'GET /admin/t/:tenant/policies',
    path: () => '/admin/t/contoso/policies',
  },
  {
    name: 'policy',
    who: 'admin',
    route: 'GET /admin/t/:tenant/policies/:id',
    path: (w) => `/admin/t/contoso/policies/${w.contoso.policy}`,
  },
  {
    name: 'demo-source',
    who: 'admin',
    route: 'GET /admin/t/:tenant/demo-source',
    path: () => '/admin/t/contoso/demo-source',
  },
  {
    name: 'backup-sets',
    who: 'admin',
    route: 'GET /admin/t/:tenant/backup-sets',
    path: () => '/admin/t/contoso/backup-sets',
  },
  {
    name: 'backup-set',
    who: 'admin',
    route: 'GET /admin/t/:tenant/backup-sets/:id',
    path: (w) => `/admin/t/contoso/backup-sets/${w.contoso.set}`,
  },
  {
    name: 'backup-item',
    who: 'admin',
    route: 'GET /admin/t/:tenant/backup-sets/:id/items/:itemId',
    path: (w) => `/admin/t/contoso/backup-sets/${w.contoso.set}/items/${w.contoso.item}`,
  },
  {
    name: 'notifications',
    who: 'admin',
    route: 'GET /admin/notifications',
    path: () => '/admin/notifications',
  },
  { name: 'profile', who: 'admin', route: 'GET /admin/profile', path: () => '/admin/profile' },
  { name: 'help', who: 'admin', route: 'GET /admin/help', path: () => '/admin/help' },
  {
    name: 'members-invitations',
    who: 'admin',
    route: 'GET /admin/t/:tenant/members',
    path: () => '/admin/t/contoso/members',
  },
  {
    name: 'tenant-audit',
    who: 'admin',
    route: 'GET /admin/t/:tenant/audit',
    path: () => '/admin/t/contoso/audit',
  },
  {
    name: 'connection',
    who: 'admin',
    route: 'GET /admin/t/:tenant/connection',
    path: () => '/admin/t/contoso/connection',
  },
  { name: 'tenants-admin', who: 'admin', route: 'GET /admin/tenants', path: () => '/admin/tenants' },
  {
    name: 'tenant-edit',
    who: 'admin',
    route: 'GET /admin/tenants/:slug/edit',
    path: () => '/admin/tenants/contoso/edit',
  },
  { name: 'users-admin', who: 'admin', route: 'GET /admin/users', path: () => '/admin/users' },
  { name: 'platform-audit', who: 'admin', route: 'GET /admin/audit', path: () => '/admin/audit' },
  {
    name: 'not-found',
    who: 'admin',
    route: '(any unknown path)',
    path: () => '/admin/t/contoso/operations/999999999',
    status: 404,
  },
];

/** GET routes that are not pages of their own: redirects, fragments of a page, files, JSON, probes. */
const NOT_PAGES: Record<string, string> = {
  'GET /': 'redirects to /admin',
  'GET /admin/t/:tenant': 'redirects to the tenant’s operations',
  'GET /admin/runs/:id': 'redirects to the run’s page in its tenant',
  'GET /admin/t/:tenant/operations/rows': 'htmx fragment of the Operations list',
  'GET /admin/t/:tenant/operations/chart': 'htmx fragment of the Operations chart',
  'GET /admin/t/:tenant/operations/:id/live': 'htmx fragment of the run page',
  'GET /admin/notifications/bell': 'htmx fragment of the top bar',
  'GET /admin/t/:tenant/exports/:id': 'a file download',
  'GET /admin/t/:tenant/operations/export.csv': 'a CSV download',
  'GET /admin/operations/export.csv': 'a CSV download',
  'GET /admin/t/:tenant/policies/export.csv': 'a CSV download',
  'GET /admin/t/:tenant/drift/findings/export.csv': 'a CSV download',
  'MOUNT /admin/queues': 'Bull Board, a third-party app',
};
const NOT_PAGE_PREFIXES = [/^(GET|MOUNT) \/api\//, /^GET \/(healthz|readyz|metrics)$/];

const SIZES: Array<[string, BrowserContextOptions]> = [
  ['laptop', { viewport: { width: 1280, height: 800 } }],
  // Phone screenshots at 1× keep the run short; the layout is the same as at 2×.
  ['phone', { ...PHONE, deviceScaleFactor: 1 }],
];
const THEMES = ['light', 'dark'] as const;

describe('browser: every page at two sizes in two themes, with no WCAG 2.1 AA violation', () => {
  let h: BrowserHarness;
  let seeded: Seeded;

  beforeAll(async () => {
    h = await startHarness('every-page');
    const world = await seedWorld(h.t, { size: 40 });
    // A run of each remaining bucket, so every badge colour is on the Operations list.
    const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000);
    const run = (status: 'completed_with_errors' | 'failed' | 'aborted', minutesAgo: number) =>
      insertRun(h.t.dataSource, {
        tenantId: world.contoso.tenantId,
        userId: world.adminId,
        type: 'inventory.sync',
        status,
        createdAt: at(minutesAgo),
        total: 4,
        succeeded: status === 'completed_with_errors' ? 3 : 0,
        failed: status === 'aborted' ? 0 : 1,
        payload: { source: 'demo' },
      });
    const partialRun = await run('completed_with_errors', 90);
    await run('failed', 120);
    await run('aborted', 150);
    const link = await h.t
      .get<AccountsService>(AccountsService)
      .invite(world.contoso.tenantId, 'new.colleague@example.com', 'operator', { id: world.adminId });
    await h.t.get<AuthService>(AuthService).createUser({
      email: 'nobody@example.com',
      name: 'No Tenants Yet',
      password: DEMO_PASSWORD,
    });
    seeded = { ...world, partialRun, invitePath: new URL(link.url).pathname };
  });
  afterEach(() => h.assertClean());
  afterAll(() => h?.close());

  it('visits every page the app serves (the list below is checked against its routes)', () => {
    const covered = new Set(PAGES.map((p) => p.route));
    const missing = discoverRoutes(h.t)
      .filter((r) => r.method === 'GET' || r.method === 'MOUNT')
      .map((r) => r.key)
      .filter((k) => !covered.has(k) && !(k in NOT_PAGES) && !NOT_PAGE_PREFIXES.some((re) => re.test(k)));
    expect(missing).toEqual([]);
  });

  describe.each(SIZES)('%s', (size, sizeOptions) => {
    describe.each(THEMES)('%s', (theme) => {
      const users = new Map<Who, UserPage>();
      const as = async (who: Who): Promise<UserPage> => {
        let user = users.get(who);
        if (!user) {
          const options: BrowserContextOptions = { ...sizeOptions, colorScheme: theme };
          if (who === 'admin' || who === 'readonly') {
            user = await h.signIn(`${who}@example.com`, options, `${size}-${theme}-${who}`);
          } else {
            user = await h.visitor(options);
            if (who === 'nobody') {
              // Signed in by hand: with no tenant there is no Operations page to land on.
              await user.visit('/login', `${size}-${theme}-nobody-login`);
              await user.page.getByLabel('E-mail').fill('nobody@example.com');
              await user.page.getByLabel('Password').fill(DEMO_PASSWORD);
              await user.clickTo(
                user.page.getByRole('button', { name: 'Sign in' }),
                `${size}-${theme}-nobody-in`,
              );
            }
          }
          users.set(who, user);
        }
        return user;
      };

      it.each(PAGES.map((p) => [p.name, p] as const))('%s', async (_name, p) => {
        const user = await as(p.who);
        if (p.status) h.expectConsoleError(new RegExp(`status of ${p.status}`));
        await user.visit(p.path(seeded), `${size}-${theme}-${p.name}`, p.status);
        expect(await user.page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches)).toBe(
          theme === 'dark',
        );
        expect(await axeViolations(user.page)).toEqual([]);
        if (size === 'phone') expect((await horizontalOverflow(user.page)).offenders).toEqual([]);
      });
    });
  });

  describe('the parts every page shares', () => {
    let laptop: UserPage;
    beforeAll(async () => {
      laptop = await h.signIn(
        'operator@example.com',
        { viewport: { width: 1280, height: 800 } },
        'shared-operator',
      );
    });

    it('starts with a "Skip to content" link that moves the focus to the page’s main part', async () => {
      const { page } = laptop;
      await laptop.visit('/admin/t/contoso/operations', 'shared-skip-link');
      await page.keyboard.press('Tab');
      const skip = page.getByRole('link', { name: 'Skip to content' });
      await expect(
        skip.evaluate(
          (el) =>
            el ===
            (el as unknown as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement,
        ),
      ).resolves.toBe(true);
      expect(await skip.isVisible()).toBe(true);
      await laptop.shot('shared-skip-link-focused');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => location.hash === '#main');
      await laptop.shot('shared-skipped');
    });

    it('Escape closes the tenant or user menu; a click elsewhere closes it and still does what it was for', async () => {
      const { page } = laptop;
      await laptop.visit('/admin/t/contoso/operations', 'shared-menus');
      const switcher = page.locator('details.tenant-switcher');
      const userMenu = page.locator('details.user-menu');
      await switcher.locator('summary').click();
      expect(await switcher.getAttribute('open')).not.toBeNull();
      await page.keyboard.press('Escape');
      expect(await switcher.getAttribute('open')).toBeNull();
      expect(
        await switcher
          .locator('summary')
          .evaluate(
            (el) =>
              el ===
              (el as unknown as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement,
          ),
      ).toBe(true);

      // From one menu straight to the other: one click, and only the new one is open.
      await switcher.locator('summary').click();
      await userMenu.locator('summary').click();
      expect(await switcher.getAttribute('open')).toBeNull();
      expect(await userMenu.getAttribute('open')).not.toBeNull();
      await laptop.shot('shared-user-menu-open');

      // A link elsewhere is followed at the first click, and the menu is closed on the way.
      await laptop.clickTo(
        page.locator('nav.sidenav').getByRole('link', { name: 'Help' }),
        'shared-help-after-menu',
      );
      expect(page.url()).toMatch(/\/admin\/help$/);
      await userMenu.locator('summary').click();
      await page.locator('main h1').click();
      expect(await userMenu.getAttribute('open')).toBeNull();
    });

    it('on a phone the navigation is a menu that opens, closes with Escape and fits the screen', async () => {
      const phone = await h.signIn('operator@example.com', PHONE, 'shared-phone');
      const { page } = phone;
      const help = page.locator('nav.sidenav').getByRole('link', { name: 'Help' });
      expect(await help.isVisible()).toBe(false);
      const menu = page.getByText('Menu', { exact: true });
      await menu.click();
      await help.waitFor({ state: 'visible' });
      await phone.shot('shared-phone-menu-open');
      expect((await horizontalOverflow(page)).offenders).toEqual([]);
      expect(await axeViolations(page)).toEqual([]);
      await page.keyboard.press('Escape');
      await help.waitFor({ state: 'hidden' });
      await menu.click();
      await phone.clickTo(help, 'shared-phone-help');
      expect(await page.locator('nav.sidenav').getByRole('link', { name: 'Help' }).isVisible()).toBe(false);
    });

    it('keeps a theme and a time zone chosen on the profile: a wrong zone is shown beside its field, kept', async () => {
      const { page } = laptop;
      await laptop.visit('/admin/profile', 'shared-profile');
      expect(await page.locator('html').getAttribute('data-theme')).toBeNull();
      const form = page.locator('form[action="/admin/profile/preferences"]');
      await form.getByLabel('Dark').check();
      await form.getByLabel('Time zone').fill('Mars/Olympus');
      h.expectConsoleError(/status of 400/);
      await laptop.clickTo(
        form.getByRole('button', { name: 'Save display preferences' }),
        'shared-zone-error',
      );
      const zone = page.getByLabel('Time zone');
      expect(await zone.inputValue()).toBe('Mars/Olympus');
      expect(await zone.getAttribute('aria-invalid')).toBe('true');
      const described = (await zone.getAttribute('aria-describedby'))!.split(' ')[0];
      expect(await page.locator(`#${described}`).textContent()).toMatch(/not a time zone/);
      expect(await page.getByLabel('Dark').isChecked()).toBe(true);
      expect(await page.locator('html').getAttribute('data-theme')).toBeNull();
      expect(await axeViolations(page)).toEqual([]);

      await zone.fill('europe/berlin');
      await laptop.clickTo(page.getByRole('button', { name: 'Save display preferences' }), 'shared-saved');
      expect(await page.locator('.flash').textContent()).toContain('Display preferences saved');
      expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');
      expect(await page.getByLabel('Time zone').inputValue()).toBe('Europe/Berlin');
      expect(await axeViolations(page)).toEqual([]);

      await laptop.visit('/admin/t/contoso/operations', 'shared-dark-local-times');
      expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');
      const title = await page.locator('main time[title]').first().getAttribute('title');
      expect(title).toMatch(
        /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d Europe\/Berlin · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/,
      );

      await laptop.visit('/admin/profile', 'shared-profile-again');
      await page.getByLabel('Light').check();
      await page.getByLabel('Time zone').fill('');
      await laptop.clickTo(page.getByRole('button', { name: 'Save display preferences' }), 'shared-light');
      expect(await page.locator('html').getAttribute('data-theme')).toBe('light');
      await laptop.visit('/admin/t/contoso/operations', 'shared-utc-only');
      expect(await page.locator('main time[title]').first().getAttribute('title')).toMatch(
        /^[\d-]+ [\d:]+ UTC$/,
      );
    });
  });
});
