import request from 'supertest';
import { AuthService } from '../../src/auth/auth.service';
import { RUN_STATUSES, RunStatus, statusBucket, StatusBucket } from '../../src/runs/run-status';
import { jobIdFor, RunNoLongerActive, RunsService, StartNotFresh } from '../../src/runs/runs.service';
import { RUN_EVENTS } from '../../src/runs/run-events';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { QueryRunner } from 'typeorm';
import {
  DuplicateProducerModule,
  LEAKED,
  leakyError,
  SAMPLE_QUEUE,
  SampleProducerModule,
} from '../fixtures/sample-producer.module';
import { decodeHtml, startVia, waitForTerminal } from '../factories/flows';
import { insertRun, runsTable } from '../factories/runs';
import { createTestApp, demoActors, Session, TestApp } from '../factories/test-app';
import { waitFor } from '../factories/wait';

const DAY = 86_400_000;
const STATUSES: readonly RunStatus[] = RUN_STATUSES;

function idsInHtml(html: string, slug: string): number[] {
  // The Run cell, after the bulk-selection checkbox when the reader may act on runs.
  const cell = `<td data-label="Run">(?:<input [^>]*>)?<a href="/admin/t/${slug}/operations/(\\d+)">#`;
  const ids = [...html.matchAll(new RegExp(cell, 'g'))].map((m) => Number(m[1]));
  return ids;
}

describe('runs hub: lifecycle, Monitoring → Operations, runs API', () => {
  let t: TestApp;
  let runs: RunsService;
  let contoso: number;
  let fabrikam: number;
  let admin: Session;
  let operator: Session;
  let readonly: Session;

  beforeAll(async () => {
    t = await createTestApp({ imports: [SampleProducerModule], env: { QUEUE_CONCURRENCY: '2' } });
    runs = t.get(RunsService);
    ({ contoso, fabrikam, admin, operator, readonly } = await demoActors(t));
  });
  afterAll(() => t.close());

  describe('filters', () => {
    type Seeded = { id: number; type: string; bucket: StatusBucket; createdAt: Date };
    const seeded: Seeded[] = [];
    const now = Date.now();
    const types = ['sample.echo', 'sample.other'];

    beforeAll(async () => {
      // Every bucket × both types, spread over 20 days, plus another tenant's runs that must never show.
      let i = 0;
      for (let day = 0; day < 20; day++) {
        for (const status of [STATUSES[day % 6], STATUSES[(day + 3) % 6]]) {
          const type = types[i % 2];
          // Half an hour off the day boundaries, so a window computed a moment later on the server agrees.
          const createdAt = new Date(now - day * DAY + 30 * 60_000 - (i % 7) * 60_000);
          const failed = status === 'completed' && i % 4 === 0 ? 1 : 0;
          const id = await insertRun(t.dataSource, {
            tenantId: contoso,
            type,
            status,
            createdAt,
            succeeded: 2,
            failed,
            total: 3,
          });
          seeded.push({ id, type, bucket: statusBucket(status, failed), createdAt });
          i++;
        }
      }
      for (let k = 0; k < 5; k++) {
        await insertRun(t.dataSource, {
          tenantId: fabrikam,
          type: 'sample.echo',
          status: 'failed',
          createdAt: new Date(now - k * DAY),
        });
      }
      expect(new Set(seeded.map((s) => s.bucket))).toEqual(
        new Set(['queued', 'running', 'succeeded', 'partial', 'failed']),
      );
    });

    const ranges: Array<[string, Record<string, string>, (d: Date) => boolean]> = [
      ['any time', {}, () => true],
      [
        'an explicit from/to',
        { from: new Date(now - 12 * DAY).toISOString(), to: new Date(now - 3 * DAY).toISOString() },
        (d) => d.getTime() >= now - 12 * DAY && d.getTime() < now - 3 * DAY,
      ],
      ['the last 7 days', { preset: '7d' }, (d) => d.getTime() >= now - 7 * DAY],
    ];
    const bucketChoices: Array<StatusBucket | undefined> = [
      undefined,
      'queued',
      'running',
      'succeeded',
      'partial',
      'failed',
    ];
    const cases: Array<
      [string, string | undefined, StatusBucket | undefined, Record<string, string>, (d: Date) => boolean]
    > = [];
    for (const type of [undefined, ...types]) {
      for (const bucket of bucketChoices) {
        for (const [name, q, pred] of ranges) cases.push([name, type, bucket, q, pred]);
      }
    }

    it.each(cases)(
      'type=%#: %s, type %s, status %s — HTML and API return exactly the matching runs',
      async (_n, type, bucket, range, inRange) => {
        const expected = seeded
          .filter(
            (s) => (!type || s.type === type) && (!bucket || s.bucket === bucket) && inRange(s.createdAt),
          )
          .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id - a.id)
          .map((s) => s.id);
        const q: Record<string, string> = { ...range };
        if (type) q.type = type;
        if (bucket) q.status = bucket;

        // API, paged with a small limit so the cursor is exercised.
        const apiIds: number[] = [];
        let cursor: string | null = null;
        do {
          const res: request.Response = await admin.agent
            .get('/api/v1/tenants/contoso/runs')
            .query({ ...q, limit: '7', ...(cursor ? { cursor } : {}) })
            .expect(200);
          apiIds.push(...res.body.data.map((r: { id: number }) => r.id));
          cursor = res.body.next_cursor;
        } while (cursor);
        expect(apiIds).toEqual(expected);

        // HTML, following "Older" links.
        const htmlIds: number[] = [];
        let url: string | null = `/admin/t/contoso/operations?${new URLSearchParams(q).toString()}`;
        while (url) {
          const res = await readonly.agent.get(url).expect(200);
          htmlIds.push(...idsInHtml(res.text, 'contoso'));
          const older = /<a href="([^"]+)" rel="next">/.exec(res.text);
          url = older ? decodeHtml(older[1]) : null;
        }
        expect(htmlIds).toEqual(expected);
      },
    );

    it('keeps pages stable while new runs arrive', async () => {
      const first = await admin.agent.get('/api/v1/tenants/contoso/runs').query({ limit: '5' }).expect(200);
      await insertRun(t.dataSource, {
        tenantId: contoso,
        type: 'sample.echo',
        status: 'pending',
        createdAt: new Date(),
      });
      const second = await admin.agent
        .get('/api/v1/tenants/contoso/runs')
        .query({ limit: '5', cursor: first.body.next_cursor })
        .expect(200);
      const firstIds = first.body.data.map((r: { id: number }) => r.id);
      const secondIds = second.body.data.map((r: { id: number }) => r.id);
      expect(secondIds.some((id: number) => firstIds.includes(id))).toBe(false);
      const all = seeded
        .slice()
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id - a.id)
        .map((s) => s.id);
      expect([...firstIds, ...secondIds]).toEqual(all.slice(0, 10));
    });

    it.each([
      ['status=done', /Unknown status &quot;done&quot;/],
      ['type=nope.nope', /Unknown run type &quot;nope.nope&quot;/],
      ['from=yesterday', /&quot;from&quot; must be a date like 2026-11-26/],
      ['from=2026-11-20&to=2026-11-01', /&quot;from&quot; must be before &quot;to&quot;/],
      ['cursor=%25%25%25', /page cursor is not valid/],
    ])('a bad filter (%s) is a readable 400 page and a 400 JSON error', async (qs, message) => {
      const page = await readonly.agent.get(`/admin/t/contoso/operations?${qs}`).expect(400);
      expect(page.text).toMatch(message);
      expect(page.text).toContain('<title>That request could not be understood');
      const api = await readonly.agent.get(`/api/v1/tenants/contoso/runs?${qs}`).expect(400);
      expect(api.body.error).toBe('bad_request');
      expect(api.body.message).toMatch(new RegExp(message.source.replace(/&quot;/g, '"')));
    });

    it('pages the API one way only: "newer" is a 400 there', async () => {
      const first = await admin.agent.get('/api/v1/tenants/contoso/runs').query({ limit: '3' }).expect(200);
      const res = await admin.agent
        .get('/api/v1/tenants/contoso/runs')
        .query({ newer: first.body.next_cursor })
        .expect(400);
      expect(res.body.message).toContain('"newer" is not supported by the API');
    });

    it('accepts API tokens on /api/ only, never on pages', async () => {
      const auth = t.get<AuthService>(AuthService);
      const user = await auth.findByEmail('admin@example.com');
      const { token } = await auth.createToken(user!.id, 'pages');
      const res = await request(t.server)
        .get('/admin/t/contoso/operations')
        .set('Authorization', `Bearer ${token}`)
        .expect(302);
      expect(res.headers.location).toMatch(/^\/login/);
    });

    it('shows a chart of runs per day from the daily counters', async () => {
      const res = await admin.agent.get('/admin/t/contoso/operations').expect(200);
      expect(res.text).toContain('<svg class="chart"');
      expect(res.text).toContain('Runs per day, last 14 days');
    });
  });

  describe('the sample producer plugs in without touching src/runs', () => {
    it('starts through its own route, answers with a View run link, and shows in list and detail', async () => {
      const { id, href } = await startVia(operator, '/admin/t/contoso/sample/start', {
        items: 'a,skip-b,fail-c',
        greeting: 'hi there',
      });
      expect(href).toBe(`/admin/t/contoso/operations/${id}`);

      const done = await waitForTerminal(t, id);
      expect(done.status).toBe('completed_with_errors');
      expect(done.statusBucket).toBe('partial');
      expect([done.succeeded, done.failed, done.skipped, done.processedItems, done.totalItems]).toEqual([
        1, 1, 1, 3, 3,
      ]);

      const list = await operator.agent.get('/admin/t/contoso/operations?type=sample.echo').expect(200);
      expect(idsInHtml(list.text, 'contoso')).toContain(id);
      expect(list.text).toContain('Sample echo');

      const detail = await operator.agent.get(href).expect(200);
      expect(detail.text).toContain('Sample echo <span class="muted">#' + id);
      expect(detail.text).toContain('<span class="badge badge-partial"');
      expect(detail.text).toContain(`href="/admin/t/contoso/sample/${id}"`);
      expect(detail.text).toContain('Sample results');
      // Its Related link: rows of the producer's own table (created by its own migration).
      const results = await operator.agent.get(`/admin/t/contoso/sample/${id}`).expect(200);
      expect(results.body).toEqual({ run: id, echoed: ['a'] });
      expect(detail.text).toContain('hi there');
      expect(detail.text).toContain('<code>fail-c</code>');
      // Terminal: the page no longer polls.
      expect(detail.text).not.toContain('hx-trigger="every 2s"');

      const api = await operator.agent.get(`/api/v1/tenants/contoso/runs/${id}`).expect(200);
      expect(api.body).toMatchObject({
        id,
        type: 'sample.echo',
        resource: 'sample',
        action: 'echo',
        status: 'completed_with_errors',
        status_bucket: 'partial',
        total_items: 3,
        processed_items: 3,
        succeeded: 1,
        failed: 1,
        skipped: 1,
        item_ids: ['a', 'skip-b', 'fail-c'],
      });
      expect(api.body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(api.body.failures[0]).toMatchObject({ item_id: 'fail-c', reason_code: 'unexpected_error' });
      // What the list's columns show, under the table's names, in the run's answer and in the list's.
      const columns = {
        subject: done.subject,
        target: done.target,
        top_reason: 'unexpected_error',
        duration_ms: done.durationMs,
      };
      expect(done.durationMs).toEqual(expect.any(Number));
      expect(api.body).toMatchObject(columns);
      const listed = await operator.agent.get('/api/v1/tenants/contoso/runs?type=sample.echo').expect(200);
      expect(listed.body.data.find((r: { id: number }) => r.id === id)).toMatchObject(columns);
    });

    it('polls the detail page while the run is active', async () => {
      const { run } = await runs.start({
        tenantId: contoso,
        userId: null,
        type: 'sample.echo',
        itemIds: ['slow'],
        payload: { delayMs: 1500 },
      });
      const page = await admin.agent.get(`/admin/t/contoso/operations/${run.id}`).expect(200);
      // The poll says which state the page shows (seen=…), so only a change of it is announced.
      expect(page.text).toMatch(
        new RegExp(
          `hx-get="/admin/t/contoso/operations/${run.id}/live\\?seen(=|&#x3D;)[a-z-]+" hx-trigger="every 2s"`,
        ),
      );
      expect(page.text).toContain('<noscript><meta http-equiv="refresh" content="5"></noscript>');
      const fragment = await admin.agent.get(`/admin/t/contoso/operations/${run.id}/live`).expect(200);
      expect(fragment.text).not.toContain('<html');
      await waitForTerminal(t, run.id);
      const after = await admin.agent.get(`/admin/t/contoso/operations/${run.id}/live`).expect(200);
      expect(after.text).not.toContain('hx-trigger');
      expect(after.text).toContain('badge-succeeded');
    });

    it('refuses to boot when two producers claim one run type', async () => {
      await expect(
        createTestApp({ imports: [SampleProducerModule, DuplicateProducerModule] }),
      ).rejects.toThrow(
        /Run type "sample.echo" is registered twice: by SampleEchoHandler and by DuplicateEchoHandler/,
      );
    });
  });

  describe('policy: Readonly may look, never start', () => {
    it('lists and views runs with no start or action control, and a forged start is 403 with no run created', async () => {
      const { run } = await runs.start({
        tenantId: contoso,
        userId: null,
        type: 'sample.other',
        itemIds: ['x'],
      });
      const list = await readonly.agent.get('/admin/t/contoso/operations').expect(200);
      const detail = await readonly.agent.get(`/admin/t/contoso/operations/${run.id}`).expect(200);
      for (const html of [list.text, detail.text]) {
        const main = html.slice(html.indexOf('<main'));
        // Saving a filter view is the reader's own preference, not an action on runs.
        const forms = [...main.matchAll(/<form method="post" action="([^"]+)"/g)]
          .map((m) => m[1])
          .filter((action) => !action.endsWith('/operations/views'));
        expect(forms).toEqual([]);
      }
      const count = () => runsTable(t.dataSource).count({ where: { tenantId: contoso } });
      const before = await count();
      const forged = await readonly.agent
        .post('/admin/t/contoso/sample/start')
        .type('form')
        .send({ _csrf: await readonly.csrf(), items: 'a' })
        .expect(403);
      expect(forged.text).toContain('Your role does not allow this action.');
      expect(await count()).toBe(before);
    });

    it("gives 404 for another tenant's run, in HTML and API, and for tenants the user is not in", async () => {
      const other = await insertRun(t.dataSource, {
        tenantId: fabrikam,
        type: 'sample.echo',
        status: 'completed',
        createdAt: new Date(),
      });
      await operator.agent.get(`/admin/t/contoso/operations/${other}`).expect(404);
      await operator.agent.get(`/api/v1/tenants/contoso/runs/${other}`).expect(404);
      await operator.agent.get(`/admin/t/fabrikam/operations/${other}`).expect(404);
      await operator.agent.get('/api/v1/tenants/fabrikam/runs').expect(404);
      await admin.agent.get(`/admin/t/fabrikam/operations/${other}`).expect(200);
      for (const bad of ['abc', '0', '-1', '99999999999999999999', '1e3']) {
        await operator.agent.get(`/admin/t/contoso/operations/${bad}`).expect(404);
      }
    });
  });

  describe('runs API authentication', () => {
    it('accepts a personal Bearer token, refuses a revoked or unknown one', async () => {
      const auth = t.get<AuthService>(AuthService);
      const user = await auth.findByEmail('readonly@example.com');
      const { token, id } = await auth.createToken(user!.id, 'ci');
      const ok = await request(t.server)
        .get('/api/v1/tenants/contoso/runs')
        .set('Authorization', `Bearer ${token}`)
        .expect(200);
      expect(Array.isArray(ok.body.data)).toBe(true);
      expect(ok.body).toHaveProperty('next_cursor');
      await request(t.server)
        .get('/api/v1/tenants/fabrikam/runs')
        .set('Authorization', `Bearer ${token}`)
        .expect(404);
      await request(t.server)
        .get('/api/v1/tenants/contoso/runs')
        .set('Authorization', 'Bearer ohub_nope')
        .expect(401);
      await request(t.server).get('/api/v1/tenants/contoso/runs').expect(401);
      await auth.revokeToken(user!.id, id);
      const revoked = await request(t.server)
        .get('/api/v1/tenants/contoso/runs')
        .set('Authorization', `Bearer ${token}`)
        .expect(401);
      expect(revoked.body.error).toBe('unauthenticated');
    });

    it('serves an OpenAPI document', async () => {
      const res = await request(t.server).get('/api/docs-json').expect(200);
      expect(Object.keys(res.body.paths)).toEqual(
        expect.arrayContaining(['/api/v1/tenants/{tenant}/runs', '/api/v1/tenants/{tenant}/runs/{id}']),
      );
    });
  });

  describe('lifecycle guarantees', () => {
    it('20 concurrent starts with one idempotency key create exactly one run', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          runs.start({
            tenantId: contoso,
            userId: null,
            type: 'sample.echo',
            itemIds: ['a'],
            payload: { delayMs: 500 },
            idempotencyKey: 'same-key',
          }),
        ),
      );
      const ids = new Set(results.map((r) => r.run.id));
      expect(ids.size).toBe(1);
      expect(results.filter((r) => !r.reused)).toHaveLength(1);
      const rows = await runsTable(t.dataSource).count({
        where: { tenantId: contoso, idempotencyKey: 'same-key' },
      });
      expect(rows).toBe(1);
    });

    it('8 concurrent item recorders end with exact counts and never break the invariant', async () => {
      const id = await insertRun(t.dataSource, {
        tenantId: contoso,
        type: 'sample.echo',
        status: 'running',
        createdAt: new Date(),
        total: 800,
      });
      const repo = runsTable(t.dataSource);
      let stop = false;
      const violations: string[] = [];
      let observations = 0;
      const watcher = (async () => {
        while (!stop) {
          const r = await repo.findOneByOrFail({ id });
          observations++;
          if (r.processedItems !== r.succeeded + r.failed + r.skipped || r.processedItems > r.totalItems) {
            violations.push(JSON.stringify(r));
          }
        }
      })();
      await Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          for (let b = 0; b < 20; b++) {
            await runs.recordItems(
              id,
              { succeeded: 3, failed: w % 2, skipped: 2 - (w % 2) },
              w % 2
                ? [
                    {
                      item_id: `w${w}-${b}`,
                      reason_code: 'not_found',
                      message: 'gone',
                      at: new Date().toISOString(),
                    },
                  ]
                : [],
            );
          }
        }),
      );
      stop = true;
      await watcher;
      const r = await repo.findOneByOrFail({ id });
      expect(violations).toEqual([]);
      expect(observations).toBeGreaterThan(0);
      expect([r.succeeded, r.failed, r.skipped, r.processedItems]).toEqual([480, 80, 240, 800]);
      expect(r.failures).toHaveLength(80);
      await expect(runs.recordItems(id, { succeeded: 1, failed: 0, skipped: 0 }, [])).rejects.toThrow(
        /would exceed total_items/,
      );
      expect((await repo.findOneByOrFail({ id })).processedItems).toBe(800);
    });

    it('keeps secrets and stacks out of the stored failures and the run page', async () => {
      expect(leakyError().stack!.length).toBeGreaterThan(5000);
      const { run } = await runs.start({
        tenantId: contoso,
        userId: null,
        type: 'sample.echo',
        itemIds: ['boom'],
        payload: { leak: true },
      });
      const done = await waitFor(async () => {
        const r = await runs.findById(run.id);
        return r && r.status === 'failed' ? r : undefined;
      }, 'the failing run');
      expect(done.statusBucket).toBe('failed');
      expect(done.failures).toHaveLength(1);
      const stored = JSON.stringify(done.failures);
      const page = await admin.agent.get(`/admin/t/contoso/operations/${run.id}`).expect(200);
      const api = await admin.agent.get(`/api/v1/tenants/contoso/runs/${run.id}`).expect(200);
      for (const text of [stored, page.text, JSON.stringify(api.body.failures)]) {
        expect(text).not.toContain(LEAKED.password);
        expect(text).not.toContain(LEAKED.jwt.split('.')[0]);
        expect(text).not.toContain(LEAKED.jwt.split('.')[2]);
        expect(text).not.toContain('frame1 (');
        expect(text).not.toContain(LEAKED.stackPath);
      }
      expect(done.failures![0].message.length).toBeLessThanOrEqual(200);
      expect(done.failures![0]).toMatchObject({ item_id: null, reason_code: 'unexpected_error' });
      expect(page.text).toContain('Graph call failed');
    });
  });

  describe("a fresh run's start travels with its first write", () => {
    /** The UPDATEs of operation_runs that name `runId`, sent while `work` runs. */
    async function runUpdates(runId: () => number | undefined, work: () => Promise<void>): Promise<string[]> {
      const seen: Array<{ sql: string; params: unknown[] }> = [];
      const ds = t.dataSource;
      const original = ds.createQueryRunner.bind(ds);
      const wrapped = new Map<QueryRunner, QueryRunner['query']>();
      const spy = jest.spyOn(ds, 'createQueryRunner').mockImplementation((mode) => {
        const qr = original(mode);
        // SQLite hands out one query runner for everything: wrap it once.
        if (wrapped.has(qr)) return qr;
        wrapped.set(qr, qr.query);
        const query = qr.query.bind(qr);
        qr.query = ((sql: string, params?: unknown[], structured?: boolean) => {
          seen.push({ sql, params: params ?? [] });
          return query(sql, params, structured as never);
        }) as typeof qr.query;
        return qr;
      });
      // On MySQL a statement outside a transaction goes straight to the driver's pool (Db.onPool).
      type PoolQuery = (this: unknown, ...args: unknown[]) => unknown;
      const pool = (ds.driver as unknown as { pool?: { query: PoolQuery } }).pool;
      const poolQuery = ds.options.type === 'mysql' ? pool?.query : undefined;
      if (pool && poolQuery)
        pool.query = function (this: unknown, ...args: unknown[]) {
          const [sql, params] = args;
          seen.push({ sql: String(sql), params: Array.isArray(params) ? params : [] });
          return poolQuery.apply(this, args);
        };
      try {
        await work();
      } finally {
        spy.mockRestore();
        for (const [qr, query] of wrapped) qr.query = query;
        if (pool && poolQuery) pool.query = poolQuery;
      }
      const id = runId();
      return seen
        .filter((q) => {
          const where = q.sql.search(/WHERE id = \?/);
          if (!/^\s*UPDATE operation_runs/i.test(q.sql) || where < 0) return false;
          return Number(q.params[(q.sql.slice(0, where).match(/\?/g) ?? []).length]) === id;
        })
        .map((q) => q.sql.replace(/\s+/g, ' ').trim());
    }

    function events(): { seen: Array<[string, number, string]>; stop: () => void } {
      const emitter = t.get<EventEmitter2>(EventEmitter2);
      const seen: Array<[string, number, string]> = [];
      const on =
        (name: string) =>
        ({ run }: { run: { id: number; status?: string } }) =>
          seen.push([name, run.id, run.status ?? '']);
      const listeners = [RUN_EVENTS.started, RUN_EVENTS.finished].map((name) => [name, on(name)] as const);
      for (const [name, fn] of listeners) emitter.on(name, fn);
      return { seen, stop: () => listeners.forEach(([name, fn]) => emitter.off(name, fn)) };
    }

    it('starts and finishes a short run in one UPDATE, still emitting started before finished', async () => {
      const ev = events();
      let id: number | undefined;
      const updates = await runUpdates(
        () => id,
        async () => {
          ({
            run: { id },
          } = await runs.start({
            tenantId: contoso,
            userId: null,
            type: 'sample.other',
            itemIds: ['x', 'y'],
          }));
          // Until its events are out: the row can read completed a moment before they are emitted.
          await waitFor(
            async () => ev.seen.some(([name, runId]) => name === RUN_EVENTS.finished && runId === id),
            'the short run to finish',
          );
        },
      );
      ev.stop();
      expect(updates).toHaveLength(1);
      expect(updates[0]).toMatch(/SET status = \?, status_bucket = \?, finished_at = \?.*started_at = \?/);
      const done = (await runs.findById(id!))!;
      expect([done.succeeded, done.failed, done.skipped, done.processedItems]).toEqual([2, 0, 0, 2]);
      expect(done).toMatchObject({ attempts: 1, jobId: `run-${id}`, activeKey: null });
      expect(done.startedAt).toBeInstanceOf(Date);
      expect(done.startedAt!.getTime()).toBeLessThanOrEqual(done.finishedAt!.getTime());
      expect(ev.seen.filter(([, runId]) => runId === id)).toEqual([
        [RUN_EVENTS.started, id, 'running'],
        [RUN_EVENTS.finished, id, 'completed'],
      ]);
    });

    it('shows a longer run as running while it works, with its progress', async () => {
      const { run } = await runs.start({
        tenantId: contoso,
        userId: null,
        type: 'sample.echo',
        itemIds: ['a', 'b', 'c', 'd', 'e', 'f'],
        payload: { delayMs: 150 },
      });
      const running = await waitFor(async () => {
        const r = await runs.findById(run.id);
        return r?.status === 'running' && r.processedItems > 0 && r.processedItems < 6 ? r : undefined;
      }, 'the run to show as running with partial progress');
      expect(running.startedAt).toBeInstanceOf(Date);
      expect(running.statusBucket).toBe('running');
      const done = await waitFor(async () => {
        const r = await runs.findById(run.id);
        return r?.status === 'completed' ? r : undefined;
      }, 'the longer run');
      expect(done.processedItems).toBe(6);
    });

    it('does not revive a run cancelled after a worker took its job but before its start was written', async () => {
      const id = await insertRun(t.dataSource, {
        tenantId: contoso,
        type: 'sample.echo',
        status: 'pending',
        createdAt: new Date(),
        total: 1,
      });
      const claimed = runs.claimFresh({ ...(await runs.findById(id))! }, `run-${id}`, 1);
      expect(claimed.status).toBe('pending');
      await runs.abort(id, {
        item_id: null,
        reason_code: 'cancelled',
        message: 'Cancelled',
        at: new Date().toISOString(),
      });
      await expect(runs.writeStart(claimed)).rejects.toBeInstanceOf(RunNoLongerActive);
      const after = await runs.finish(id, claimed, { succeeded: 1, failed: 0, skipped: 0 });
      expect(after).toMatchObject({ status: 'aborted', processedItems: 0 });
      expect((await runs.findById(id))!.status).toBe('aborted');
    });

    it('resumes from the table when an earlier pickup of the same job had already started the run', async () => {
      // A worker took the job, started the run, recorded "a" and stalled; Bull hands the job (still
      // carrying the queued row) to another worker.
      const id = await insertRun(t.dataSource, {
        tenantId: contoso,
        type: 'sample.echo',
        status: 'running',
        createdAt: new Date(),
        total: 3,
        succeeded: 1,
      });
      await t.dataSource.query('UPDATE operation_runs SET item_ids = ? WHERE id = ?', [
        JSON.stringify(['a', 'b', 'c']),
        id,
      ]);
      const current = (await runs.findById(id))!;
      const staleSeed = {
        ...current,
        status: 'pending',
        statusBucket: 'queued',
        processedItems: 0,
        succeeded: 0,
      };
      const claimed = runs.claimFresh(staleSeed, `run-${id}`, 1);
      await expect(runs.writeStart(claimed)).rejects.toBeInstanceOf(StartNotFresh);
      await expect(runs.finish(id, claimed, { succeeded: 3, failed: 0, skipped: 0 })).rejects.toBeInstanceOf(
        StartNotFresh,
      );

      await runs
        .queue(SAMPLE_QUEUE)
        .add('sample.echo', { runId: id, tenantId: contoso, seed: staleSeed }, { jobId: jobIdFor(id) });
      const done = await waitFor(async () => {
        const r = await runs.findById(id);
        return r?.status === 'completed' ? r : undefined;
      }, 'the resumed run');
      // "a" counted once: the second pickup went on from the table's counts, not from the stale seed.
      expect([done.succeeded, done.failed, done.skipped, done.processedItems]).toEqual([3, 0, 0, 3]);
    });
  });
});
