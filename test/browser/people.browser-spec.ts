import {
  axeViolations,
  BrowserHarness,
  horizontalOverflow,
  PHONE,
  startHarness,
  UserPage,
} from './browser-harness';

/**
 * Issue 13's pages in Chromium: a platform admin creates a tenant (a mistake shown beside its field),
 * invites a colleague and copies the link; the colleague opens it in their own browser, sets a password
 * and lands in the tenant; the admin then sees members, users and the audit logs. Each page is checked
 * with axe-core (WCAG 2.1 AA) and on a phone for sideways overflow.
 */
describe('browser: tenants, members, invitations, users and the audit log', () => {
  let h: BrowserHarness;
  let admin: UserPage;
  let link = '';

  beforeAll(async () => {
    h = await startHarness('people');
    admin = await h.signIn('admin@example.com');
  });
  afterEach(() => h.assertClean());
  afterAll(() => h?.close());

  async function accessible(user: UserPage) {
    expect(await axeViolations(user.page)).toEqual([]);
  }

  it('creates a tenant from the Tenants page, with a wrong slug shown beside its field and kept', async () => {
    await admin.clickTo(admin.page.getByRole('link', { name: 'Tenants', exact: true }), 'tenants');
    await accessible(admin);
    const form = admin.page.locator('form[action="/admin/tenants"]');
    await form.getByLabel('Slug').fill('North Wind');
    await form.getByLabel('Display name').fill('Northwind Traders');
    // A refused form answers 400, which Chromium reports on the console.
    h.expectConsoleError(/status of 400/);
    await admin.clickTo(form.getByRole('button', { name: 'Create tenant' }), 'tenant-slug-error');
    const slug = admin.page.getByLabel('Slug');
    expect(await slug.getAttribute('aria-invalid')).toBe('true');
    expect(await slug.inputValue()).toBe('North Wind');
    expect(await admin.page.getByLabel('Display name').inputValue()).toBe('Northwind Traders');
    await expectDescribedError(admin, 'Slug', /2 to 40 lower-case letters/);
    await accessible(admin);

    await slug.fill('northwind');
    await admin.clickTo(admin.page.getByRole('button', { name: 'Create tenant' }), 'tenant-created');
    expect(admin.page.url()).toMatch(/\/admin\/t\/northwind\/members$/);
    expect(await admin.page.locator('.flash').textContent()).toContain('Northwind Traders created');
  });

  it('invites a colleague and shows the link once, with a copy button', async () => {
    const form = admin.page.locator('form[action$="/members/invite"]');
    await form.getByLabel('E-mail').fill('ops1@example.com');
    await form.getByLabel('Role').selectOption('operator');
    await admin.clickTo(form.getByRole('button', { name: 'Create invitation' }), 'invitation-link');
    link = await admin.page.getByLabel('Invitation link').inputValue();
    expect(link).toMatch(/\/invite\/[A-Za-z0-9_-]{43}$/);
    await admin.context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await admin.page.getByRole('button', { name: 'Copy link' }).click();
    await admin.page.getByRole('button', { name: 'Copied' }).waitFor();
    await accessible(admin);
  });

  it('the colleague opens the link in their own browser, sets a password and lands in the tenant', async () => {
    const context = await h.browser.newContext({ baseURL: h.baseUrl });
    const page = await context.newPage();
    try {
      const res = await page.goto(new URL(link).pathname);
      expect(res?.status()).toBe(200);
      await page.screenshot({ path: `${h.screenshotDir}/invite-accept.png`, fullPage: true });
      expect(await axeViolations(page)).toEqual([]);
      await page.getByLabel('Your name').fill('Olu Ops');
      await page.getByLabel('New password').fill('ops1-password-9');
      await page.getByLabel('The same password again').fill('not-the-same-1');
      await Promise.all([
        page.waitForLoadState('load'),
        page.getByRole('button', { name: /Create my account/ }).click(),
      ]);
      await page.getByText('The two passwords differ.').waitFor();
      expect(await page.getByLabel('Your name').inputValue()).toBe('Olu Ops');
      expect(await axeViolations(page)).toEqual([]);
      await page.screenshot({ path: `${h.screenshotDir}/invite-accept-error.png`, fullPage: true });
      await page.getByLabel('New password').fill('ops1-password-9');
      await page.getByLabel('The same password again').fill('ops1-password-9');
      await Promise.all([
        page.waitForURL(/\/admin\/t\/northwind\/operations$/),
        page.getByRole('button', { name: /Create my account/ }).click(),
      ]);
      await page.screenshot({ path: `${h.screenshotDir}/invite-joined.png`, fullPage: true });
      expect(await page.locator('.nav-tenant').textContent()).toContain('operator');
    } finally {
      await context.close();
    }
  });

  it('shows the members with roles and last sign-in, on a laptop and on a phone', async () => {
    await admin.visit('/admin/t/northwind/members', 'members');
    const row = admin.page.getByRole('row', { name: /Olu Ops/ });
    expect(await row.getByLabel('Role of Olu Ops').inputValue()).toBe('operator');
    expect(await row.locator('time').count()).toBeGreaterThanOrEqual(2);
    await accessible(admin);

    const phone = await h.signIn('admin@example.com', PHONE, 'admin-phone');
    await phone.visit('/admin/t/northwind/members', 'members-phone');
    expect((await horizontalOverflow(phone.page)).offenders).toEqual([]);
    await phone.visit('/admin/users', 'users-phone');
    expect((await horizontalOverflow(phone.page)).offenders).toEqual([]);
  });

  it('changes a role in place and refuses demoting the last owner beside the role', async () => {
    const row = admin.page.getByRole('row', { name: /Olu Ops/ });
    await row.getByLabel('Role of Olu Ops').selectOption('readonly');
    await admin.clickTo(row.getByRole('button', { name: 'Change role' }), 'role-changed');
    expect(await admin.page.locator('.flash').textContent()).toContain('Olu Ops is now readonly');

    const me = admin.page.getByRole('row', { name: /Avery Admin/ });
    await me.getByLabel('Role of Avery Admin').selectOption('manager');
    h.expectConsoleError(/status of 400/);
    await admin.clickTo(me.getByRole('button', { name: 'Change role' }), 'last-owner-refused');
    await admin.page.getByRole('alert').filter({ hasText: 'is the last owner' }).waitFor();
    await accessible(admin);
  });

  it('lists users with search, and deactivates one', async () => {
    await admin.visit('/admin/users', 'users');
    await accessible(admin);
    await admin.page.getByLabel('Search by e-mail or name').fill('ops1');
    await admin.clickTo(admin.page.getByRole('button', { name: 'Search' }), 'users-search');
    expect(await admin.page.getByRole('row').count()).toBe(2);
    await admin.clickTo(
      admin.page.getByRole('button', { name: 'Deactivate ops1@example.com' }),
      'user-deactivated',
    );
    expect(await admin.page.locator('.flash').textContent()).toContain('their sessions ended');
    await accessible(admin);
  });

  it('shows the audit logs, filterable by action', async () => {
    await admin.visit('/admin/t/northwind/audit', 'audit-tenant');
    await accessible(admin);
    await admin.page.getByLabel('Action').selectOption('member.role_changed');
    await admin.clickTo(admin.page.getByRole('button', { name: 'Filter' }), 'audit-filtered');
    expect(await admin.page.locator('tbody tr').count()).toBe(1);
    expect(await admin.page.locator('tbody').textContent()).toMatch(/operator\s*→\s*readonly/);
    await admin.visit('/admin/audit', 'audit-platform');
    expect(await admin.page.locator('tbody').textContent()).toContain('user.deactivated');
    await accessible(admin);
  });
});

/** The input's error is announced with it: aria-describedby names the message element. */
async function expectDescribedError(user: UserPage, label: string, message: RegExp) {
  const ids = (await user.page.getByLabel(label).getAttribute('aria-describedby')) ?? '';
  const texts = await Promise.all(
    ids
      .split(/\s+/)
      .filter(Boolean)
      .map((id) => user.page.locator(`#${id}`).textContent()),
  );
  expect(texts.join(' ')).toMatch(message);
}
