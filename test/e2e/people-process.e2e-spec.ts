import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import TestAgent from 'supertest/lib/agent';
import { decodeHtml } from '../factories/flows';
import { AppProcess, assertBuilt, startProcess } from '../factories/process';
import { createBackends, csrfFrom, TestBackends } from '../factories/test-app';
import { waitFor } from '../factories/wait';

const run = promisify(execFile);
const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

/**
 * Acceptance 1–4 of issue 13 as a new user meets them: `node dist/main.js` on an empty database with
 * DEMO_SEED=false, the CLI (`node dist/cli.js`, what `npm run cli` runs) beside it, and everything in
 * between through HTTP. The app's own log (LOG_LEVEL=info, request lines included) is read at the end
 * for any password, token or link it must never hold.
 */
describe('people, in real processes: the CLI and the app on an empty database', () => {
  let backends: TestBackends;
  let app: AppProcess;
  let env: Record<string, string>;
  const secrets: string[] = ['boss-password-77', 'ops1-password-77'];

  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
        env: { ...process.env, ...env },
      });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  }

  function linkIn(text: string): string {
    const m = /(http:\/\/[^\s"]+\/invite\/[A-Za-z0-9_-]{43})/.exec(decodeHtml(text));
    if (!m) throw new Error(`no link in:\n${text}`);
    secrets.push(m[1].split('/invite/')[1]);
    return new URL(m[1]).pathname;
  }

  async function form(agent: TestAgent, path: string, page: string, fields: Record<string, string>) {
    const html = (await agent.get(page)).text;
    return agent
      .post(path)
      .type('form')
      .send({ _csrf: csrfFrom(html), ...fields });
  }

  beforeAll(async () => {
    assertBuilt();
    backends = await createBackends();
    env = {
      DATABASE_URL: backends.databaseUrl,
      REDIS_URL: backends.redisUrl,
      REDIS_PREFIX: backends.redisPrefix,
      DEMO_SEED: 'false',
      NODE_ENV: 'production',
      SESSION_SECRET: 'a-session-secret-of-at-least-32-characters',
      BCRYPT_ROUNDS: '4',
    };
    app = await startProcess({ ...env, PORT: '0', LOG_LEVEL: 'info', RECONCILE_INTERVAL_SECONDS: '0' });
    env.PUBLIC_URL = app.url;
  });
  afterAll(async () => {
    if (app && app.child.exitCode === null) {
      app.child.kill('SIGTERM');
      await app.exited;
    }
    await backends?.cleanup();
  });

  it('says on the console and on /login how to create the first platform admin', async () => {
    await waitFor(async () => app.output().includes('No account exists yet'), 'the first-run notice', 10_000);
    expect(app.output()).toContain('npm run cli -- create-admin --email');
    const login = await request(app.url).get('/login').expect(200);
    expect(login.text).toContain('npm run cli -- create-admin --email you@example.com');
  });

  it('walks from create-admin to a colleague running a sync, then demotes and deactivates them', async () => {
    const created = await cli('create-admin', '--email', 'boss@example.com');
    expect(created).toMatchObject({ code: 0 });
    const bossLink = linkIn(created.stdout);

    const boss = request.agent(app.url);
    const set = await form(boss, bossLink, bossLink, {
      name: 'Bo Boss',
      password: 'boss-password-77',
      password_confirmation: 'boss-password-77',
    });
    expect(set.status).toBe(303);
    await boss.get('/admin').expect(200);

    for (const [slug, name] of [
      ['northwind', 'Northwind Traders'],
      ['elsewhere', 'Elsewhere Ltd'],
    ])
      expect((await form(boss, '/admin/tenants', '/admin/tenants', { slug, name })).status).toBe(303);
    const invited = await form(boss, '/admin/t/northwind/members/invite', '/admin/profile', {
      email: 'ops1@example.com',
      role: 'operator',
    });
    expect(invited.status).toBe(303);
    const ops1Link = linkIn((await boss.get('/admin/t/northwind/members')).text);

    const ops1 = request.agent(app.url);
    const joined = await form(ops1, ops1Link, ops1Link, {
      name: 'Olu Ops',
      password: 'ops1-password-77',
      password_confirmation: 'ops1-password-77',
    });
    expect(joined.status).toBe(303);
    expect((await form(ops1, '/admin/t/northwind/inventory/sync', '/admin/profile', {})).status).toBe(303);
    expect((await ops1.get('/admin/t/elsewhere/operations')).status).toBe(404);
    expect((await form(ops1, '/admin/t/elsewhere/inventory/sync', '/admin/profile', {})).status).toBe(404);

    const tenants = await cli('list-tenants');
    expect(tenants.code).toBe(0);
    expect(tenants.stdout).toMatch(/^northwind\s+Northwind Traders\s+-\s+demo\s+2\s+active$/m);
    expect(tenants.stdout).toMatch(/^elsewhere\s+Elsewhere Ltd\s+-\s+demo\s+1\s+active$/m);

    // Demoted by the owner: the very next start is refused, without signing in again.
    const members = (await boss.get('/admin/t/northwind/members')).text;
    const ops1Id = /<label for="role-(\d+)" class="visually-hidden">Role of Olu Ops<\/label>/.exec(
      members,
    )![1];
    expect(
      (await form(boss, `/admin/t/northwind/members/${ops1Id}/role`, '/admin/profile', { role: 'readonly' }))
        .status,
    ).toBe(303);
    expect((await form(ops1, '/admin/t/northwind/inventory/sync', '/admin/profile', {})).status).toBe(403);

    const deactivated = await cli('deactivate-user', '--email', 'ops1@example.com');
    expect(deactivated).toMatchObject({ code: 0, stdout: 'Deactivated ops1@example.com.\n' });
    const next = await ops1.get('/admin/t/northwind/operations');
    expect(next.status).toBe(302);
    expect(next.headers.location).toMatch(/^\/login/);

    const reset = await cli('reset-password', '--email', 'boss@example.com');
    expect(reset.code).toBe(0);
    linkIn(reset.stdout);

    const audit = decodeHtml((await boss.get('/admin/t/northwind/audit').expect(200)).text);
    for (const action of ['tenant.created', 'member.invited', 'member.joined', 'member.role_changed'])
      expect(audit).toContain(`<code>${action}</code>`);
    const platform = decodeHtml((await boss.get('/admin/audit').expect(200)).text);
    for (const action of ['user.created', 'user.deactivated', 'user.password_reset_issued'])
      expect(platform).toContain(`<code>${action}</code>`);
    for (const s of secrets) {
      expect(audit).not.toContain(s);
      expect(platform).not.toContain(s);
    }
  });

  it('refuses readably on the command line', async () => {
    const again = await cli('create-admin', '--email', 'boss@example.com');
    expect(again).toMatchObject({ code: 1 });
    expect(again.stderr).toContain('boss@example.com has an account already');
    const missing = await cli('create-admin');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('--email is required');
    const nobody = await cli('deactivate-user', '--email', 'nobody@example.com');
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain('No account has the e-mail nobody@example.com.');
    const unknown = await cli('drop-everything');
    expect(unknown.code).toBe(1);
  });

  it("keeps every password, token and link out of the app's log", async () => {
    app.child.kill('SIGTERM');
    await app.exited;
    const log = app.output();
    expect(log).toContain('"url":"/admin/t/northwind/members"');
    for (const s of secrets) expect(log).not.toContain(s);
  });
});
