import request from 'supertest';
import { AuthService } from '../../src/auth/auth.service';
import { createTestApp, csrfFrom, DEMO_PASSWORD, login, TestApp } from '../factories/test-app';

describe('foundation: login, CSRF, tenant isolation, probes', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { LOGIN_THROTTLE_LIMIT: '5' } });
  });
  afterAll(() => t.close());

  it('serves the login page with a CSRF field and security headers', async () => {
    const res = await request(t.server).get('/login').expect(200);
    expect(res.text).toContain('<form method="post" action="/login"');
    expect(csrfFrom(res.text)).toMatch(/\S{16,}/);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['set-cookie']?.[0]).toMatch(/HttpOnly; SameSite=Lax/);
  });

  it.each(['admin@example.com', 'operator@example.com', 'readonly@example.com'])(
    '%s can sign in',
    async (email) => {
      const s = await login(t, email);
      const admin = await s.agent.get('/admin').expect(302);
      expect(admin.headers.location).toBe('/admin/t/contoso/operations');
    },
  );

  it('a wrong password shows a form error and leaves no signed-in session', async () => {
    const agent = request.agent(t.server);
    const page = await agent.get('/login');
    const res = await agent
      .post('/login')
      .type('form')
      .send({ email: 'operator@example.com', password: 'wrong-password', _csrf: csrfFrom(page.text) })
      .expect(401);
    expect(res.text).toContain('Wrong e-mail or password.');
    expect(res.text).toContain('value="operator@example.com"');
    const after = await agent.get('/admin').expect(302);
    expect(after.headers.location).toMatch(/^\/login\?next=/);
  });

  it('refuses a POST without a CSRF token (403) and changes nothing', async () => {
    const anon = request.agent(t.server);
    const forged = await anon
      .post('/login')
      .type('form')
      .send({ email: 'admin@example.com', password: DEMO_PASSWORD });
    expect(forged.status).toBe(403);
    expect(forged.text).toContain('did not come from this site');
    expect((await anon.get('/admin')).headers.location).toMatch(/^\/login/);

    const s = await login(t, 'operator@example.com');
    const auth = t.get<AuthService>(AuthService);
    const user = await auth.findByEmail('operator@example.com');
    const before = (await auth.listTokens(user!.id)).length;
    await s.agent.post('/admin/profile/tokens').type('form').send({ name: 'forged' }).expect(403);
    await s.agent
      .post('/admin/profile/tokens')
      .type('form')
      .send({ name: 'forged', _csrf: 'not-the-token' })
      .expect(403);
    expect((await auth.listTokens(user!.id)).length).toBe(before);

    await s.agent
      .post('/admin/profile/tokens')
      .type('form')
      .send({ name: 'real', _csrf: await s.csrf() })
      .expect(303);
    expect((await auth.listTokens(user!.id)).length).toBe(before + 1);
  });

  it('gives 404, never 403, for a tenant the user is not a member of', async () => {
    const s = await login(t, 'operator@example.com');
    const res = await s.agent.get('/admin/t/fabrikam').expect(404);
    expect(res.text).toContain('Tenant not found.');
    await s.agent.get('/admin/t/no-such-tenant').expect(404);
    await s.agent.get('/admin/t/contoso').expect(302);
    const admin = await login(t, 'admin@example.com');
    await admin.agent.get('/admin/t/fabrikam').expect(302);
  });

  it('sends anonymous visitors to the login page and keeps where they were going', async () => {
    const res = await request(t.server).get('/admin/profile?tab=tokens').expect(302);
    expect(res.headers.location).toBe('/login?next=%2Fadmin%2Fprofile%3Ftab%3Dtokens');
  });

  it('does not redirect off-site after login', async () => {
    const agent = request.agent(t.server);
    const page = await agent.get('/login');
    const res = await agent
      .post('/login')
      .type('form')
      .send({
        email: 'readonly@example.com',
        password: DEMO_PASSWORD,
        next: '//evil.example/x',
        _csrf: csrfFrom(page.text),
      })
      .expect(303);
    expect(res.headers.location).toBe('/admin');
  });

  it('renders error pages without stack traces', async () => {
    const s = await login(t, 'admin@example.com');
    const res = await s.agent.get('/admin/nothing-here').expect(404);
    expect(res.text).toContain('There is no page at this address.');
    expect(res.text).not.toMatch(/at \S+ \(.*:\d+:\d+\)/);
    const json = await request(t.server).get('/api/v1/nothing').set('Accept', 'application/json');
    expect([401, 404]).toContain(json.status);
    expect(json.body.error).toBeDefined();
  });

  it('answers probes: healthz always, readyz with each dependency', async () => {
    await request(t.server)
      .get('/healthz')
      .expect(200, /"status":"ok"/);
    const ready = await request(t.server).get('/readyz').expect(200);
    expect(ready.body.checks.database.status).toBe('up');
    expect(ready.body.checks.redis.status).toBe('up');
  });

  it('throttles repeated sign-in attempts for one account', async () => {
    const agent = request.agent(t.server);
    const token = csrfFrom((await agent.get('/login')).text);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await agent
        .post('/login')
        .type('form')
        .send({ email: 'throttled@example.com', password: 'nope', _csrf: token });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses[5]).toBe(429);
    // Another account from the same address is not locked out by it.
    const other = await agent
      .post('/login')
      .type('form')
      .send({ email: 'readonly@example.com', password: DEMO_PASSWORD, _csrf: token });
    expect(other.status).toBe(303);
  });

  it('signs out with a POST and ends the session', async () => {
    const s = await login(t, 'operator@example.com');
    await s.agent
      .post('/logout')
      .type('form')
      .send({ _csrf: await s.csrf() })
      .expect(303);
    await s.agent.get('/admin').expect(302);
  });
});
