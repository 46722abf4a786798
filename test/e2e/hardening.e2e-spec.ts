import { Queue } from 'bull';
import request from 'supertest';
import { SessionsService } from '../../src/auth/sessions.service';
import { MAINTENANCE_QUEUE } from '../../src/runs/run-maintenance';
import { RunsService } from '../../src/runs/runs.service';
import { getQueueToken } from '@nestjs/bull';
import { insertRun } from '../factories/runs';
import { startVia, waitForTerminal } from '../factories/flows';
import { OwnRedis } from '../factories/own-redis';
import {
  createBackends,
  createTestApp,
  csrfFrom,
  DEMO_PASSWORD,
  demoActors,
  login,
  TestApp,
} from '../factories/test-app';
import { waitFor } from '../factories/wait';
import { SampleProducerModule } from '../fixtures/sample-producer.module';
import { toDbDate } from '../factories/runs';

/**
 * The outside security and fault test's findings (issue "Hardening"), one describe each, on the
 * real app against the real database and Redis.
 */

async function signInForm(t: TestApp) {
  const agent = request.agent(t.server);
  const page = await agent.get('/login').expect(200);
  return { agent, csrf: csrfFrom(page.text) };
}

describe('hostile forms and addresses', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  it('refuses a 50,000-field anonymous form readably at once, while the process keeps answering', async () => {
    const body = Array.from({ length: 49_999 }, () => 'x=1').join('&');
    // Warm: the first request of a file pays for connection set-up and lazy module loading.
    for (let i = 0; i < 3; i++) await request(t.server).get('/healthz').expect(200);
    const started = Date.now();
    const form = request(t.server).post('/login').type('form').set('Accept', 'text/html').send(body);
    // Asked while the form is being handled: a parser that blocks the event loop delays this too.
    const probe = (async () => {
      const at = Date.now();
      await request(t.server).get('/healthz').expect(200);
      return Date.now() - at;
    })();
    const res = await form;
    expect(res.status).toBe(413);
    expect(res.text).toContain('more than 25,000 fields');
    expect(res.text).not.toMatch(/at \S+ \(.*:\d+:\d+\)/);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await probe).toBeLessThan(100);
  });

  it('refuses a body over the size limit from its length, as JSON for API callers', async () => {
    const res = await request(t.server)
      .post('/login')
      .type('form')
      .set('Accept', 'application/json')
      .send(`x=${'a'.repeat(1_100_000)}`);
    expect(res.status).toBe(413);
    expect(res.body.message).toMatch(/too large/);
  });

  it('reads a 20,000-policy selection (one field repeated) and answers from the controller', async () => {
    const operator = await login(t, 'operator@example.com');
    const ids = Array.from({ length: 20_000 }, (_, i) => `policy_ids=${900_000 + i}`).join('&');
    const started = Date.now();
    const res = await operator.agent
      .post('/admin/t/contoso/backup-sets/1/add-policies')
      .type('form')
      .send(`_csrf=${encodeURIComponent(await operator.csrf())}&${ids}`);
    // Parsed whole and checked by the page: the set does not exist (no 413, no 400 from the parser).
    expect(res.status).toBe(404);
    // The quadratic parser took ~4 s for this alone.
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('answers an oversized address and oversized headers with a readable body', async () => {
    const longUrl = await request(t.server).get(`/admin?q=${'a'.repeat(9000)}`);
    expect(longUrl.status).toBe(414);
    expect(longUrl.text).toContain('longer than 8192 characters');
    const hugeHeaders = await request(t.server).get('/login').set('X-Filler', 'a'.repeat(20_000));
    expect(hugeHeaders.status).toBe(431);
    expect(hugeHeaders.text).toContain('larger than 16 KB');
  });
});

describe('sessions: none for anonymous visitors, no caching of signed-in pages, no crash when the database is gone', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  const sessionRows = async () =>
    Number((await t.dataSource.query('SELECT COUNT(*) AS n FROM sessions'))[0].n);

  it('writes no session row for anonymous page views, and one at sign-in', async () => {
    for (let i = 0; i < 25; i++) await request(t.server).get('/login').expect(200);
    expect(await sessionRows()).toBe(0);
    await login(t, 'readonly@example.com');
    expect(await sessionRows()).toBe(1);
  });

  it('prunes expired sessions', async () => {
    await t.dataSource.query('INSERT INTO sessions (id, user_id, expires_at, data) VALUES (?, ?, ?, ?)', [
      'expired-one',
      null,
      Date.now() - 1000,
      '{}',
    ]);
    await t.get<SessionsService>(SessionsService).store.prune();
    expect(await t.dataSource.query('SELECT id FROM sessions WHERE id = ?', ['expired-one'])).toEqual([]);
  });

  it('ignores an Authorization header outside /api/: POST /login still needs its CSRF token, and signs in', async () => {
    const agent = request.agent(t.server);
    const forged = await agent
      .post('/login')
      .set('Authorization', 'Bearer anything')
      .type('form')
      .send({ email: 'operator@example.com', password: DEMO_PASSWORD });
    expect(forged.status).toBe(403);
    const csrf = csrfFrom((await agent.get('/login')).text);
    const ok = await agent
      .post('/login')
      .set('Authorization', 'Basic b3BlcmF0b3I6eA==')
      .type('form')
      .send({ email: 'operator@example.com', password: DEMO_PASSWORD, _csrf: csrf });
    expect(ok.status).toBe(303);
    await agent.get('/admin/profile').expect(200);
  });

  it('marks signed-in pages and API answers no-store', async () => {
    const s = await login(t, 'operator@example.com');
    for (const path of ['/admin/profile', '/admin/t/contoso/operations', '/api/v1/tenants/contoso/runs']) {
      const res = await s.agent.get(path).expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('keeps serving GET /login and probes while the database is gone, and recovers', async () => {
    await t.dataSource.destroy();
    try {
      const res = await request(t.server).get('/login');
      expect(res.status).toBe(200);
      await request(t.server).get('/healthz').expect(200);
      await request(t.server).get('/login').expect(200);
    } finally {
      await t.dataSource.initialize();
    }
    await login(t, 'operator@example.com');
  });
});

describe('sign-in throttling holds across web processes and spelling variants', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await createTestApp({ env: { APP_ROLE: 'web' } });
    b = await createTestApp({ env: { APP_ROLE: 'web' }, backends: a.backends });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('refuses the 11th wrong try whichever process gets it, and every accented variant after it', async () => {
    const forms = [await signInForm(a), await signInForm(b)];
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const f = forms[i % 2];
      const res = await f.agent
        .post('/login')
        .type('form')
        .send({ email: 'operator@example.com', password: 'wrong-password', _csrf: f.csrf });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses[10]).toBe(429);
    for (const variant of ['öpèratör@example.com', 'OPERATOR@example.com', 'operatør@example.com']) {
      for (const f of forms) {
        const res = await f.agent
          .post('/login')
          .type('form')
          .send({ email: variant, password: DEMO_PASSWORD, _csrf: f.csrf });
        expect({ variant, status: res.status }).toEqual({ variant, status: 429 });
      }
    }
  });

  it('never signs an accented variant in as the plain account', async () => {
    const f = await signInForm(a);
    const res = await f.agent
      .post('/login')
      .type('form')
      .send({ email: 'rëadönly@example.com', password: DEMO_PASSWORD, _csrf: f.csrf });
    expect(res.status).toBe(401);
    await f.agent.get('/admin/profile').expect(302);
  });
});

describe('Redis restarted without its data', () => {
  let redis: OwnRedis;
  let t: TestApp;
  beforeAll(async () => {
    redis = new OwnRedis(await OwnRedis.freePort());
    await redis.start();
    const base = await createBackends();
    t = await createTestApp({
      backends: { ...base, redisUrl: `redis://127.0.0.1:${redis.port}` },
      env: { RECONCILE_INTERVAL_SECONDS: '2', ENQUEUE_TIMEOUT_MS: '1000' },
      imports: [SampleProducerModule],
    });
  });
  afterAll(async () => {
    await t?.close();
    await t?.backends.cleanup();
    await redis?.stop();
  });

  it('registers the maintenance schedules again and requeues runs left pending without a job', async () => {
    const queue = t.get<Queue>(getQueueToken(MAINTENANCE_QUEUE));
    await waitFor(async () => (await queue.getRepeatableJobs()).length === 2, 'the schedules at start');
    const contoso = (await demoActors(t)).contoso;

    await redis.stop();
    await redis.start();
    // A run whose job was lost with Redis's data: pending, queued a while ago, no job anywhere.
    const lost = await insertRun(t.dataSource, {
      tenantId: contoso,
      type: 'sample.echo',
      status: 'pending',
      createdAt: new Date(Date.now() - 60_000),
      total: 2,
    });
    await t.dataSource.query('UPDATE operation_runs SET item_ids = ? WHERE id = ?', [
      JSON.stringify(['a', 'b']),
      lost,
    ]);

    await waitFor(
      async () =>
        (await queue.getRepeatableJobs())
          .map((j) => j.name)
          .sort()
          .join() === 'reconcile,retention',
      'the schedules to be registered again',
      15_000,
    );
    const done = await waitForTerminal(t, lost, 15_000);
    expect(done.status).toBe('completed');
  });

  it('says ready only when a start would succeed', async () => {
    const operator = await login(t, 'operator@example.com');
    // Redis answers, but the connection starts use is down: a fresh probe connection is no proof.
    const queue = t.get<RunsService>(RunsService).queue('sample');
    queue.client.disconnect();
    // The socket closes a moment later (ioredis): down means closed.
    await waitFor(async () => queue.client.status !== 'ready', 'the queue connection to close', 5000);
    const ready = await request(t.server).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.down).toEqual(['redis']);
    const refused = await operator.agent
      .post('/admin/t/contoso/sample/start')
      .type('form')
      .send({ _csrf: await operator.csrf(), items: 'a' });
    expect(refused.status).toBe(503);
    await queue.client.connect();
    await waitFor(async () => (await request(t.server).get('/readyz')).status === 200, 'readyz 200');
    const first = await startVia(operator, '/admin/t/contoso/sample/start', { items: 'a' });
    expect((await waitForTerminal(t, first.id)).status).toBe('completed');

    for (let round = 0; round < 2; round++) {
      await redis.stop();
      await waitFor(async () => (await request(t.server).get('/readyz')).status === 503, 'readyz 503');
      await redis.start();
      await waitFor(
        async () => (await request(t.server).get('/readyz')).status === 200,
        'readyz 200',
        20_000,
      );
      // The first moment it says ready, a start goes through.
      const started = await startVia(operator, '/admin/t/contoso/sample/start', { items: 'a' });
      expect((await waitForTerminal(t, started.id)).status).toBe('completed');
    }
  });
});

describe('retry covers items never processed', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ imports: [SampleProducerModule] });
  });
  afterAll(() => t?.close());

  it('retries the failed items and every item the run never reached, and says how many of each', async () => {
    const { contoso, operator } = await demoActors(t);
    const items = Array.from({ length: 10 }, (_, i) => `item-${i}`);
    const parent = await insertRun(t.dataSource, {
      tenantId: contoso,
      type: 'sample.echo',
      status: 'failed',
      createdAt: new Date(Date.now() - 60_000),
      total: 10,
      succeeded: 3,
      failed: 1,
    });
    const mysql = t.dataSource.options.type === 'mysql';
    await t.dataSource.query('UPDATE operation_runs SET item_ids = ?, updated_at = ? WHERE id = ?', [
      JSON.stringify(items),
      toDbDate(new Date(), mysql),
      parent,
    ]);
    await t.dataSource.query('INSERT INTO run_failed_items (run_id, item_id) VALUES (?, ?)', [
      parent,
      'item-2',
    ]);

    const res = await operator.agent
      .post(`/admin/t/contoso/operations/${parent}/retry`)
      .type('form')
      .send({ _csrf: await operator.csrf() })
      .expect(303);
    const page = await operator.agent.get(res.headers.location).expect(200);
    expect(page.text).toContain('Retry of 1 failed and 6 unprocessed items queued');
    const child = (
      await t.dataSource.query('SELECT id FROM operation_runs WHERE parent_run_id = ?', [parent])
    )[0];
    const run = await t.get<RunsService>(RunsService).findById(Number(child.id));
    expect(run!.itemIds).toEqual(['item-2', 'item-4', 'item-5', 'item-6', 'item-7', 'item-8', 'item-9']);
    expect((await waitForTerminal(t, run!.id)).status).toBe('completed');
    const audit = await operator.agent.get(`/admin/t/contoso/operations/${parent}`).expect(200);
    expect(audit.text).toContain(`Retried 1 failed and 6 unprocessed items as run #${run!.id}`);
  });
});
