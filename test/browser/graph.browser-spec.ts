import { addFixtureTenant, SimTenantHandle } from '../graph-sim/app-harness';
import { GraphSimulator } from '../graph-sim/simulator';
import { TenantsService } from '../../src/tenants';
import {
  axeViolations,
  BrowserHarness,
  horizontalOverflow,
  PHONE,
  startHarness,
  UserPage,
} from './browser-harness';

/**
 * The Microsoft connection page in Chromium, against the HTTPS Graph simulator: a mistake shown beside
 * its field with what was typed kept (but never the secret), the saved secret shown only as "set",
 * and "Test connection" filling in the result per policy type without a reload.
 */
describe('browser: connecting a tenant to Microsoft Graph', () => {
  let sim: GraphSimulator;
  let h: BrowserHarness;
  let owner: UserPage;
  let tenant: SimTenantHandle;

  beforeAll(async () => {
    sim = await GraphSimulator.start();
    tenant = addFixtureTenant(sim);
    h = await startHarness('graph', {
      env: {
        GRAPH_AUTHORITY_HOST: sim.authorityHost,
        GRAPH_BASE_URL: sim.graphBaseUrl,
        GRAPH_CA_FILE: sim.caFile,
        GRAPH_BACKOFF_MS: '20',
      },
    });
    const tenants = h.t.get<TenantsService>(TenantsService);
    const contoso = (await tenants.findBySlug('contoso'))!;
    await tenants.update(
      contoso.id,
      { name: contoso.name, microsoftTenantId: tenant.tenantId, notes: null },
      { id: null },
    );
    owner = await h.signIn('admin@example.com');
  });
  afterEach(() => h.assertClean());
  afterAll(async () => {
    await h?.close();
    await sim?.stop();
  });

  it('refuses a bad client id beside its field, keeping what was typed but not the secret', async () => {
    await owner.clickTo(owner.page.getByRole('link', { name: 'Microsoft connection' }), 'connection-empty');
    expect(await axeViolations(owner.page)).toEqual([]);
    await owner.page.getByLabel('Policies come from').selectOption('graph');
    await owner.page.getByLabel('Application (client) id').fill('not-a-guid');
    await owner.page.getByLabel('Client secret (value)').fill(tenant.clientSecret);
    await owner.page.getByLabel('Secret expires on').fill('2099-12-31');
    h.expectConsoleError(/status of 400/);
    await owner.clickTo(owner.page.getByRole('button', { name: 'Save connection' }), 'connection-error');
    const clientId = owner.page.getByLabel('Application (client) id');
    expect(await clientId.getAttribute('aria-invalid')).toBe('true');
    expect(await clientId.inputValue()).toBe('not-a-guid');
    expect(await owner.page.getByLabel('Client secret (value)').inputValue()).toBe('');
    expect(await owner.page.content()).not.toContain(tenant.clientSecret);
    expect(await axeViolations(owner.page)).toEqual([]);
  });

  it('saves the connection, shows the secret only as set, and tests it live', async () => {
    await owner.page.getByLabel('Application (client) id').fill(tenant.clientId);
    await owner.page.getByLabel('Client secret (value)').fill(tenant.clientSecret);
    await owner.page.getByLabel('Secret expires on').fill('2099-12-31');
    await owner.clickTo(owner.page.getByRole('button', { name: 'Save connection' }), 'connection-saved');
    expect(await owner.page.locator('.flash').textContent()).toContain('Connection saved');
    expect(await owner.page.content()).not.toContain(tenant.clientSecret);
    expect(await owner.page.locator('dl.facts').textContent()).toMatch(/Client secret, set/);

    await owner.clickTo(owner.page.getByRole('button', { name: 'Test connection' }), 'connection-testing');
    // The result arrives without a reload.
    await owner.page.locator('.badge-succeeded', { hasText: 'readable' }).nth(9).waitFor();
    await owner.shot('connection-tested');
    expect(await owner.page.locator('.badge-succeeded', { hasText: 'readable' }).count()).toBe(10);
    expect(await axeViolations(owner.page)).toEqual([]);
  });

  it('reads well on a phone', async () => {
    const phone = await h.signIn('admin@example.com', PHONE, 'admin-phone');
    await phone.visit('/admin/t/contoso/connection', 'connection-phone');
    expect((await horizontalOverflow(phone.page)).offenders).toEqual([]);
  });
});
