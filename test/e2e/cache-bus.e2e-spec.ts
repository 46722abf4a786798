import { NotificationsService } from '../../src/notifications';
import { CacheBus } from '../../src/queue';
import { RunCounters } from '../../src/runs/run-counters';
import { RunPageCache } from '../../src/runs/run-page-cache';
import { insertRun, toDbDate } from '../factories/runs';
import { SampleProducerModule } from '../fixtures/sample-producer.module';
import { RunsService } from '../../src/runs';
import { createTestApp, heardAll, login, Session, TestApp } from '../factories/test-app';
import { waitFor } from '../factories/wait';

/**
 * Issue 16: a web process keeps a user's unread count and a tenant's chart counters between requests,
 * and drops them when any process changes them (the CacheBus on Redis). Two apps on one database and
 * Redis stand for two processes: a change stored behind the bus's back (plain SQL) is not seen — the
 * value is cached — while one made through the other app is, within moments.
 */
describe('caches shared across processes (CacheBus)', () => {
  let web: TestApp;
  let other: TestApp;
  let admin: Session;
  let adminId: number;
  let contoso: number;

  const bell = async () => {
    const html = (await admin.agent.get('/admin/notifications/bell').expect(200)).text;
    return Number(/<span class="count">(\d+)<\/span>/.exec(html)?.[1] ?? 0);
  };

  beforeAll(async () => {
    web = await createTestApp({ env: { APP_ROLE: 'web' }, imports: [SampleProducerModule] });
    other = await createTestApp({
      env: { APP_ROLE: 'worker' },
      backends: web.backends,
      imports: [SampleProducerModule],
    });
    await Promise.all(
      [web, other].map((a) => waitFor(async () => a.get<CacheBus>(CacheBus).live, 'the cache bus', 10_000)),
    );
    admin = await login(web, 'admin@example.com');
    adminId = Number(
      (await web.dataSource.query("SELECT id FROM users WHERE email = 'admin@example.com'"))[0].id,
    );
    contoso = Number((await web.dataSource.query("SELECT id FROM tenants WHERE slug = 'contoso'"))[0].id);
  });
  afterAll(async () => {
    await other?.close();
    await web?.close();
  });

  /**
   * No run still moving (the demo seed's syncs, a run a test started) and nothing left to write behind:
   * from here, only what a test does invalidates anything, so "not seen" means "kept".
   */
  const settle = async () => {
    await waitFor(
      async () =>
        Number(
          (
            await web.dataSource.query(
              "SELECT COUNT(*) AS n FROM operation_runs WHERE status IN ('pending', 'running')",
            )
          )[0].n,
        ) === 0,
      'every run to end',
      30_000,
    );
    for (const a of [web, other]) {
      await a.get<RunCounters>(RunCounters).flush();
      await a.get<NotificationsService>(NotificationsService).flush();
    }
    // What those flushes announced reaches the other process.
    await new Promise((r) => setTimeout(r, 200));
  };

  /** One succeeded inventory sync on `day`, counted and flushed by the other process. */
  const succeededElsewhere = async (day: string) => {
    const counters = other.get<RunCounters>(RunCounters);
    counters.add(
      { tenantId: contoso, createdAt: new Date(`${day}T00:00:00Z`), resource: 'inventory', action: 'sync' },
      [['succeeded', 1]],
    );
    await counters.flush();
  };

  const note = (title: string) => ({
    userId: adminId,
    tenantId: contoso,
    runId: null,
    kind: 'run_completed' as const,
    level: 'success' as const,
    title,
    body: title,
    link: null,
  });

  it("keeps the bell's count, and drops it when another process adds a notification", async () => {
    await settle();
    const before = await bell();
    // Behind the bus's back: this process does not hear of it, so its count stays as read.
    await web.dataSource.query(
      "INSERT INTO notifications (user_id, tenant_id, run_id, kind, level, title, body, link, created_at) VALUES (?, ?, NULL, 'run_completed', 'success', 'quiet', 'quiet', NULL, ?)",
      [adminId, contoso, toDbDate(new Date(), web.config.database.type === 'mysql')],
    );
    expect(await bell()).toBe(before);
    await other.get<NotificationsService>(NotificationsService).create(note('announced'));
    await waitFor(async () => (await bell()) === before + 2, 'the other process’s notification', 5000);
  });

  it('drops the count at once when this process marks everything read', async () => {
    expect(await bell()).toBeGreaterThan(0);
    await admin.agent
      .post('/admin/notifications/read-all')
      .type('form')
      .send({ _csrf: await admin.csrf() })
      .expect(303);
    expect(await bell()).toBe(0);
  });

  it("keeps a tenant's chart counters until another process's runs change them", async () => {
    await settle();
    const total = async () => {
      const html = (await admin.agent.get('/admin/t/contoso/operations?status=succeeded').expect(200)).text;
      const of = /\d–[\d,]+ of ([\d,]+)/.exec(html)?.[1];
      if (!of) throw new Error('the list shows no range');
      return Number(of.replace(/,/g, ''));
    };
    // One succeeded run, so the list has rows and says "1–n of N" (N from the counters).
    await insertRun(web.dataSource, {
      tenantId: contoso,
      type: 'inventory.sync',
      status: 'completed',
      createdAt: new Date(),
      succeeded: 1,
    });
    const before = await total();
    await web.dataSource.query(
      "INSERT INTO run_daily_counts (tenant_id, day, resource, action, bucket, n) VALUES (?, '2001-01-01', 'inventory', 'sync', 'succeeded', 5)",
      [contoso],
    );
    expect(await total()).toBe(before);
    await succeededElsewhere('2001-01-02');
    await waitFor(async () => (await total()) === before + 6, 'the other process’s counters', 5000);
  });

  it('keeps the target names a search resolves to, and drops them when a run names a new target anywhere', async () => {
    await settle();
    const found = async () =>
      (
        (await admin.agent.get('/api/v1/tenants/contoso/runs?q=Zeta&limit=100').expect(200)).body
          .data as Array<{
          id: number;
        }>
      )
        .map((r) => r.id)
        .sort((x, y) => x - y);
    expect(await found()).toEqual([]);
    // Behind the app's back: a run of a new target that no process announced is not found yet.
    const quiet = await insertRun(web.dataSource, {
      tenantId: contoso,
      type: 'sample.echo',
      status: 'completed',
      createdAt: new Date(),
      succeeded: 1,
    });
    await web.dataSource.query('UPDATE operation_runs SET target = ? WHERE id = ?', ['Zeta quiet', quiet]);
    expect(await found()).toEqual([]);
    // A run started in the other process with a new target: every process's names are read again.
    const { run } = await other.get<RunsService>(RunsService).start({
      tenantId: contoso,
      userId: null,
      type: 'sample.echo',
      itemIds: ['a'],
      payload: { target: 'Zeta one' },
    });
    await waitFor(
      async () => JSON.stringify(await found()) === JSON.stringify([quiet, run.id]),
      `the new target in searches (${JSON.stringify(await found())})`,
      5000,
    );
  });

  it('keeps a total counted on the runs (a filter the counters cannot answer) until the counters move', async () => {
    await settle();
    const total = async () => {
      const html = (await admin.agent.get('/admin/t/contoso/operations?initiator=system').expect(200)).text;
      const of = /\d–[\d,]+ of ([\d,]+)/.exec(html)?.[1];
      if (!of) throw new Error('the list shows no range');
      return Number(of.replace(/,/g, ''));
    };
    const system = () =>
      insertRun(web.dataSource, {
        tenantId: contoso,
        userId: null,
        type: 'inventory.sync',
        status: 'completed',
        createdAt: new Date(),
        succeeded: 1,
      });
    await system();
    const before = await total();
    await system();
    expect(await total()).toBe(before);
    // Any run's change moves the counters; their flush, in another process, drops the kept total.
    await succeededElsewhere('2001-01-03');
    await waitFor(async () => (await total()) === before + 1, 'the recount of system runs', 5000);
  });

  it("keeps a tenant's first run pages until a run of that tenant changes in any process", async () => {
    await settle();
    const ids = async (tenant: string) =>
      (
        (await admin.agent.get(`/api/v1/tenants/${tenant}/runs`).expect(200)).body.data as Array<{
          id: number;
        }>
      ).map((r) => r.id);
    const listed = async (id: number) =>
      (await admin.agent.get('/admin/t/contoso/operations').expect(200)).text.includes(`#${id}<`);
    const fabrikam = Number(
      (await web.dataSource.query("SELECT id FROM tenants WHERE slug = 'fabrikam'"))[0].id,
    );
    const quietly = (tenantId: number) =>
      insertRun(web.dataSource, {
        tenantId,
        type: 'inventory.sync',
        status: 'completed',
        createdAt: new Date(),
      });
    const [contosoBefore, fabrikamBefore] = [await ids('contoso'), await ids('fabrikam')];
    await listed(0);
    // Behind the app's back: no process hears of these runs, so both tenants' pages stay as read.
    const quietContoso = await quietly(contoso);
    const quietFabrikam = await quietly(fabrikam);
    expect(await ids('contoso')).toEqual(contosoBefore);
    expect(await ids('fabrikam')).toEqual(fabrikamBefore);
    expect(await listed(quietContoso)).toBe(false);

    // A run of contoso started (and run) in the other process: this one reads contoso's pages again,
    // within moments (well inside the 10 s a kept page may live without any news).
    const t0 = Date.now();
    const { run } = await other.get<RunsService>(RunsService).start({
      tenantId: contoso,
      userId: null,
      type: 'sample.echo',
      itemIds: ['a'],
      payload: {},
    });
    await waitFor(async () => (await ids('contoso'))[0] === run.id, "the other process's run", 5000);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await ids('contoso')).toContain(quietContoso);
    expect(await listed(quietContoso)).toBe(true);
    // Only contoso's: fabrikam's page is still the one read before.
    expect(await ids('fabrikam')).toEqual(fabrikamBefore);

    // A run this process starts is on its next page at once: the write drops the page before it returns.
    const mine = await web.get<RunsService>(RunsService).start({
      tenantId: fabrikam,
      userId: null,
      type: 'sample.echo',
      itemIds: ['b'],
      payload: {},
    });
    const now = await ids('fabrikam');
    expect(now[0]).toBe(mine.run.id);
    expect(now).toContain(quietFabrikam);
  });

  it('reads every page from the database with the page cache off (RUNS_PAGE_CACHE=false)', async () => {
    await settle();
    const pages = web.get<RunPageCache>(RunPageCache);
    const first = async () =>
      (
        (await admin.agent.get('/api/v1/tenants/contoso/runs').expect(200)).body.data as Array<{ id: number }>
      )[0].id;
    await first();
    pages.enabled = false;
    try {
      const quiet = await insertRun(web.dataSource, {
        tenantId: contoso,
        type: 'inventory.sync',
        status: 'completed',
        createdAt: new Date(),
      });
      expect(await first()).toBe(quiet);
    } finally {
      pages.enabled = true;
    }
  });

  it('says when one process has heard every invalidation another announced, and not before', async () => {
    const listener = web.get<CacheBus>(CacheBus);
    const speaker = other.get<CacheBus>(CacheBus);
    const seen: Array<Array<string | number> | 'all'> = [];
    listener.on('test:heard', (keys) => seen.push(keys));
    await Promise.all([
      speaker.invalidate('test:heard', [1]),
      speaker.invalidate('test:heard', [2]),
      speaker.invalidate('test:heard', 'all'),
    ]);
    await heardAll(web, other);
    // By the time it says so, every one of them was delivered to this process's caches, in order.
    expect(seen).toEqual([[1], [2], 'all']);
    // A process has heard nothing of its own announcements (it drops its keys as it makes them).
    await listener.invalidate('test:heard', [3]);
    expect(listener.hasHeardAllOf(listener)).toBe(false);
  });
});
