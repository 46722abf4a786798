import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import request from 'supertest';
import TestAgent from 'supertest/lib/agent';
import { AccountsService, AuthService } from '../../src/auth';
import { TenantsService } from '../../src/tenants';
import { decodeHtml } from '../factories/flows';
import {
  createTestApp,
  csrfFrom,
  DEMO_PASSWORD,
  heardAll,
  login,
  Session,
  TestApp,
} from '../factories/test-app';

/**
 * Real tenants and people (issue 13), on an empty database without the demo: the first platform admin
 * from a set-password link, a tenant, an invited colleague, role changes and deactivation taking
 * effect on the very next request, and the audit log of all of it, without a secret anywhere.
 */

const NEW_PASSWORD = 'northwind-pass-1';

/** A browser without a session: it gets its CSRF token from the page it opens, as a person would. */
function visitor(t: TestApp): TestAgent {
  return request.agent(t.server);
}

/** Opens a link (absolute, from PUBLIC_URL) in a browser and submits its form; returns the answer. */
async function useLink(agent: TestAgent, url: string, fields: Record<string, string>) {
  const path = new URL(url).pathname;
  const page = await agent.get(path);
  if (page.status !== 200) return page;
  return agent
    .post(path)
    .type('form')
    .send({ _csrf: csrfFrom(page.text), ...fields });
}

async function post(s: Session, path: string, fields: Record<string, string> = {}) {
  return s.agent
    .post(path)
    .type('form')
    .send({ _csrf: await s.csrf(), ...fields });
}

function sessionOf(agent: TestAgent): Session {
  return { agent, csrf: async () => csrfFrom((await agent.get('/admin/profile').expect(200)).text) };
}

async function count(t: TestApp, sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await t.dataSource.query(sql, params);
  return Number(row.n);
}

describe('people: a first admin, a tenant and a colleague, without the demo', () => {
  let t: TestApp;
  let accounts: AccountsService;
  let boss: Session;
  let ops1: Session;
  let ops1Token: string;
  let inviteUrl: string;
  const secrets: string[] = [NEW_PASSWORD, 'ops1-password-9'];

  beforeAll(async () => {
    t = await createTestApp({ env: { DEMO_SEED: 'false', PUBLIC_URL: 'https://hub.example.test' } });
    accounts = t.get<AccountsService>(AccountsService);
  });
  afterAll(() => t?.close());

  it('starts empty and says on /login how to create the first platform admin', async () => {
    expect(await count(t, 'SELECT COUNT(*) AS n FROM users')).toBe(0);
    const page = await request(t.server).get('/login').expect(200);
    expect(page.text).toContain('No account exists yet');
    expect(page.text).toContain('npm run cli -- create-admin --email');
  });

  it('create-admin gives a one-time set-password link; setting the password there signs in', async () => {
    const { user, link } = await accounts.createAdmin('Boss@Example.com');
    expect(user.email).toBe('boss@example.com');
    expect(user.isOps).toBe(true);
    expect(link.url).toMatch(/^https:\/\/hub\.example\.test\/invite\/[A-Za-z0-9_-]{43}$/);
    secrets.push(link.url.split('/invite/')[1]);

    const agent = visitor(t);
    // A mistake is shown beside the field, with the name kept and no password typed back.
    const bad = await useLink(agent, link.url, {
      name: 'Bo Boss',
      password: NEW_PASSWORD,
      password_confirmation: 'something-else-1',
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/id="e-password_confirmation">The two passwords differ/);
    expect(bad.text).toContain('value="Bo Boss"');
    expect(bad.text).not.toContain(NEW_PASSWORD);

    const ok = await useLink(agent, link.url, {
      name: 'Bo Boss',
      password: NEW_PASSWORD,
      password_confirmation: NEW_PASSWORD,
    });
    expect(ok.status).toBe(303);
    boss = sessionOf(agent);
    const home = await agent.get('/admin').expect(200);
    expect(home.text).toContain('Bo Boss');

    // The link worked once.
    const again = await visitor(t).get(new URL(link.url).pathname);
    expect(again.status).toBe(410);
    expect(again.text).toContain('This link has been used already');
    // And the new password signs in.
    await login(t, 'boss@example.com', NEW_PASSWORD);
  });

  it('refuses a bad slug, a duplicate slug and a duplicate Microsoft tenant id beside the field, creating nothing', async () => {
    const bad = await post(boss, '/admin/tenants', { slug: 'North Wind', name: 'Northwind' });
    expect(bad.status).toBe(400);
    expect(decodeHtml(bad.text)).toMatch(/id="e-slug">A slug is 2 to 40 lower-case letters/);
    expect(bad.text).toContain('value="North Wind"');
    expect(await count(t, 'SELECT COUNT(*) AS n FROM tenants')).toBe(0);

    const guid = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
    const created = await post(boss, '/admin/tenants', {
      slug: 'northwind',
      name: 'Northwind Traders',
      microsoft_tenant_id: guid.toUpperCase(),
    });
    expect(created.status).toBe(303);
    expect(created.headers.location).toBe('/admin/t/northwind/members');
    const northwind = await t.get<TenantsService>(TenantsService).findBySlug('northwind');
    expect(northwind?.microsoftTenantId).toBe(guid);

    const dupSlug = await post(boss, '/admin/tenants', { slug: 'northwind', name: 'Again' });
    expect(dupSlug.status).toBe(400);
    expect(decodeHtml(dupSlug.text)).toMatch(/id="e-slug">The slug "northwind" is taken/);
    const dupMs = await post(boss, '/admin/tenants', {
      slug: 'northwind-2',
      name: 'Again',
      microsoft_tenant_id: guid,
    });
    expect(dupMs.status).toBe(400);
    expect(decodeHtml(dupMs.text)).toMatch(
      /id="e-microsoft_tenant_id">This Microsoft tenant is already connected as "Northwind Traders"/,
    );
    const badMs = await post(boss, '/admin/tenants', {
      slug: 'northwind-3',
      name: 'Again',
      microsoft_tenant_id: 'not a tenant',
    });
    expect(badMs.status).toBe(400);
    expect(await count(t, 'SELECT COUNT(*) AS n FROM tenants')).toBe(1);

    // A second tenant ops1 will never belong to.
    expect((await post(boss, '/admin/tenants', { slug: 'contoso-x', name: 'Contoso X' })).status).toBe(303);
  });

  it('invites ops1 as operator: the link is shown once; a role outside the four is refused', async () => {
    const badRole = await post(boss, '/admin/t/northwind/members/invite', {
      email: 'ops1@example.com',
      role: 'superuser',
    });
    expect(badRole.status).toBe(400);
    expect(badRole.text).toMatch(/id="e-role">Choose one of the roles: owner, manager, operator, readonly/);
    expect(badRole.text).toContain('value="ops1@example.com"');
    const badEmail = await post(boss, '/admin/t/northwind/members/invite', {
      email: 'nope',
      role: 'operator',
    });
    expect(badEmail.status).toBe(400);
    expect(await count(t, 'SELECT COUNT(*) AS n FROM invitations WHERE tenant_id IS NOT NULL')).toBe(0);

    const res = await post(boss, '/admin/t/northwind/members/invite', {
      email: 'ops1@example.com',
      role: 'operator',
    });
    expect(res.status).toBe(303);
    const page = decodeHtml((await boss.agent.get('/admin/t/northwind/members').expect(200)).text);
    const m = /value="(https:\/\/hub\.example\.test\/invite\/[A-Za-z0-9_-]{43})"/.exec(page);
    expect(m).not.toBeNull();
    inviteUrl = m![1];
    secrets.push(inviteUrl.split('/invite/')[1]);
    expect(page).toContain('E-mail is not set up');
    expect(page).toContain('Pending invitations');
    // Shown once: the next view lists the invitation, not the link.
    const later = (await boss.agent.get('/admin/t/northwind/members').expect(200)).text;
    expect(later).not.toContain(inviteUrl.split('/invite/')[1]);
    expect(later).toContain('ops1@example.com');
    // Only the hash is stored.
    const [row] = await t.dataSource.query(
      "SELECT token_hash FROM invitations WHERE email = 'ops1@example.com'",
    );
    expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.token_hash).not.toBe(inviteUrl.split('/invite/')[1]);
  });

  it('a tampered, expired or used link is one clear page and makes no account', async () => {
    const token = inviteUrl.split('/invite/')[1];
    const tampered = `/invite/${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    const users = await count(t, 'SELECT COUNT(*) AS n FROM users');
    const a = visitor(t);
    const page = await a.get(tampered);
    expect(page.status).toBe(404);
    expect(page.text).toContain('This link is not valid');
    const csrf = csrfFrom((await a.get('/login')).text);
    const forged = await a
      .post(tampered)
      .type('form')
      .send({ _csrf: csrf, name: 'X', password: 'long-enough-1', password_confirmation: 'long-enough-1' });
    expect(forged.status).toBe(404);
    expect(
      await visitor(t)
        .get('/invite/short')
        .then((r) => r.status),
    ).toBe(404);

    // An expired one: its row says so.
    const expired = await accounts.invite(
      (await t.get<TenantsService>(TenantsService).findBySlug('northwind'))!.id,
      'late@example.com',
      'readonly',
      { id: null },
    );
    await t.dataSource.query(
      "UPDATE invitations SET expires_at = created_at WHERE email = 'late@example.com'",
    );
    const late = await useLink(visitor(t), expired.url, {
      name: 'Late',
      password: 'long-enough-1',
      password_confirmation: 'long-enough-1',
    });
    expect(late.status).toBe(410);
    expect(late.text).toContain('This link has expired');
    expect(await count(t, 'SELECT COUNT(*) AS n FROM users')).toBe(users);
  });

  it('ops1 sets a password from the link, and starts an inventory sync in northwind only', async () => {
    const agent = visitor(t);
    const open = await agent.get(new URL(inviteUrl).pathname).expect(200);
    expect(open.headers['referrer-policy']).toBe('no-referrer');
    expect(open.text).toContain('Join Northwind Traders');
    const res = await useLink(agent, inviteUrl, {
      name: 'Olu Ops',
      password: 'ops1-password-9',
      password_confirmation: 'ops1-password-9',
    });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/admin/t/northwind/operations');
    ops1 = sessionOf(agent);

    const start = await post(ops1, '/admin/t/northwind/inventory/sync');
    expect(start.status).toBe(303);
    expect(await count(t, "SELECT COUNT(*) AS n FROM operation_runs WHERE action = 'sync'")).toBe(1);
    for (const path of [
      '/admin/t/contoso-x/operations',
      '/admin/t/contoso-x/policies',
      '/admin/t/contoso-x/members',
      '/admin/t/nowhere/operations',
    ])
      expect((await agent.get(path)).status).toBe(404);
    expect((await post(ops1, '/admin/t/contoso-x/inventory/sync')).status).toBe(404);
    // Operators see their own role, not the member list; no platform pages.
    expect((await agent.get('/admin/t/northwind/members')).status).toBe(403);
    expect((await agent.get('/admin/users')).status).toBe(403);
    expect((await agent.get('/admin/tenants')).status).toBe(403);

    const created = await post(ops1, '/admin/profile/tokens', { name: 'ops1 cli' });
    expect(created.status).toBe(303);
    ops1Token = /<code>(ohub_[A-Za-z0-9_-]+)<\/code>/.exec((await agent.get('/admin/profile')).text)![1];
    secrets.push(ops1Token);
    await request(t.server)
      .get('/api/v1/tenants/northwind/runs')
      .set('Authorization', `Bearer ${ops1Token}`)
      .expect(200);
  });

  it('inviting someone who is a member already is refused beside the e-mail', async () => {
    const res = await post(boss, '/admin/t/northwind/members/invite', {
      email: 'OPS1@example.com',
      role: 'manager',
    });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/id="e-email">ops1@example.com is already a member of Northwind Traders/);
  });

  it('demoting ops1 to readonly takes effect on their very next POST: 403, no run', async () => {
    const ops1Id = (await t.get<AuthService>(AuthService).findByEmail('ops1@example.com'))!.id;
    const res = await post(boss, `/admin/t/northwind/members/${ops1Id}/role`, { role: 'readonly' });
    expect(res.status).toBe(303);
    const runs = await count(t, 'SELECT COUNT(*) AS n FROM operation_runs');
    const start = await post(ops1, '/admin/t/northwind/inventory/sync');
    expect(start.status).toBe(403);
    expect(await count(t, 'SELECT COUNT(*) AS n FROM operation_runs')).toBe(runs);
    // The page says why the button is off.
    const ops = await ops1.agent.get('/admin/t/northwind/operations').expect(200);
    expect(ops.text).toContain('(readonly) can view runs but not change or start anything');
  });

  it('the last owner can be neither removed nor demoted', async () => {
    const bossId = (await t.get<AuthService>(AuthService).findByEmail('boss@example.com'))!.id;
    const remove = await post(boss, `/admin/t/northwind/members/${bossId}/remove`);
    expect(remove.status).toBe(400);
    expect(remove.text).toContain('is the last owner of this tenant: make someone else an owner first');
    const demote = await post(boss, `/admin/t/northwind/members/${bossId}/role`, { role: 'manager' });
    expect(demote.status).toBe(400);
    expect(demote.text).toMatch(/role-error-\d+" role="alert">boss@example.com is the last owner/);
    expect(
      await t
        .get<TenantsService>(TenantsService)
        .roleOf((await t.get<TenantsService>(TenantsService).findBySlug('northwind'))!.id, bossId),
    ).toBe('owner');
  });

  it('deactivating ops1 refuses their open session and API token on the very next request', async () => {
    const ops1Id = (await t.get<AuthService>(AuthService).findByEmail('ops1@example.com'))!.id;
    // Their session works right before.
    await ops1.agent.get('/admin/t/northwind/operations').expect(200);
    const res = await post(boss, `/admin/users/${ops1Id}/deactivate`);
    expect(res.status).toBe(303);
    const page = await ops1.agent.get('/admin/t/northwind/operations');
    expect(page.status).toBe(302);
    expect(page.headers.location).toMatch(/^\/login\?next=/);
    const api = await request(t.server)
      .get('/api/v1/tenants/northwind/runs')
      .set('Authorization', `Bearer ${ops1Token}`);
    expect(api.status).toBe(401);
    expect(await count(t, 'SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?', [ops1Id])).toBe(0);
    // Their password no longer signs in, with a reason.
    const a = visitor(t);
    const form = await a.get('/login');
    const signIn = await a
      .post('/login')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), email: 'ops1@example.com', password: 'ops1-password-9' });
    expect(signIn.status).toBe(403);
    expect(signIn.text).toContain('This account is deactivated');
  });

  it('never lets the platform lose its last admin, and nobody deactivates themselves', async () => {
    const bossId = (await t.get<AuthService>(AuthService).findByEmail('boss@example.com'))!.id;
    const unmake = await post(boss, `/admin/users/${bossId}/ops`, { is_ops: '0' });
    expect(unmake.status).toBe(400);
    expect(unmake.text).toContain('is the last active platform admin');
    const self = await post(boss, `/admin/users/${bossId}/deactivate`);
    expect(self.status).toBe(400);
    expect(self.text).toContain('You cannot deactivate your own account');
    expect((await t.get<AuthService>(AuthService).findByEmail('boss@example.com'))!.isOps).toBe(true);
  });

  it('the audit log shows every step with actor and before → after, and no secret anywhere', async () => {
    const page = decodeHtml((await boss.agent.get('/admin/t/northwind/audit').expect(200)).text);
    for (const action of ['tenant.created', 'member.invited', 'member.joined', 'member.role_changed'])
      expect(page).toContain(`<code>${action}</code>`);
    expect(page).toMatch(/role: <del>operator<\/del> → <ins>readonly<\/ins>/);
    expect(page).toContain('Bo Boss');
    const platform = decodeHtml((await boss.agent.get('/admin/audit').expect(200)).text);
    for (const action of ['user.created', 'user.password_set', 'user.deactivated', 'token.created'])
      expect(platform).toContain(`<code>${action}</code>`);
    expect(platform).toMatch(/active: <del>true<\/del> → <ins>false<\/ins>/);

    // Filter by action and by actor.
    const joined = decodeHtml(
      (await boss.agent.get('/admin/t/northwind/audit?action=member.joined').expect(200)).text,
    );
    expect(joined).toContain('<code>member.joined</code>');
    expect(joined).not.toContain('<code>member.invited</code>');
    const ops1Id = (await t.get<AuthService>(AuthService).findByEmail('ops1@example.com'))!.id;
    const byOps1 = decodeHtml((await boss.agent.get(`/admin/audit?actor=${ops1Id}`).expect(200)).text);
    expect(byOps1).toContain('<code>token.created</code>');
    expect(byOps1).not.toContain('<code>user.deactivated</code>');
    expect((await boss.agent.get('/admin/audit?actor=abc')).status).toBe(400);
    expect((await boss.agent.get('/admin/audit?action=DROP%20TABLE')).status).toBe(400);

    const rows = JSON.stringify(await t.dataSource.query('SELECT * FROM audit_entries'));
    const hashes = (await t.dataSource.query('SELECT token_hash FROM invitations')) as Array<{
      token_hash: string;
    }>;
    const userHashes = (await t.dataSource.query('SELECT password_hash FROM users')) as Array<{
      password_hash: string;
    }>;
    for (const secret of [
      ...secrets,
      ...hashes.map((h) => h.token_hash),
      ...userHashes.map((h) => h.password_hash),
    ]) {
      expect(rows).not.toContain(secret);
      expect(page).not.toContain(secret);
      expect(platform).not.toContain(secret);
    }
  });
});

describe('people: concurrency and the edges of the rules', () => {
  let t: TestApp;
  let admin: Session;
  let tenants: TenantsService;
  let accounts: AccountsService;

  beforeAll(async () => {
    t = await createTestApp();
    admin = await login(t, 'admin@example.com');
    tenants = t.get<TenantsService>(TenantsService);
    accounts = t.get<AccountsService>(AccountsService);
  });
  afterAll(() => t?.close());

  it('200 concurrent accepts of one invitation: exactly one succeeds, one account, one membership', async () => {
    const contoso = (await tenants.findBySlug('contoso'))!.id;
    const link = await accounts.invite(contoso, 'crowd@example.com', 'readonly', { id: null });
    const path = new URL(link.url).pathname;
    const agent = visitor(t);
    const csrf = csrfFrom((await agent.get(path).expect(200)).text);
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        agent
          .post(path)
          .type('form')
          .send({
            _csrf: csrf,
            name: `Crowd ${i}`,
            password: 'crowd-password-1',
            password_confirmation: 'crowd-password-1',
          })
          .then((r) => r.status),
      ),
    );
    expect(answers.filter((s) => s === 303)).toHaveLength(1);
    expect(answers.filter((s) => s !== 303 && s !== 410)).toEqual([]);
    expect(await count(t, "SELECT COUNT(*) AS n FROM users WHERE email = 'crowd@example.com'")).toBe(1);
    expect(
      await count(
        t,
        "SELECT COUNT(*) AS n FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'crowd@example.com'",
      ),
    ).toBe(1);
    expect(
      await count(
        t,
        "SELECT COUNT(*) AS n FROM audit_entries WHERE action = 'member.joined' AND subject_label = 'crowd@example.com'",
      ),
    ).toBe(1);
  });

  it('a role changed in another process reaches a principal this process has cached, on its next request', async () => {
    const other = await createTestApp({ backends: t.backends, env: { APP_ROLE: 'web' } });
    try {
      const operator = await login(t, 'operator@example.com');
      // Warm this process's principal of the operator.
      await operator.agent.get('/admin/t/contoso/operations').expect(200);
      const ownerThere = await login(other, 'admin@example.com');
      const opId = (await t.get<AuthService>(AuthService).findByEmail('operator@example.com'))!.id;
      const demoted = await post(ownerThere, `/admin/t/contoso/members/${opId}/role`, { role: 'readonly' });
      expect(demoted.status).toBe(303);
      await heardAll(t, other);
      const runs = await count(t, 'SELECT COUNT(*) AS n FROM operation_runs');
      expect((await post(operator, '/admin/t/contoso/inventory/sync')).status).toBe(403);
      expect(await count(t, 'SELECT COUNT(*) AS n FROM operation_runs')).toBe(runs);
      await post(ownerThere, `/admin/t/contoso/members/${opId}/role`, { role: 'operator' });
    } finally {
      await other.close();
    }
  });

  it('two admins archiving one tenant at once: it is archived once, with one audit entry', async () => {
    const second = await login(t, 'admin@example.com');
    await tenants.create(
      { slug: 'twice', name: 'Twice', microsoftTenantId: null, notes: null },
      { id: null },
    );
    const [a, b] = await Promise.all([
      post(admin, '/admin/tenants/twice/archive'),
      post(second, '/admin/tenants/twice/archive'),
    ]);
    expect([a.status, b.status]).toEqual([303, 303]);
    expect((await tenants.findBySlug('twice'))!.archivedAt).not.toBeNull();
    expect(await count(t, "SELECT COUNT(*) AS n FROM audit_entries WHERE action = 'tenant.archived'")).toBe(
      1,
    );
  });

  it('an archived tenant is read-only: start buttons off with the reason, a forged start 403 and no run, switcher under "Archived"', async () => {
    const contoso = (await tenants.findBySlug('contoso'))!;
    await tenants.setArchived(contoso.id, true, { id: null });
    try {
      const runs = await count(t, 'SELECT COUNT(*) AS n FROM operation_runs');
      const page = await admin.agent.get('/admin/t/contoso/operations').expect(200);
      expect(page.text).toContain('Contoso Ltd is archived: its runs can be viewed, not changed.');
      expect(page.text).toMatch(
        /<li class="switcher-group" aria-hidden="true">Archived<\/li>\s*<li><a href="\/admin\/t\/contoso\/operations"/,
      );
      const forged = await post(admin, '/admin/t/contoso/inventory/sync');
      expect(forged.status).toBe(403);
      expect(forged.text).toContain('is archived');
      expect((await post(admin, '/admin/t/contoso/operations/start/inventory.sync')).status).toBe(403);
      expect(await count(t, 'SELECT COUNT(*) AS n FROM operation_runs')).toBe(runs);
      // Read-only for admins and owners too: members can be listed, not invited.
      const members = await admin.agent.get('/admin/t/contoso/members').expect(200);
      expect(members.text).toContain('is archived');
      expect(
        (await post(admin, '/admin/t/contoso/members/invite', { email: 'x@example.com', role: 'readonly' }))
          .status,
      ).toBe(403);
    } finally {
      await tenants.setArchived(contoso.id, false, { id: null });
    }
  });

  it('changing one’s password needs the current one and ends every other session', async () => {
    const other = await login(t, 'operator@example.com');
    const here = await login(t, 'operator@example.com');
    const wrong = await post(here, '/admin/profile/password', {
      current_password: 'not-it-at-all',
      password: 'a-new-password-1',
      password_confirmation: 'a-new-password-1',
    });
    expect(wrong.status).toBe(400);
    expect(wrong.text).toMatch(/id="e-current_password">That is not your current password/);
    const short = await post(here, '/admin/profile/password', {
      current_password: DEMO_PASSWORD,
      password: 'short',
      password_confirmation: 'short',
    });
    expect(short.status).toBe(400);
    expect(short.text).toMatch(/id="e-password">Choose a password of at least 10 characters/);
    const ok = await post(here, '/admin/profile/password', {
      current_password: DEMO_PASSWORD,
      password: 'a-new-password-1',
      password_confirmation: 'a-new-password-1',
    });
    expect(ok.status).toBe(303);
    await here.agent.get('/admin/profile').expect(200);
    const gone = await other.agent.get('/admin/profile');
    expect(gone.status).toBe(302);
    await login(t, 'operator@example.com', 'a-new-password-1');
  });

  it('refuses a token without a name beside its field, keeping the rest of the profile usable', async () => {
    const me = await login(t, 'readonly@example.com');
    const long = 'x'.repeat(81);
    const res = await post(me, '/admin/profile/tokens', { name: long });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/id="e-token_name">Give the token a name of 1 to 80 characters\./);
    expect(res.text).toContain(`value="${long}"`);
    // The password form below is not the one that failed.
    expect(res.text).not.toContain('Some fields need your attention');
    expect(await count(t, 'SELECT COUNT(*) AS n FROM api_tokens')).toBe(0);
  });

  it('an existing account joins another tenant with its own password', async () => {
    const fabrikam = (await tenants.findBySlug('fabrikam'))!.id;
    const link = await accounts.invite(fabrikam, 'readonly@example.com', 'operator', { id: null });
    const agent = visitor(t);
    const page = await agent.get(new URL(link.url).pathname).expect(200);
    expect(page.text).toContain('You have an account already');
    const wrong = await useLink(agent, link.url, { password: 'not-the-password' });
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain('That is not the password of this account.');
    const ok = await useLink(agent, link.url, { password: DEMO_PASSWORD });
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe('/admin/t/fabrikam/operations');
    const user = await t.get<AuthService>(AuthService).findByEmail('readonly@example.com');
    expect(await tenants.roleOf(fabrikam, user!.id)).toBe('operator');
  });

  it('managers read the member list without controls; platform admins administer tenants they are not in', async () => {
    const contoso = (await tenants.findBySlug('contoso'))!.id;
    const auth = t.get<AuthService>(AuthService);
    const m = await auth.createUser({
      email: 'mgr@example.com',
      name: 'Mia Manager',
      password: DEMO_PASSWORD,
    });
    await tenants.addMember(contoso, m.id, 'manager', { id: null });
    const mgr = await login(t, 'mgr@example.com');
    const page = await mgr.agent.get('/admin/t/contoso/members').expect(200);
    expect(page.text).toContain('Olivia Operator');
    expect(page.text).not.toContain('/members/invite');
    expect(
      (await post(mgr, '/admin/t/contoso/members/invite', { email: 'y@example.com', role: 'readonly' }))
        .status,
    ).toBe(403);
    await mgr.agent.get('/admin/t/contoso/audit').expect(200);

    await auth.createUser({
      email: 'plat@example.com',
      name: 'Pat Platform',
      password: DEMO_PASSWORD,
      isOps: true,
    });
    const plat = await login(t, 'plat@example.com');
    const members = await plat.agent.get('/admin/t/contoso/members').expect(200);
    expect(members.text).toContain('platform admin');
    expect((await plat.agent.get('/admin/t/contoso/operations')).status).toBe(404);
    const invited = await post(plat, '/admin/t/contoso/members/invite', {
      email: 'z@example.com',
      role: 'owner',
    });
    expect(invited.status).toBe(303);
  });
});

describe('people: invitations by e-mail when SMTP_URL is set', () => {
  let t: TestApp;
  let smtp: SMTPServer;
  const received: Array<{ to: string; body: string }> = [];

  beforeAll(async () => {
    // A real SMTP server on a free port, receiving what nodemailer sends.
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, session, done) {
        let body = '';
        stream.on('data', (c: Buffer) => (body += c.toString('utf8')));
        stream.on('end', () => {
          received.push({ to: session.envelope.rcptTo.map((r) => r.address).join(','), body });
          done();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const { port } = smtp.server.address() as AddressInfo;
    t = await createTestApp({
      env: { SMTP_URL: `smtp://127.0.0.1:${port}`, SMTP_FROM: 'Hub <hub@example.test>' },
    });
  });
  afterAll(async () => {
    await t?.close();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
  });

  it('mails the link to the invitee and still shows it once to the inviter', async () => {
    const admin = await login(t, 'admin@example.com');
    const res = await post(admin, '/admin/t/contoso/members/invite', {
      email: 'mailed@example.com',
      role: 'readonly',
    });
    expect(res.status).toBe(303);
    const page = decodeHtml((await admin.agent.get('/admin/t/contoso/members').expect(200)).text);
    expect(page).toContain('We e-mailed this link to mailed@example.com');
    const shown = /value="(http:\/\/[^"]+\/invite\/[A-Za-z0-9_-]{43})"/.exec(page)![1];
    expect(received).toHaveLength(1);
    expect(received[0].to).toBe('mailed@example.com');
    expect(received[0].body).toContain('Subject: You are invited to Contoso Ltd');
    // Quoted-printable may wrap long lines: compare without soft line breaks.
    expect(received[0].body.replace(/=\r?\n/g, '')).toContain(shown);
  });
});
