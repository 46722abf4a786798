import { getQueueToken } from '@nestjs/bull';
import { Queue } from 'bull';
import Redis from 'ioredis';
import { DemoPolicySource } from '../../src/demo';
import { INVENTORY_QUEUE } from '../../src/inventory/inventory.queue';
import { InventoryService } from '../../src/inventory/inventory.service';
import { jobIdFor, RunsService } from '../../src/runs/runs.service';
import { runResultNotes, waitForTerminal } from '../factories/flows';
import { AppProcess, startProcess } from '../factories/process';
import { createTestApp, demoActors, TestApp } from '../factories/test-app';
import { waitFor } from '../factories/wait';

/**
 * The Hardening findings that only show in a real `node dist/main.js`: its logs, its exit code,
 * Express in production mode.
 */

function startWorker(t: TestApp, env: Record<string, string> = {}): Promise<AppProcess> {
  return startProcess({
    APP_ROLE: 'worker',
    PORT: '0',
    NODE_ENV: 'production',
    SESSION_SECRET: 'a-session-secret-of-at-least-32-characters',
    LOG_LEVEL: 'info',
    DATABASE_URL: t.backends.databaseUrl,
    REDIS_URL: t.backends.redisUrl,
    REDIS_PREFIX: t.backends.redisPrefix,
    DEMO_SEED: 'false',
    RECONCILE_INTERVAL_SECONDS: '0',
    JOB_BACKOFF_MS: '50',
    ...env,
  });
}

describe('a real process', () => {
  let web: TestApp;
  let contoso: number;
  const workers: AppProcess[] = [];

  beforeAll(async () => {
    web = await createTestApp({ env: { APP_ROLE: 'web' } });
    contoso = (await demoActors(web)).contoso;
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await web.close();
  });

  it('answers a missing asset with a 404 and logs no error', async () => {
    const p = await startWorker(web, { APP_ROLE: 'all', PORT: '0' });
    workers.push(p);
    for (const path of ['/assets/nope.css', '/assets/pico/nope.css', '/assets/htmx/nope.js']) {
      const res = await fetch(`${p.url}${path}`);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(await res.text()).toContain('There is no page at this address.');
    }
    p.child.kill('SIGTERM');
    await p.exited;
    expect(p.output()).not.toMatch(/"level":50/);
    expect(p.output()).not.toContain('ENOENT');
  });

  it('stopped past its grace period, a worker hands its job back and exits 0; the next worker resumes at once', async () => {
    const demo = web.get<DemoPolicySource>(DemoPolicySource);
    await demo.setSize(contoso, 120);
    // Every provider call takes 20 s: the handler cannot reach a batch boundary before the deadline.
    await demo.setLatency(contoso, 20_000);
    const a = await startWorker(web, { SHUTDOWN_GRACE_MS: '1500' });
    workers.push(a);
    const { run } = await web.get<InventoryService>(InventoryService).startSync(contoso, null);
    const runs = web.get<RunsService>(RunsService);
    await waitFor(
      async () => (await runs.findById(run.id))?.status === 'running',
      'the worker to start the run',
    );

    const stoppedAt = Date.now();
    a.child.kill('SIGTERM');
    const { code } = await a.exited;
    expect(code).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(1500 + 3000);
    expect(a.output()).toContain('job handed back to the queue');

    const queue = web.get<Queue>(getQueueToken(INVENTORY_QUEUE));
    const job = await queue.getJob(jobIdFor(run.id));
    expect(['waiting', 'delayed']).toContain(await job!.getState());
    expect(await queue.client.exists(`${web.backends.redisPrefix}:${INVENTORY_QUEUE}:${job!.id}:lock`)).toBe(
      0,
    );
    expect((await runs.findById(run.id))!.status).toBe('running');

    // Without the hand-back the job would wait for its 30 s lock to expire and a stalled check.
    await demo.setLatency(contoso, 0);
    workers.push(await startWorker(web));
    const resumedAt = Date.now();
    const done = await waitForTerminal(web, run.id, 20_000);
    expect(done.statusBucket).toBe('succeeded');
    expect(done.succeeded).toBe(done.totalItems);
    expect(Date.now() - resumedAt).toBeLessThan(10_000);
  });

  describe('secrets in a provider error', () => {
    const SECRETS = {
      bearer: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvcHMtaHViLXRlc3QifQ.c2lnbmF0dXJlLXNlY3JldC12YWx1ZQ',
      password: 'Hunter2-Hunter2-pw',
      basic: 'dXNlcjpzM2NyZXQtYmFzaWMtcGFzcw==',
      code: '0.AXoAe8Z9QmVjQ0Kx3uFhZz9kTg',
    };
    const message =
      `Graph call failed: Authorization: Bearer ${SECRETS.bearer}; proxy said password=${SECRETS.password} ` +
      `(Basic ${SECRETS.basic}) after redirect to https://app.example.com/callback?code=${SECRETS.code}&state=7`;

    it('reach no log line, no job in Redis, no run failure and no notification', async () => {
      const worker = await startWorker(web, { JOB_ATTEMPTS: '3' });
      workers.push(worker);
      const demo = web.get<DemoPolicySource>(DemoPolicySource);
      await demo.setLatency(contoso, 0);
      // Throttled is transient: Bull retries the job, keeping each attempt's reason in Redis.
      await demo.setFault(contoso, 'provider_throttled', ['list'], message);
      const admin = (await demoActors(web)).admin;
      const user = await web.dataSource.query('SELECT id FROM users WHERE email = ?', ['admin@example.com']);
      const { run } = await web
        .get<InventoryService>(InventoryService)
        .startSync(contoso, Number(user[0].id));
      const done = await waitForTerminal(web, run.id, 30_000);
      expect(done.status).toBe('failed');
      expect(done.failures![0].reason_code).toBe('provider_throttled');
      // The worker process stores the run's failure notice behind its end: it is checked once it is there.
      const notifications = await runResultNotes(web, run.id);
      expect(notifications.map((n) => n.kind)).toContain('run_failed');

      const stored = JSON.stringify({
        failures: done.failures,
        notifications,
        api: (await admin.agent.get(`/api/v1/tenants/contoso/runs/${run.id}`).expect(200)).body,
        page: (await admin.agent.get(`/admin/t/contoso/operations/${run.id}`).expect(200)).text,
      });
      // Log lines are written behind (within 200 ms): the run's own lines first, then all of them.
      await waitFor(
        async () => worker.output().includes(`"runId":${run.id}`),
        "the worker's log lines",
        5000,
      );
      const logs = worker.output();
      const redisText = await dumpRedis(web.backends.redisUrl, web.backends.redisPrefix);
      expect(logs).toContain(`"runId":${run.id}`);
      expect(redisText).toContain(jobIdFor(run.id));
      for (const [what, secret] of Object.entries(SECRETS)) {
        expect({ what, inLogs: logs.includes(secret) }).toEqual({ what, inLogs: false });
        expect({ what, inRedis: redisText.includes(secret) }).toEqual({ what, inRedis: false });
        expect({ what, stored: stored.includes(secret) }).toEqual({ what, stored: false });
      }
      await demo.setFault(contoso, null);
    });
  });
});

/** Every value under the prefix, read by its type (DUMP's compression could hide a secret from a grep). */
async function dumpRedis(url: string, prefix: string): Promise<string> {
  const r = new Redis(url);
  const out: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await r.type(key);
        const value =
          type === 'string'
            ? await r.get(key)
            : type === 'hash'
              ? await r.hgetall(key)
              : type === 'list'
                ? await r.lrange(key, 0, -1)
                : type === 'set'
                  ? await r.smembers(key)
                  : type === 'zset'
                    ? await r.zrange(key, 0, -1)
                    : null;
        out.push(key, JSON.stringify(value));
      }
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return out.join('\n');
}
