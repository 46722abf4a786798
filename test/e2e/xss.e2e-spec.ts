import { UsersRepository } from '../../src/auth/users.repository';
import request from 'supertest';
import { AuthService } from '../../src/auth/auth.service';
import { RunsService } from '../../src/runs/runs.service';
import { SampleProducerModule } from '../fixtures/sample-producer.module';
import { runResultNotes, waitForTerminal } from '../factories/flows';
import { seedWorld, World } from '../factories/routes';
import { createTestApp, login, Session, TestApp } from '../factories/test-app';

/**
 * Stored XSS: values a provider or a user controls (policy display names, set names, user names, run
 * payloads, item ids, failure messages) are made hostile, and every page that shows them must render
 * them as text. The demo source's policies cannot be edited, so hostile names are written straight
 * into the database after a sync, as a compromised or careless provider would deliver them.
 */
const PAYLOADS = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  'javascript:alert(1)',
  "{{constructor.constructor('alert(1)')()}}",
  '</textarea><svg onload=alert(1)>',
];
/** A hostile value that says where it was stored: `!pol2 javascript:alert(1)`; `!` sorts it first in lists. */
const hostile = (tag: string, i: number) => `!${tag}${i} ${PAYLOADS[i % PAYLOADS.length]}`;
const each = (tag: string) => PAYLOADS.map((_, i) => hostile(tag, i));

/** Handlebars' escapeExpression: what a `{{value}}` must look like in the page. */
const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#x27;',
  '`': '&#x60;',
  '=': '&#x3D;',
};
const esc = (s: string) => s.replace(/[&<>"'`=]/g, (c) => ESCAPES[c]);
/** A value shown inside pretty-printed JSON (raw payload blocks): JSON-escaped, then HTML-escaped. */
const escJson = (s: string) => esc(JSON.stringify(s).slice(1, -1));

/** What must never be in a page, whatever it shows: markup or script that came from data. */
function liveMarkup(html: string): string[] {
  const found: string[] = [];
  const checks: Array<[string, RegExp]> = [
    ['a <script> from data', /<script>alert\(1\)<\/script>/i],
    ['an event-handler attribute', /<[a-z][^<>]*\son[a-z]+\s*=/i],
    ['an <svg onload>', /<svg[^>]*onload/i],
    ['an <img src=x>', /<img[^>]*src\s*=\s*x\b/i],
    [
      'a javascript: URL in a link or form',
      /\b(href|src|action|formaction|xlink:href)\s*=\s*["']?\s*javascript:/i,
    ],
    ['a broken-out attribute', /"><img/],
    ['a closed textarea', /<\/textarea><svg/i],
    ['an unescaped template payload', /constructor\.constructor\('alert\(1\)'\)/],
  ];
  for (const [what, re] of checks) {
    const m = re.exec(html);
    if (m) found.push(`${what}: …${html.slice(Math.max(0, m.index - 60), m.index + 80)}…`);
  }
  return found;
}

describe('security: stored XSS renders inert on every page that shows it', () => {
  let t: TestApp;
  let world: World;
  let admin: Session;
  let operator: Session;
  let adminCsrf: string;
  const sets: number[] = [];
  const items: number[] = [];
  const policies: number[] = [];
  let addRun = 0;
  let sampleRun = 0;
  let retryRun = 0;
  let operatorNotes: string[] = [];
  let adminNotes: string[] = [];
  let failureMessages: string[] = [];
  const users = { admin: hostile('user', 0), operator: hostile('user', 1) };
  /** contoso's display name: every signed-in page lists it in the tenant switcher. */
  const tenantName = hostile('tenant', 1);
  let pagesChecked = 0;

  beforeAll(async () => {
    t = await createTestApp({ imports: [SampleProducerModule] });
    world = await seedWorld(t, { size: 100 });
    const contoso = world.contoso;
    [admin, operator] = await Promise.all([login(t, 'admin@example.com'), login(t, 'operator@example.com')]);
    adminCsrf = await admin.csrf();
    const q = (sql: string, params: unknown[]) => t.dataSource.query(sql, params);
    const form = (path: string, fields: Record<string, string | string[]>) =>
      admin.agent
        .post(path)
        .type('form')
        .send({ _csrf: adminCsrf, ...fields });

    // Backup sets named through the form, and policies added to the first through its form.
    for (let i = 0; i < PAYLOADS.length; i++) {
      const res = await form('/admin/t/contoso/backup-sets', {
        name: hostile('set', i),
        description: hostile('desc', i),
      }).expect(303);
      sets.push(Number(/backup-sets\/(\d+)$/.exec(res.headers.location)![1]));
    }
    policies.push(...contoso.policies.slice(0, PAYLOADS.length));
    await form(`/admin/t/contoso/backup-sets/${sets[0]}/add-policies`, {
      policy_ids: policies.map(String),
    }).expect(303);
    [{ id: addRun }] = await q(
      "SELECT MAX(id) AS id FROM operation_runs WHERE resource = 'backup_set' AND tenant_id = ?",
      [contoso.tenantId],
    );
    addRun = Number(addRun);
    await waitForTerminal(t, addRun);

    // What a hostile provider would deliver, written where the app stores it.
    for (let i = 0; i < policies.length; i++) {
      const [p] = await q('SELECT policy_type, external_id FROM policies WHERE id = ?', [policies[i]]);
      await q('UPDATE policies SET display_name = ? WHERE id = ?', [hostile('pol', i), policies[i]]);
      await q(
        'UPDATE inventory_snapshot_items SET display_name = ? WHERE run_id = ? AND policy_type = ? AND external_id = ?',
        [hostile('snap', i), contoso.syncRun, p.policy_type, p.external_id],
      );
      await q('UPDATE backup_items SET display_name = ? WHERE backup_set_id = ? AND policy_id = ?', [
        hostile('item', i),
        sets[0],
        policies[i],
      ]);
      const [item] = await q('SELECT id FROM backup_items WHERE backup_set_id = ? AND policy_id = ?', [
        sets[0],
        policies[i],
      ]);
      items.push(Number(item.id));
    }
    const findings: Array<{ id: number }> = await q(
      'SELECT id FROM drift_findings WHERE run_id = ? ORDER BY id',
      [contoso.driftRun],
    );
    expect(findings.length).toBeGreaterThan(0);
    const changes = JSON.stringify(
      PAYLOADS.map((_, k) => ({
        path: `settings.${hostile('path', k)}`,
        before: hostile('before', k),
        after: hostile('after', k),
        label: hostile('label', k),
      })),
    );
    for (const [j, f] of findings.entries())
      await q('UPDATE drift_findings SET display_name = ?, changes = ? WHERE id = ?', [
        hostile('drift', j),
        changes,
        f.id,
      ]);
    const auth = t.get<AuthService>(AuthService);
    const operatorId = (await auth.findByEmail('operator@example.com'))!.id;
    await q('UPDATE users SET name = ? WHERE id = ?', [users.admin, world.adminId]);
    await q('UPDATE users SET name = ? WHERE id = ?', [users.operator, operatorId]);
    await q('UPDATE tenants SET name = ? WHERE id = ?', [tenantName, contoso.tenantId]);
    // Written behind the app's back: move the auth version on, as the app's own renames do, so the
    // signed-in principals (cached per process) are read again.
    await q('UPDATE users SET auth_version = auth_version + 1', []);
    // And announce both, as the app's own renames do, so no process keeps the old names or auth states.
    await t.get<UsersRepository>(UsersRepository).namesChanged([world.adminId, operatorId]);
    await t.get<UsersRepository>(UsersRepository).authChanged([world.adminId, operatorId]);

    // A run whose payload and item ids are hostile; every item fails, so its failure messages are too.
    const runs = t.get<RunsService>(RunsService);
    const { run } = await runs.start({
      tenantId: contoso.tenantId,
      userId: operatorId,
      type: 'sample.echo',
      itemIds: PAYLOADS.map((p, i) => `fail-${i} ${p}`),
      payload: {
        greeting: hostile('greet', 3),
        ...Object.fromEntries(PAYLOADS.map((_, i) => [`k${i}`, hostile('payload', i)])),
      },
      idempotencyKey: hostile('key', 0),
    });
    sampleRun = run.id;
    const failed = await waitForTerminal(t, sampleRun);
    // The sanitizer strips tags from messages; what is left (quotes, template braces) must still be escaped.
    failureMessages = (failed.failures ?? []).map((f) => f.message);
    expect(failureMessages).toHaveLength(PAYLOADS.length);
    // The owner retries it: the audit trail names them (hostile name) and a child run fails the same way.
    await form(`/admin/t/contoso/operations/${sampleRun}/retry`, {}).expect(303);
    [{ id: retryRun }] = await q('SELECT MAX(id) AS id FROM operation_runs WHERE parent_run_id = ?', [
      sampleRun,
    ]);
    retryRun = Number(retryRun);
    await waitForTerminal(t, retryRun);
    // Both runs' failure notices are stored behind their ends: the notification pages are checked once they are.
    await runResultNotes(t, sampleRun);
    await runResultNotes(t, retryRun);
    await form('/admin/profile/tokens', { name: hostile('tok', 4) }).expect(303);

    const notes = async (userId: number) =>
      (
        (await q("SELECT body FROM notifications WHERE user_id = ? AND kind = 'run_failed'", [
          userId,
        ])) as Array<{
          body: string;
        }>
      ).map((n) => n.body);
    operatorNotes = await notes(operatorId);
    adminNotes = await notes(world.adminId);
    expect(operatorNotes.length).toBeGreaterThan(0);
    expect(adminNotes.length).toBeGreaterThan(0);
  });
  afterAll(async () => {
    console.log(`stored XSS: ${pagesChecked} pages checked`);
    await t?.close();
  });

  interface PageCase {
    /** Called once the fixtures exist. */
    url: () => string;
    as?: 'admin' | 'operator' | 'anonymous';
    status?: number;
    /** Values that must be on the page, escaped. */
    shows: () => string[];
    /** No user menu or tenant switcher: a fragment, or a page for visitors. */
    fragment?: boolean;
  }
  const c = () => world.contoso;
  const PAGES: Record<string, PageCase> = {
    'policies list': { url: () => '/admin/t/contoso/policies', shows: () => each('pol').map(esc) },
    ...Object.fromEntries(
      PAYLOADS.map((_, i) => [
        `policy detail ${i}`,
        { url: () => `/admin/t/contoso/policies/${policies[i]}`, shows: () => [esc(hostile('pol', i))] },
      ]),
    ),
    'policies of one sync (?sync=)': {
      url: () => `/admin/t/contoso/policies?sync=${c().syncRun}`,
      shows: () => each('snap').map(esc),
    },
    'policies search reflects the query': {
      url: () => `/admin/t/contoso/policies?q=${encodeURIComponent(PAYLOADS[0])}`,
      shows: () => [esc(PAYLOADS[0])],
    },
    'a 400 page quoting the bad value': {
      url: () => `/admin/t/contoso/policies?type=${encodeURIComponent(PAYLOADS[1])}`,
      status: 400,
      shows: () => [esc(PAYLOADS[1])],
    },
    'drift landing': { url: () => '/admin/t/contoso/drift', shows: () => [] },
    'drift findings': {
      url: () => `/admin/t/contoso/drift/findings?run=${c().driftRun}`,
      shows: () => [
        esc(hostile('drift', 0)),
        ...['path', 'before', 'after', 'label'].flatMap((tag) => each(tag).map(esc)),
      ],
    },
    'backup sets list': {
      url: () => '/admin/t/contoso/backup-sets',
      shows: () => [...each('set'), ...each('desc')].map(esc),
    },
    ...Object.fromEntries(
      PAYLOADS.map((_, i) => [
        `backup set detail ${i}`,
        {
          url: () => `/admin/t/contoso/backup-sets/${sets[i]}`,
          // The first set holds the hostile items; every detail page's picker lists the hostile policies.
          shows: () => [
            esc(hostile('set', i)),
            esc(hostile('desc', i)),
            ...(i === 0 ? each('item').map(esc) : []),
            ...each('pol').map(esc),
          ],
        },
      ]),
    ),
    ...Object.fromEntries(
      PAYLOADS.map((_, i) => [
        `backup item ${i}`,
        {
          url: () => `/admin/t/contoso/backup-sets/${sets[0]}/items/${items[i]}`,
          shows: () => [esc(hostile('item', i)), esc(hostile('set', 0))],
        },
      ]),
    ),
    'operations list': {
      url: () => '/admin/t/contoso/operations',
      shows: () => [esc(users.admin), esc(users.operator)],
    },
    'operations rows fragment': {
      url: () => '/admin/t/contoso/operations/rows',
      fragment: true,
      shows: () => [esc(users.operator)],
    },
    'run detail (hostile payload, items, failures)': {
      url: () => `/admin/t/contoso/operations/${sampleRun}`,
      shows: () => [
        esc(hostile('greet', 3)),
        ...each('payload').map(escJson),
        ...PAYLOADS.map((p, i) => esc(`fail-${i} ${p}`)),
        ...failureMessages.map(esc),
        esc(users.operator),
        esc(users.admin),
      ],
    },
    'run live fragment': {
      url: () => `/admin/t/contoso/operations/${sampleRun}/live`,
      fragment: true,
      shows: () => [...failureMessages.map(esc), esc(users.operator)],
    },
    'add-policies run detail (set name in Related and Context)': {
      url: () => `/admin/t/contoso/operations/${addRun}`,
      shows: () => [esc(hostile('set', 0))],
    },
    'retry run detail': {
      url: () => `/admin/t/contoso/operations/${retryRun}`,
      shows: () => [esc(users.admin)],
    },
    'notifications (operator: the failed run)': {
      url: () => '/admin/notifications',
      as: 'operator',
      shows: () => operatorNotes.map(esc),
    },
    'notifications (owner: the failed retry)': {
      url: () => '/admin/notifications',
      shows: () => adminNotes.map(esc),
    },
    'notification bell fragment': { url: () => '/admin/notifications/bell', fragment: true, shows: () => [] },
    'profile (token name)': { url: () => '/admin/profile', shows: () => [esc(hostile('tok', 4))] },
    'help page': { url: () => '/admin/help', shows: () => [] },
    'login page with a hostile next=': {
      url: () => `/login?next=${encodeURIComponent(PAYLOADS[2])}`,
      as: 'anonymous',
      fragment: true,
      shows: () => [],
    },
  };

  it.each(Object.entries(PAGES))('%s', async (_name, p) => {
    const url = p.url();
    const who = p.as === 'operator' ? operator.agent : p.as === 'anonymous' ? request(t.server) : admin.agent;
    const res = await who.get(url);
    pagesChecked++;
    expect({ url, status: res.status }).toEqual({ url, status: p.status ?? 200 });
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    const html = res.text;
    expect({ url, live: liveMarkup(html) }).toEqual({ url, live: [] });
    const shown = [
      ...p.shows(),
      // The layout: the user menu and the tenant switcher.
      ...(p.fragment ? [] : [esc(p.as === 'operator' ? users.operator : users.admin), esc(tenantName)]),
    ];
    expect({ url, missing: shown.filter((s) => !html.includes(s)) }).toEqual({ url, missing: [] });
  });

  it('a flash message quoting a hostile name is escaped (deleting a set)', async () => {
    const last = sets[sets.length - 1];
    const res = await admin.agent
      .post(`/admin/t/contoso/backup-sets/${last}/delete`)
      .type('form')
      .send({ _csrf: adminCsrf })
      .expect(303);
    const html = (await admin.agent.get(res.headers.location).expect(200)).text;
    pagesChecked++;
    expect(liveMarkup(html)).toEqual([]);
    expect(html).toContain(esc(hostile('set', sets.length - 1)));
    expect(html).toContain('deleted');
  });

  it('the runs API returns the hostile values as JSON data, never as a page', async () => {
    for (const url of [
      `/api/v1/tenants/contoso/runs?type=sample.echo`,
      `/api/v1/tenants/contoso/runs/${sampleRun}`,
    ]) {
      const res = await admin.agent.get(url).expect(200);
      pagesChecked++;
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      const run =
        'data' in res.body ? res.body.data.find((r: { id: number }) => r.id === sampleRun) : res.body;
      expect(run.payload).toEqual(
        expect.objectContaining({ k0: hostile('payload', 0), k4: hostile('payload', 4) }),
      );
      // The list leaves the item ids to the run's own answer.
      if ('data' in res.body) expect(run).not.toHaveProperty('item_ids');
      else expect(run.item_ids).toEqual(PAYLOADS.map((p, i) => `fail-${i} ${p}`));
    }
  });
});
