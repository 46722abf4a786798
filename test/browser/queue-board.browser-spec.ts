import { BrowserHarness, startHarness } from './browser-harness';

/**
 * The Bull board in Chromium, under the app's CSP: it loads with no console error (it used to ask
 * Google Fonts for its typeface: two CSP errors a load) and its menu leads back to the hub. To anyone
 * but platform ops it is the app's own 404 page.
 */
describe('browser: the Bull board', () => {
  let h: BrowserHarness;

  beforeAll(async () => {
    h = await startHarness('queue-board');
  });
  afterAll(() => h?.close());
  afterEach(() => h.assertClean());

  it('loads for platform ops without a CSP error and links back to the hub', async () => {
    const ops = await h.signIn('admin@example.com');
    const fonts: string[] = [];
    ops.page.on('request', (r) => {
      if (/fonts\.(googleapis|gstatic)\.com/.test(r.url())) fonts.push(r.url());
    });
    await ops.page.goto(`${h.baseUrl}/admin/queues`);
    await ops.page.locator('header').getByText('Operations Hub').waitFor();
    await ops.page.getByText('inventory').first().waitFor();
    await ops.page.waitForLoadState('networkidle');
    await ops.shot('board');
    expect(fonts).toEqual([]);
    // The board's menu (its last header button) holds the link back.
    await ops.page.locator('header ul li').last().locator('button').click();
    const back = ops.page.getByRole('menuitem', { name: 'Back to the hub' });
    await back.waitFor();
    expect(await back.getAttribute('href')).toBe('/admin');
    await ops.shot('board-menu');
    await Promise.all([ops.page.waitForURL(/\/admin\/t\/[a-z0-9-]+\/operations$/), back.click()]);
    await ops.shot('back-in-the-hub');
  });

  it("is the app's styled 404 page for an operator", async () => {
    const operator = await h.signIn('operator@example.com');
    h.expectConsoleError(/404/);
    const res = await operator.page.goto(`${h.baseUrl}/admin/queues`);
    expect(res?.status()).toBe(404);
    await operator.shot('board-404');
    await operator.page.getByRole('heading', { name: 'Not found' }).waitFor();
    await operator.page.getByRole('navigation', { name: 'Main' }).waitFor();
    await operator.page.getByRole('button', { name: 'Back to operations' }).waitFor();
  });
});
