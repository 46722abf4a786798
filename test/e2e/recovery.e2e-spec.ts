import { runsTable } from '../factories/runs';
import request from 'supertest';
import { DemoPolicySource } from '../../src/demo';
import { TenantsService } from '../../src/tenants/tenants.service';
import { createSetVia, startVia, waitForTerminal } from '../factories/flows';
import { AppProcess, startProcess } from '../factories/process';
import { createBackends, createTestApp, csrfFrom, login, TestApp } from '../factories/test-app';
import { OwnRedis } from '../factories/own-redis';
import { waitFor } from '../factories/wait';

const FAST_STALL = { JOB_LOCK_MS: '2000', STALLED_INTERVAL_MS: '1000' };

/** A worker as its own OS process on the test's database and Redis, as `APP_ROLE=worker npm start` runs it. */
function startWorker(t: TestApp): Promise<AppProcess> {
  return startProcess({
    APP_ROLE: 'worker',
    PORT: '0',
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: t.backends.databaseUrl,
    REDIS_URL: t.backends.redisUrl,
    REDIS_PREFIX: t.backends.redisPrefix,
    DEMO_SEED: 'false',
    RECONCILE_INTERVAL_SECONDS: '0',
    QUEUE_CONCURRENCY: '2',
    JOB_BACKOFF_MS: '50',
    ...FAST_STALL,
  });
}

describe('nothing lost: a worker killed mid-run', () => {
  let web: TestApp;
  const workers: AppProcess[] = [];

  beforeAll(async () => {
    web = await createTestApp({ env: { APP_ROLE: 'web', ...FAST_STALL } });
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await web.close();
  });

  it('SIGKILL during a 1,000-item add_policies run: a new worker finishes it with exact counts and no duplicate item', async () => {
    const contoso = (await web.get<TenantsService>(TenantsService).findBySlug('contoso'))!.id;
    const demo = web.get<DemoPolicySource>(DemoPolicySource);
    await demo.setSize(contoso, 1300);
    const admin = await login(web, 'admin@example.com');

    workers.push(await startWorker(web));
    const sync = await startVia(admin, '/admin/t/contoso/inventory/sync');
    expect((await waitForTerminal(web, sync.id)).statusBucket).toBe('succeeded');

    // Only policies still present upstream, so every item can succeed.
    const all: Array<{ id: number; policy_type: string; external_id: string }> = await web.dataSource.query(
      'SELECT id, policy_type, external_id FROM policies WHERE tenant_id = ? ORDER BY id',
      [contoso],
    );
    const upstream = await demo.getPolicies(
      { id: contoso, slug: 'contoso' },
      all.map((p) => ({ policyType: p.policy_type, externalId: p.external_id })),
    );
    const ids = all
      .filter((_, i) => upstream[i])
      .slice(0, 1000)
      .map((p) => String(p.id));
    expect(ids).toHaveLength(1000);

    const setId = await createSetVia(admin, 'contoso', { name: 'Survives a crash' });
    // Each provider call takes a while, so the kill lands between two committed batches of 500.
    await demo.setLatency(contoso, 1500);
    const started = await startVia(admin, `/admin/t/contoso/backup-sets/${setId}/add-policies`, {
      policy_ids: ids,
    });

    const repo = runsTable(web.dataSource);
    await waitFor(
      async () => ((await repo.findOneByOrFail({ id: started.id })).processedItems >= 500 ? true : undefined),
      'the first batch',
      30_000,
    );
    workers[0].child.kill('SIGKILL');
    await workers[0].exited;
    const atKill = await repo.findOneByOrFail({ id: started.id });
    expect(atKill.status).toBe('running');
    expect(atKill.processedItems).toBe(500);

    await demo.setLatency(contoso, 0);
    workers.push(await startWorker(web));
    const run = await waitForTerminal(web, started.id, 60_000);
    expect(run.status).toBe('completed');
    expect([run.succeeded, run.failed, run.skipped, run.processedItems, run.totalItems]).toEqual([
      1000, 0, 0, 1000, 1000,
    ]);
    expect(run.attempts).toBeGreaterThanOrEqual(1);
    const items: Array<{ n: number; d: number }> = await web.dataSource.query(
      'SELECT COUNT(*) AS n, COUNT(DISTINCT external_id) AS d FROM backup_items WHERE backup_set_id = ?',
      [setId],
    );
    expect([Number(items[0].n), Number(items[0].d)]).toEqual([1000, 1000]);
    const set = await web.dataSource.query('SELECT item_count FROM backup_sets WHERE id = ?', [setId]);
    expect(Number(set[0].item_count)).toBe(1000);

    // SIGTERM lets a worker stop cleanly and leaves nothing running.
    const last = workers[workers.length - 1];
    last.child.kill('SIGTERM');
    expect((await last.exited).code).toBe(0);
    expect(await repo.count({ where: { status: 'running' } })).toBe(0);
  });
});

/** A redis-server of this test's own, on a port it keeps across a stop and a start. */

describe('nothing lost: Redis down while a start is requested', () => {
  let redis: OwnRedis;
  let t: TestApp;

  beforeAll(async () => {
    redis = new OwnRedis(await OwnRedis.freePort());
    await redis.start();
    const port = redis.port;
    const base = await createBackends();
    t = await createTestApp({
      backends: { ...base, redisUrl: `redis://127.0.0.1:${port}` },
      env: { ENQUEUE_TIMEOUT_MS: '1000' },
    });
  });
  afterAll(async () => {
    await t.close();
    await t.backends.cleanup();
    await redis.stop();
  });

  it('answers with a readable 503, leaves no run pending, and works again once Redis is back', async () => {
    const operator = await login(t, 'operator@example.com');
    const page = await operator.agent.get('/admin/t/contoso/policies').expect(200);
    await redis.stop();

    const ready = await request(t.server).get('/readyz').expect(503);
    expect(ready.body.down).toEqual(['redis']);

    const res = await operator.agent
      .post('/admin/t/contoso/inventory/sync')
      .type('form')
      .send({ _csrf: csrfFrom(page.text) })
      .expect(503);
    expect(res.text).toContain('The job queue (Redis) is not reachable, so the run could not be started.');
    expect(res.text).not.toMatch(/at \S+ \(.*:\d+:\d+\)/);
    const runs = runsTable(t.dataSource);
    const failed = await runs.find({ where: { status: 'failed' } });
    expect(failed).toHaveLength(1);
    expect(failed[0].failures?.[0]).toMatchObject({ reason_code: 'queue_unavailable' });
    expect(await runs.count({ where: { status: 'pending' } })).toBe(0);

    // Pages that do not need Redis keep working meanwhile.
    await operator.agent.get('/admin/t/contoso/operations').expect(200);

    await redis.start();
    await waitFor(
      async () => ((await request(t.server).get('/readyz')).status === 200 ? true : undefined),
      'Redis to be back',
      30_000,
    );
    const again = await startVia(operator, '/admin/t/contoso/inventory/sync');
    expect((await waitForTerminal(t, again.id, 30_000)).statusBucket).toBe('succeeded');
    expect(await runs.count({ where: { status: 'pending' } })).toBe(0);
  });
});
