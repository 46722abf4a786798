import request from 'supertest';
import { AuthService } from '../../src/auth';
import { rangeText } from '../../src/monitoring/run-table';
import { RunsQueryService } from '../../src/runs';
import { RunsRepository } from '../../src/runs/runs.repository';
import { TenantsService } from '../../src/tenants';
import { decodeHtml } from '../factories/flows';
import { pauseAllQueues } from '../factories/routes';
import { insertRun, runsTable } from '../factories/runs';
import { createTestApp, DEMO_PASSWORD, login, Session, TestApp } from '../factories/test-app';

/**
 * The Operations table's tools (issue 15): failure reason and target columns, the reason, initiator
 * and search filters, sortable columns paged both ways, page size and totals, CSV export, bulk
 * cancel/retry, saved views, the All tenants list, and a bad filter shown inline on the list.
 * Runs live in a tenant of their own ("tools"), so every expectation is computed from the seeds.
 */

interface Seed {
  id: number;
  createdAt: number;
  userId: number | null;
  status: string;
  failed: number;
  reason: string | null;
  target: string;
  durationMs: number | null;
  type: string;
}

const TARGETS = ['Set Alpha', 'Set Beta', 'Scope windows', '=cmd|calc'];
const STATUSES = ['completed', 'failed', 'completed_with_errors', 'pending', 'completed'] as const;
const N = 60;

let t: TestApp;
let tools: number;
let contoso: number;
let admin: Session;
let operator: Session;
let readonly: Session;
let solo: Session;
const users: Record<'admin' | 'operator' | 'readonly', number> = { admin: 0, operator: 0, readonly: 0 };
const seeds: Seed[] = [];

const base = '/admin/t/tools/operations';

function idsIn(html: string, slug = 'tools'): number[] {
  return [
    ...html.matchAll(
      new RegExp(
        `<td data-label="Run">(?:<input [^>]*>)?<a href="/admin/t/${slug}/operations/(\\d+)">#`,
        'g',
      ),
    ),
  ].map((m) => Number(m[1]));
}

function link(html: string, rel: 'next' | 'prev'): string | null {
  const m = new RegExp(`<a href="([^"]+)" rel="${rel}">`).exec(html);
  return m ? decodeHtml(m[1]) : null;
}

/** The list's order for a sort, as the keyset walk meets rows: values in order, then empty values. */
function expectedOrder(rows: Seed[], by: 'created' | 'duration' | 'failed', dir: 'asc' | 'desc'): number[] {
  const val = (s: Seed) => (by === 'created' ? s.createdAt : by === 'duration' ? s.durationMs : s.failed);
  const up = dir === 'asc' ? 1 : -1;
  return rows
    .slice()
    .sort((a, b) => {
      const va = val(a);
      const vb = val(b);
      if ((va === null) !== (vb === null)) return va === null ? 1 : -1;
      if (va !== null && vb !== null && va !== vb) return (va - vb) * up;
      return (a.id - b.id) * up;
    })
    .map((s) => s.id);
}

async function seedRun(i: number, at: Date): Promise<Seed> {
  const status = STATUSES[i % STATUSES.length];
  const userId = i % 3 === 0 ? users.admin : i % 3 === 1 ? users.operator : null;
  const failed = status === 'failed' ? (i % 4) + 1 : status === 'completed_with_errors' ? (i % 3) + 1 : 0;
  const reason =
    status === 'failed'
      ? i % 2
        ? 'not_found'
        : 'permission_denied'
      : status === 'completed_with_errors'
        ? 'provider_throttled'
        : null;
  const type = i % 2 ? 'inventory.sync' : 'backup_set.add_policies';
  const id = await insertRun(t.dataSource, {
    tenantId: tools,
    userId,
    type,
    status,
    createdAt: at,
    succeeded: status === 'failed' ? 0 : 3,
    failed,
  });
  const target = TARGETS[i % TARGETS.length];
  const durationMs = status === 'pending' ? null : ((i * 37) % 11) * 1000;
  const failures = reason
    ? Array.from({ length: failed }, (_, k) => ({
        item_id: `item-${k}`,
        reason_code: reason,
        message: 'seeded',
        at: at.toISOString(),
      }))
    : [];
  await t.dataSource.query(
    'UPDATE operation_runs SET target = ?, top_reason = ?, duration_ms = ?, failures = ? WHERE id = ?',
    [target, reason, durationMs, JSON.stringify(failures), id],
  );
  return { id, createdAt: at.getTime(), userId, status, failed, reason, target, durationMs, type };
}

async function walk(s: Session, first: string): Promise<{ pages: number[][]; html: string[] }> {
  const pages: number[][] = [];
  const html: string[] = [];
  let url: string | null = first;
  while (url && pages.length < 50) {
    const res = await s.agent.get(url).expect(200);
    pages.push(idsIn(res.text));
    html.push(res.text);
    url = link(res.text, 'next');
  }
  return { pages, html };
}

beforeAll(async () => {
  t = await createTestApp();
  const auth = t.get<AuthService>(AuthService);
  const tenants = t.get<TenantsService>(TenantsService);
  for (const [k, email] of [
    ['admin', 'admin@example.com'],
    ['operator', 'operator@example.com'],
    ['readonly', 'readonly@example.com'],
  ] as const)
    users[k] = (await auth.findByEmail(email))!.id;
  tools = (
    await tenants.create(
      { slug: 'tools', name: 'Tools Ltd', microsoftTenantId: null, notes: null },
      { id: users.admin },
    )
  ).id;
  contoso = (await tenants.findBySlug('contoso'))!.id;
  await tenants.addMember(tools, users.operator, 'operator', { id: null });
  await tenants.addMember(tools, users.readonly, 'readonly', { id: null });
  const soloUser = await auth.createUser({
    email: 'solo@example.com',
    name: 'Solo',
    password: DEMO_PASSWORD,
  });
  await tenants.addMember(tools, soloUser.id, 'operator', { id: null });
  // Nothing started here runs: bulk actions act on what the seeds say.
  await pauseAllQueues(t);

  const start = Date.now() - 2 * 86_400_000;
  for (let i = 0; i < N; i++) {
    // Two runs share each fifth minute, so the id tie-break is exercised.
    seeds.push(await seedRun(i, new Date(start + (i - (i % 5 === 1 ? 1 : 0)) * 60_000)));
  }
  await t
    .get<RunsRepository>(RunsRepository)
    .recountDays(new Date(start - 86_400_000).toISOString().slice(0, 10));
  [admin, operator, readonly, solo] = await Promise.all([
    login(t, 'admin@example.com'),
    login(t, 'operator@example.com'),
    login(t, 'readonly@example.com'),
    login(t, 'solo@example.com'),
  ]);
}, 120_000);

afterAll(() => t?.close());

describe('columns and filters', () => {
  it('shows the failure reason and the target on each row, with a data-label on every cell', async () => {
    const res = await readonly.agent.get(`${base}?limit=100`).expect(200);
    expect(idsIn(res.text)).toHaveLength(N);
    const failed = seeds.find((s) => s.reason === 'not_found')!;
    const row = new RegExp(`operations/${failed.id}">#[\\s\\S]*?</tr>`).exec(res.text)![0];
    expect(row).toContain(
      '<td data-label="Failure reason"><span class="reason" title="not_found">Not found</span>',
    );
    expect(row).toContain(`<td data-label="Target">${failed.target}</td>`);
    const cells = [...res.text.matchAll(/<td(?=[\s>])([^>]*)>/g)].map((m) => m[1]);
    expect(cells.length).toBeGreaterThan(N * 10);
    expect(cells.filter((attrs) => !/data-label="[^"]+"/.test(attrs))).toEqual([]);
  });

  it.each([
    ['reason=not_found', (s: Seed) => s.reason === 'not_found'],
    ['reason=provider_throttled&status=partial', (s: Seed) => s.reason === 'provider_throttled'],
    ['initiator=system', (s: Seed) => s.userId === null],
    ['q=set%20a', (s: Seed) => s.target === 'Set Alpha'],
    ['q=Set%20Alpha', (s: Seed) => s.target === 'Set Alpha'],
    ['q=set%20alpha', (s: Seed) => s.target === 'Set Alpha'],
    ['q=Set', (s: Seed) => s.target.startsWith('Set ')],
    ['q=SCOPE', (s: Seed) => s.target === 'Scope windows'],
    ['q=%3Dcmd', (s: Seed) => s.target === '=cmd|calc'],
    ['reason=not_found&initiator=system', (s: Seed) => s.reason === 'not_found' && s.userId === null],
  ])('filters by %s (and says how many)', async (qs, keep) => {
    const res = await readonly.agent.get(`${base}?${qs}&limit=100`).expect(200);
    const expected = expectedOrder(seeds.filter(keep), 'created', 'desc');
    expect(expected.length).toBeGreaterThan(0);
    expect(idsIn(res.text)).toEqual(expected);
    expect(res.text).toContain(`1–${expected.length} of ${expected.length}`);
  });

  // A whole target name is walked while the names are looked up (one round trip); a prefix, another
  // case, or a name that is also a prefix of others each need the second walk. Every page, both ways.
  it.each(['Set%20Alpha', 'set%20alpha', 'Set', 'Set%20', 'S', '%3Dcmd%7Ccalc'])(
    'the API pages a search for %s to the same runs as the filter says',
    async (q) => {
      const text = decodeURIComponent(q).toLowerCase();
      const expected = expectedOrder(
        seeds.filter((s) => s.target.toLowerCase().startsWith(text)),
        'created',
        'desc',
      );
      expect(expected.length).toBeGreaterThan(0);
      const got: number[] = [];
      let cursor: string | null = null;
      for (let k = 0; k < 40; k++) {
        const res: { body: { data: Array<{ id: number }>; next_cursor: string | null } } = await admin.agent
          .get(`/api/v1/tenants/tools/runs?q=${q}&limit=7${cursor ? `&cursor=${cursor}` : ''}`)
          .expect(200);
        got.push(...res.body.data.map((r) => r.id));
        cursor = res.body.next_cursor;
        if (!cursor) break;
      }
      expect(got).toEqual(expected);
    },
  );

  it('finds a run by its id, with or without "#"', async () => {
    const one = seeds[17];
    for (const q of [String(one.id), `%23${one.id}`]) {
      const res = await readonly.agent.get(`${base}?q=${q}`).expect(200);
      expect(idsIn(res.text)).toEqual([one.id]);
    }
    const none = await readonly.agent.get(`${base}?q=no-such-target`).expect(200);
    expect(idsIn(none.text)).toEqual([]);
    expect(none.text).toContain('No runs match these filters');
  });

  it('"My runs" lists the signed-in user\'s runs, on the page and the API', async () => {
    const mine = expectedOrder(
      seeds.filter((s) => s.userId === users.operator),
      'created',
      'desc',
    );
    const page = await operator.agent.get(`${base}?initiator=me&limit=100`).expect(200);
    expect(idsIn(page.text)).toEqual(mine);
    expect(page.text).toMatch(/<option value="me" selected>My runs<\/option>/);
    const api = await admin.agent.get('/api/v1/tenants/tools/runs?initiator=me&limit=100').expect(200);
    expect(api.body.data.map((r: { id: number }) => r.id)).toEqual(
      expectedOrder(
        seeds.filter((s) => s.userId === users.admin),
        'created',
        'desc',
      ),
    );
    expect(api.body.data.every((r: { user_id: number }) => r.user_id === users.admin)).toBe(true);
  });
});

describe('sorting, paging and totals', () => {
  it.each([
    ['created', 'asc'],
    ['duration', 'desc'],
    ['duration', 'asc'],
    ['failed', 'desc'],
    ['failed', 'asc'],
  ] as const)('sorts by %s %s and pages through it both ways', async (by, dir) => {
    const expected = expectedOrder(seeds, by, dir);
    const { pages, html } = await walk(readonly, `${base}?sort=${by}&order=${dir}&limit=7`);
    expect(pages.flat()).toEqual(expected);
    expect(pages).toHaveLength(Math.ceil(N / 7));
    // The header says which column sorts and which way.
    expect(decodeHtml(html[0])).toMatch(
      new RegExp(`aria-sort="${dir === 'desc' ? 'descending' : 'ascending'}"><a href="[^"]*sort=${by}`),
    );
    expect(html[0]).toContain('1–7 of 60');
    expect(html[1]).toContain('8–14 of 60');
    expect(html[html.length - 1]).toContain(`57–60 of 60`);
    // Back again, page by page, from the last page.
    const back: number[][] = [];
    let url = link(html[html.length - 1], 'prev');
    while (url && back.length < 20) {
      const res = await readonly.agent.get(url).expect(200);
      back.push(idsIn(res.text));
      url = link(res.text, 'prev');
    }
    expect(back).toEqual(pages.slice(0, -1).reverse());
  });

  it('the API pages a sort by next_cursor', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const q = new URLSearchParams({ sort: 'duration', limit: '9', ...(cursor ? { cursor } : {}) });
      const res: request.Response = await admin.agent.get(`/api/v1/tenants/tools/runs?${q}`).expect(200);
      seen.push(...res.body.data.map((r: { id: number }) => r.id));
      cursor = res.body.next_cursor;
    } while (cursor && seen.length < 200);
    expect(seen).toEqual(expectedOrder(seeds, 'duration', 'desc'));
  });

  it('a header link flips the order of its column and keeps the filters', async () => {
    const res = await readonly.agent.get(`${base}?status=failed&sort=duration`).expect(200);
    const th = /<th scope="col" class="num" aria-sort="descending"><a href="([^"]+)"/.exec(res.text)!;
    const href = decodeHtml(th[1]);
    expect(href).toContain('status=failed');
    expect(href).toContain('sort=duration');
    expect(href).toContain('order=asc');
  });

  it('the filter form keeps the sort the headers chose', async () => {
    const res = await readonly.agent.get(`${base}?sort=created&order=asc&status=failed`).expect(200);
    const form = /<form method="get"[\s\S]*?<\/form>/.exec(res.text)![0];
    expect(form).toContain('<input type="hidden" name="sort" value="created">');
    expect(form).toContain('<input type="hidden" name="order" value="asc">');
    const plain = await readonly.agent.get(base).expect(200);
    expect(/<form method="get"[\s\S]*?<\/form>/.exec(plain.text)![0]).not.toContain('name="sort"');
  });

  it('offers 25, 50 and 100 rows a page', async () => {
    const first = await readonly.agent.get(base).expect(200);
    expect(idsIn(first.text)).toHaveLength(25);
    expect(first.text).toContain('1–25 of 60');
    const fifty = await readonly.agent.get(`${base}?limit=50`).expect(200);
    expect(idsIn(fifty.text)).toHaveLength(50);
    expect(fifty.text).toContain('<option value="50" selected>50</option>');
    expect(fifty.text).toContain('1–50 of 60');
  });

  it('totals come from the counters for what they can answer', async () => {
    const failedBucket = seeds.filter((s) => s.status === 'failed').length;
    const res = await readonly.agent.get(`${base}?status=failed`).expect(200);
    expect(res.text).toContain(`1–${failedBucket} of ${failedBucket}`);
    // A run the counters do not know of shows that the figure is theirs, not a scan of runs.
    const q = t.get<RunsQueryService>(RunsQueryService);
    expect(await q.total({ tenantId: tools, limit: 25 })).toEqual({ n: N, exact: true });
    expect(await q.total({ tenantId: tools, limit: 25, reason: 'not_found' })).toEqual({
      n: seeds.filter((s) => s.reason === 'not_found').length,
      exact: true,
    });
    expect(rangeText(undefined, 25, { n: 1000, exact: false }, true)).toBe('1–25 of more than 1,000');
  });
});

describe('CSV export', () => {
  it('streams the filtered list with a header, every cell quoted and formulas defused', async () => {
    const res = await readonly.agent.get(`${base}/export.csv?reason=not_found`).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(
      /^attachment; filename="operations-tools-\d{4}-\d\d-\d\d\.csv"$/,
    );
    const lines = res.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      '"id","type","label","state","status","target","failure_reason","initiator","created_at","started_at","finished_at","duration_ms","total_items","processed_items","succeeded","failed","skipped","url"',
    );
    const expected = expectedOrder(
      seeds.filter((s) => s.reason === 'not_found'),
      'created',
      'desc',
    );
    expect(lines.slice(1).map((l) => Number(/^"(\d+)"/.exec(l)![1]))).toEqual(expected);
    const formula = seeds.find((s) => s.reason === 'not_found' && s.target === '=cmd|calc')!;
    const row = lines.find((l) => l.startsWith(`"${formula.id}",`))!;
    expect(row).toContain(`"'=cmd|calc","Not found"`);
    expect(row).toContain(`"/admin/t/tools/operations/${formula.id}"`);
  });

  it("exports every run whatever the size, a batch at a time in the list's order", async () => {
    const res = await readonly.agent.get(`${base}/export.csv?sort=failed&order=asc`).expect(200);
    const ids = res.text
      .trimEnd()
      .split('\r\n')
      .slice(1)
      .map((l) => Number(/^"(\d+)"/.exec(l)![1]));
    expect(ids).toEqual(expectedOrder(seeds, 'failed', 'asc'));
    const batches: number[][] = [];
    for await (const b of t.get<RunsQueryService>(RunsQueryService).batches({ tenantId: tools, limit: 1 }, 7))
      batches.push(b.map((r) => r.id));
    expect(batches.every((b) => b.length <= 7)).toBe(true);
    expect(batches.flat()).toEqual(expectedOrder(seeds, 'created', 'desc'));
  });

  it('a bad filter is a readable 400 before anything is written', async () => {
    const res = await readonly.agent.get(`${base}/export.csv?sort=name`).expect(400);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('Unknown sort');
  });
});

describe('a bad filter is shown on the list, beside its form', () => {
  it('answers 400 with the message inline and what was typed kept', async () => {
    const res = await readonly.agent.get(`${base}?status=done&q=Alpha&reason=not_found`).expect(400);
    expect(res.text).toContain('That request could not be understood');
    expect(res.text).toContain('Unknown status &quot;done&quot;');
    expect(res.text).toMatch(
      /<form method="get" action="\/admin\/t\/tools\/operations" class="filters" aria-describedby="filter-error">/,
    );
    expect(res.text).toContain('name="q" value="Alpha"');
    expect(res.text).toContain('<option value="not_found" selected>');
    expect(res.text).toMatch(/<select name="status" aria-invalid="true">/);
    expect(res.text).not.toContain('Back to operations');
  });

  it('keeps a malformed date as typed, marked invalid', async () => {
    const res = await readonly.agent.get(`${base}?from=yesterday`).expect(400);
    expect(res.text).toContain('name="from" value="yesterday" aria-invalid="true"');
  });
});

describe('bulk actions', () => {
  const csrf = (s: Session) => s.csrf();

  it('Readonly sees no checkboxes and is refused (403), changing nothing', async () => {
    const page = await readonly.agent.get(base).expect(200);
    expect(page.text).not.toContain('name="run_ids"');
    expect(page.text).not.toContain('Cancel selected');
    const pending = seeds.find((s) => s.status === 'pending')!;
    await readonly.agent
      .post(`${base}/bulk-cancel`)
      .type('form')
      .send({ _csrf: await csrf(readonly), run_ids: [String(pending.id)] })
      .expect(403);
    expect((await runsTable(t.dataSource).findOneByOrFail({ id: pending.id })).status).toBe('pending');
  });

  it('an operator sees a checkbox per row and "select all on this page"', async () => {
    const page = await operator.agent.get(base).expect(200);
    expect(page.text.match(/name="run_ids"/g)).toHaveLength(25);
    expect(page.text).toContain('aria-label="Select all runs on this page"');
    expect(page.text).toContain('Retry failed of selected');
  });

  it('cancels the selected active runs and counts those that had ended', async () => {
    const pending = seeds.filter((s) => s.status === 'pending').slice(0, 2);
    const done = seeds.find((s) => s.status === 'completed')!;
    const res = await operator.agent
      .post(`${base}/bulk-cancel`)
      .type('form')
      .send({
        _csrf: await csrf(operator),
        run_ids: [...pending.map((s) => String(s.id)), String(done.id)],
        back: '?status=queued',
      })
      .expect(303);
    expect(res.headers.location).toBe(`${base}?status=queued`);
    const page = await operator.agent.get(res.headers.location).expect(200);
    expect(page.text).toContain('2 cancelled, 1 had already ended.');
    for (const s of pending)
      expect((await runsTable(t.dataSource).findOneByOrFail({ id: s.id })).status).toBe('aborted');
    expect((await runsTable(t.dataSource).findOneByOrFail({ id: done.id })).status).toBe('completed');
  });

  it('retries the failed ones of the selection', async () => {
    const at = new Date();
    const failedRun = await insertRun(t.dataSource, {
      tenantId: tools,
      type: 'inventory.sync',
      status: 'failed',
      createdAt: at,
      total: 0,
    });
    await t.dataSource.query('UPDATE operation_runs SET failures = ?, top_reason = ? WHERE id = ?', [
      JSON.stringify([
        { item_id: null, reason_code: 'provider_unavailable', message: 'down', at: at.toISOString() },
      ]),
      'provider_unavailable',
      failedRun,
    ]);
    const succeeded = seeds.find((s) => s.status === 'completed')!;
    const res = await operator.agent
      .post(`${base}/bulk-retry`)
      .type('form')
      .send({ _csrf: await csrf(operator), 'run_ids[]': [String(failedRun), String(succeeded.id)] })
      .expect(303);
    const page = await operator.agent.get(res.headers.location).expect(200);
    const [child] = await runsTable(t.dataSource).find({ where: { parentRunId: failedRun } });
    expect(child).toBeDefined();
    expect(page.text).toContain(`1 retry queued (run #${child.id}), 1 had nothing to retry.`);
  });

  it.each([
    [{}, 'Select at least one run first'],
    [{ run_ids: Array.from({ length: 101 }, (_, i) => String(i + 1)) }, 'At most 100 runs at once'],
    [{ run_ids: ['1', 'abc'] }, 'A selected run is not a run id'],
  ])('a bad selection is a readable 400 on the list (%#)', async (fields, message) => {
    const res = await operator.agent
      .post(`${base}/bulk-cancel`)
      .type('form')
      .send({ _csrf: await csrf(operator), back: '?status=failed', ...fields })
      .expect(400);
    expect(res.text).toContain(message);
    expect(res.text).toContain('<form method="get" action="/admin/t/tools/operations" class="filters"');
    // The list it came from: its filter still applied.
    expect(res.text).toContain('<option value="failed" selected>');
  });
});

describe('saved views', () => {
  it('saves the current filters under a name, lists them, refuses a duplicate inline, deletes one', async () => {
    const save = (s: Session, name: string, back: string) =>
      s.csrf().then((c) => s.agent.post(`${base}/views`).type('form').send({ _csrf: c, name, back }));
    const saved = await save(admin, 'Failed syncs', '?type=inventory.sync&status=failed');
    expect(saved.status).toBe(303);
    expect(saved.headers.location).toBe(`${base}?type=inventory.sync&status=failed`);
    const page = await admin.agent.get(base).expect(200);
    expect(decodeHtml(page.text)).toContain(
      `<a href="${base}?type=inventory.sync&status=failed">Failed syncs</a>`,
    );

    const dup = await save(admin, 'Failed syncs', '?status=partial');
    expect(dup.status).toBe(400);
    expect(dup.text).toContain('You already have a view named &quot;Failed syncs&quot;');
    expect(dup.text).toContain('name="name" maxlength="80" value="Failed syncs"');
    expect(dup.text).toContain('<option value="partial" selected>');

    const empty = await save(admin, '   ', '');
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('Give the view a name');

    // Views are per user: the operator does not see the admin's, and cannot delete it.
    const theirs = await operator.agent.get(base).expect(200);
    expect(theirs.text).not.toContain('Failed syncs');
    const action = /<form method="post" action="([^"]+\/views\/\d+\/delete)"/.exec(page.text)![1];
    await operator.agent
      .post(action)
      .type('form')
      .send({ _csrf: await operator.csrf() })
      .expect(404);
    await admin.agent
      .post(action)
      .type('form')
      .send({ _csrf: await admin.csrf() })
      .expect(303);
    expect((await admin.agent.get(base).expect(200)).text).not.toContain('>Failed syncs</a>');
  });
});

describe('All tenants', () => {
  it('lists the runs of every tenant of the user, with a Tenant column, sorted and paged as one list', async () => {
    const other = await insertRun(t.dataSource, {
      tenantId: contoso,
      type: 'inventory.sync',
      status: 'failed',
      createdAt: new Date(),
      failed: 9,
    });
    const page = await admin.agent.get('/admin/operations?limit=100').expect(200);
    expect(page.text).toContain('<td data-label="Tenant"><a href="/admin/t/contoso/operations">');
    expect(idsIn(page.text, 'contoso')).toContain(other);
    expect(idsIn(page.text, 'tools').length).toBeGreaterThan(0);

    const memberOf = (
      (await t.dataSource.query('SELECT tenant_id FROM memberships WHERE user_id = ?', [
        users.admin,
      ])) as Array<{
        tenant_id: number | string;
      }>
    ).map((r) => Number(r.tenant_id));
    const rows = (await t.dataSource.query(
      `SELECT id, failed FROM operation_runs WHERE tenant_id IN (${memberOf.map(() => '?').join(', ')})`,
      memberOf,
    )) as Array<{ id: number | string; failed: number | string }>;
    const expected = rows
      .map((r) => ({ id: Number(r.id), failed: Number(r.failed) }))
      .sort((a, b) => b.failed - a.failed || b.id - a.id)
      .map((r) => r.id);
    const seen: number[] = [];
    let url: string | null = '/admin/operations?sort=failed&limit=25';
    while (url && seen.length < 1000) {
      const res = await admin.agent.get(url).expect(200);
      seen.push(
        ...[
          ...res.text.matchAll(
            /<td data-label="Run">(?:<input [^>]*>)?<a href="\/admin\/t\/[a-z0-9-]+\/operations\/(\d+)">#/g,
          ),
        ].map((m) => Number(m[1])),
      );
      url = link(res.text, 'next');
    }
    expect(seen).toEqual(expected);
  });

  it('is linked from Operations only for users with several tenants', async () => {
    expect((await admin.agent.get(base).expect(200)).text).toContain('href="/admin/operations"');
    expect((await solo.agent.get(base).expect(200)).text).not.toContain('/admin/operations"');
  });

  it('shows a bad filter inline too', async () => {
    const res = await admin.agent.get('/admin/operations?sort=name&q=Beta').expect(400);
    expect(res.text).toContain('Unknown sort');
    expect(res.text).toContain('name="q" value="Beta"');
  });

  it('exports across tenants with a tenant column', async () => {
    const res = await solo.agent.get('/admin/operations/export.csv').expect(200);
    const lines = res.text.trimEnd().split('\r\n');
    expect(lines[0].startsWith('"tenant","id",')).toBe(true);
    expect(lines.slice(1).every((l) => l.startsWith('"tools",'))).toBe(true);
    expect(lines.length - 1).toBeGreaterThanOrEqual(N);
  });
});
