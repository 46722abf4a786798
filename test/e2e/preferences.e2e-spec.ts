import { decodeHtml } from '../factories/flows';
import { insertRun } from '../factories/runs';
import { createTestApp, login, Session, TestApp } from '../factories/test-app';

/**
 * Display preferences on the profile (issue 15): a theme (System / Light / Dark) and an IANA time zone,
 * stored per user, validated with a message beside the field and what was typed kept, and shown on the
 * very next page — the auth version moves on, so no process keeps a principal with the old ones.
 */

async function save(s: Session, fields: Record<string, string>) {
  return s.agent
    .post('/admin/profile/preferences')
    .type('form')
    .send({ _csrf: await s.csrf(), ...fields });
}

describe('profile: theme and time zone', () => {
  let t: TestApp;
  let operator: Session;
  let operatorId: number;

  const authVersion = async () =>
    Number((await t.dataSource.query('SELECT auth_version AS v FROM users WHERE id = ?', [operatorId]))[0].v);
  const stored = async () =>
    (await t.dataSource.query('SELECT theme, timezone FROM users WHERE id = ?', [operatorId]))[0] as {
      theme: string;
      timezone: string | null;
    };

  beforeAll(async () => {
    t = await createTestApp();
    operator = await login(t, 'operator@example.com');
    operatorId = Number(
      (await t.dataSource.query('SELECT id FROM users WHERE email = ?', ['operator@example.com']))[0].id,
    );
  });
  afterAll(() => t?.close());

  it('starts on System (the device decides) and UTC only', async () => {
    expect(await stored()).toEqual({ theme: 'system', timezone: null });
    const html = (await operator.agent.get('/admin/profile').expect(200)).text;
    expect(html).toMatch(/<html lang="en">/);
    expect(html).toMatch(/<input type="radio" name="theme" value="system" checked>/);
  });

  it('refuses a time zone Intl does not know, beside the field, keeping what was typed and chosen', async () => {
    const before = await authVersion();
    const res = await save(operator, { theme: 'dark', timezone: 'Mars/Olympus' });
    expect(res.status).toBe(400);
    const html = decodeHtml(res.text);
    expect(html).toContain('id="e-timezone"');
    expect(html).toMatch(/"Mars\/Olympus" is not a time zone/);
    expect(html).toMatch(/name="timezone" value="Mars\/Olympus"/);
    expect(html).toMatch(/value="dark" checked/);
    expect(await stored()).toEqual({ theme: 'system', timezone: null });
    expect(await authVersion()).toBe(before);
  });

  it('refuses a theme that is not offered', async () => {
    const res = await save(operator, { theme: 'solarized', timezone: '' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('Choose System, Light or Dark.');
  });

  it('saves a theme and a zone; the next page is dark and shows local time beside UTC', async () => {
    const before = await authVersion();
    const res = await save(operator, { theme: 'dark', timezone: 'america/new_york' });
    expect(res.status).toBe(303);
    expect(await stored()).toEqual({ theme: 'dark', timezone: 'America/New_York' });
    expect(await authVersion()).toBe(before + 1);
    // A token, so the profile has a time on it.
    await operator.agent
      .post('/admin/profile/tokens')
      .type('form')
      .send({ _csrf: await operator.csrf(), name: 'zone check' })
      .expect(303);
    const html = decodeHtml((await operator.agent.get('/admin/profile').expect(200)).text);
    expect(html).toMatch(/<html lang="en" data-theme="dark">/);
    expect(html).toMatch(/title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d America\/New_York · [\d-]+ [\d:]+ UTC"/);
    // A run's page says when it was queued, started and finished as text: local time, then UTC.
    const contoso = Number((await t.dataSource.query("SELECT id FROM tenants WHERE slug = 'contoso'"))[0].id);
    const runId = await insertRun(t.dataSource, {
      tenantId: contoso,
      type: 'inventory.sync',
      status: 'completed',
      createdAt: new Date('2026-07-01T12:00:00Z'),
      succeeded: 1,
    });
    const run = decodeHtml(
      (await operator.agent.get(`/admin/t/contoso/operations/${runId}`).expect(200)).text,
    );
    for (const label of ['Queued', 'Started', 'Finished'])
      expect(run).toMatch(
        new RegExp(
          `<dt>${label}</dt><dd><time[^>]*>[^<]+</time> \\(2026-07-01 08:00:00 America/New_York · 2026-07-01 12:00:00 UTC\\)</dd>`,
        ),
      );
  });

  it('goes back to the device’s theme and UTC only', async () => {
    expect((await save(operator, { theme: 'system', timezone: '' })).status).toBe(303);
    expect(await stored()).toEqual({ theme: 'system', timezone: null });
    const html = (await operator.agent.get('/admin/profile').expect(200)).text;
    expect(html).toMatch(/<html lang="en">/);
  });
});
