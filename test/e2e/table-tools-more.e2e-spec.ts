import { AuthService } from '../../src/auth';
import { TenantsService } from '../../src/tenants';
import { decodeHtml } from '../factories/flows';
import { insertRun, toDbDate } from '../factories/runs';
import { createTestApp, login, Session, TestApp } from '../factories/test-app';

/**
 * The Operations table tools on three more lists: Policies (sortable Name, Type and Last seen, page
 * size, "1–25 of 43", CSV), Drift findings (search by policy name, sort, page size, CSV) and Backup
 * sets (search, sort, page size). A bad parameter is a 400 shown beside the filter form with what was
 * typed kept. Everything lives in a tenant of its own ("more"), so every expectation comes from the
 * seeds. Names are chosen to sort alike under SQLite's binary and MySQL's case-insensitive collation.
 */

let t: TestApp;
let more: number;
let admin: Session;
let readonly: Session;

const pad = (n: number) => String(n).padStart(2, '0');
const WORDS = ['Alpha', 'Bravo', 'Charlie', 'Delta'];
const TYPES = ['deviceConfiguration', 'compliancePolicy', 'settingsCatalog'];
const FORMULA = '=SUM(1,2) "x"';
const HOUR = 3_600_000;

interface PolicySeed {
  id: number;
  name: string;
  type: string;
  seen: number;
}
interface FindingSeed {
  id: number;
  change: string;
  type: string;
  name: string;
}
interface SetSeed {
  id: number;
  name: string;
  items: number;
  updated: number;
}

const policies: PolicySeed[] = [];
const findings: FindingSeed[] = [];
const sets: SetSeed[] = [];
let driftRun = 0;

const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
/** Sorts by the keys given (each ascending), then by id; `desc` reverses the whole order. */
function ordered<T extends { id: number }>(rows: T[], keys: Array<(r: T) => string | number>, desc = false) {
  const up = desc ? -1 : 1;
  return rows
    .slice()
    .sort((a, b) => {
      for (const k of keys) {
        const c = cmp(k(a), k(b));
        if (c) return c * up;
      }
      return (a.id - b.id) * up;
    })
    .map((r) => r.id);
}

function idsIn(html: string, path: string): number[] {
  return [
    ...html.matchAll(new RegExp(`<td data-label="">(?:<a href="/admin/t/more/${path}/(\\d+)">)`, 'g')),
  ].map((m) => Number(m[1]));
}
const policyIds = (html: string) => idsIn(html, 'policies');
const setIds = (html: string) => idsIn(html, 'backup-sets');
/** Findings have no page of their own: their external id (`ext-<seed index>`) names them. */
const findingIds = (html: string) =>
  [...html.matchAll(/<code>ext-(\d+)<\/code>/g)].map((m) => findings[Number(m[1])].id);

function link(html: string, rel: 'next' | 'prev'): string | null {
  const m = new RegExp(`<a href="([^"]+)" rel="${rel}">`).exec(html);
  return m ? decodeHtml(m[1]) : null;
}

/** The header cell of a sortable column: its aria-sort and the address of its link. */
function header(html: string, label: string): { ariaSort: string | null; href: string } {
  const m = new RegExp(
    `<th scope="col"(?: class="num")?(?: aria-sort="(\\w+)")?><a href="([^"]+)" title="[^"]*">${label}`,
  ).exec(html);
  if (!m) throw new Error(`no sortable header "${label}"`);
  return { ariaSort: m[1] ?? null, href: decodeHtml(m[2]) };
}

/** Every id of a list, following its "Next" links from `first`. */
async function walk(s: Session, first: string, ids: (html: string) => number[]) {
  const pages: number[][] = [];
  const ranges: string[] = [];
  let url: string | null = first;
  while (url && pages.length < 20) {
    const res = await s.agent.get(url).expect(200);
    pages.push(ids(res.text));
    ranges.push(/<p class="list-range" id="list-range"><strong>([^<]*)<\/strong>/.exec(res.text)?.[1] ?? '');
    url = link(res.text, 'next');
    if (url && url.startsWith('?')) url = first.split('?')[0] + url;
  }
  return { pages, ranges };
}

function csvRows(text: string): string[] {
  return text.trimEnd().split('\r\n');
}

beforeAll(async () => {
  t = await createTestApp();
  const ds = t.dataSource;
  const mysql = ds.options.type === 'mysql';
  const at = (ms: number) => toDbDate(new Date(ms), mysql);
  const auth = t.get<AuthService>(AuthService);
  const tenants = t.get<TenantsService>(TenantsService);
  const adminId = (await auth.findByEmail('admin@example.com'))!.id;
  const readonlyId = (await auth.findByEmail('readonly@example.com'))!.id;
  more = (
    await tenants.create(
      { slug: 'more', name: 'More Ltd', microsoftTenantId: null, notes: null },
      { id: adminId },
    )
  ).id;
  await tenants.addMember(more, readonlyId, 'readonly', { id: null });
  const start = Date.now() - 100 * HOUR;

  const insert = async (table: string, row: Record<string, unknown>) => {
    const cols = Object.keys(row);
    await ds.query(
      `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
      Object.values(row),
    );
    const [r] = await ds.query(`SELECT MAX(id) AS id FROM ${table}`);
    return Number(r.id);
  };

  // 40 policies with distinct last-seen times, two sharing a name and a time (the id tie-break), a
  // formula-looking name, and two removed upstream (never listed).
  const addPolicy = async (name: string, type: string, seen: number, removed = false) => {
    const id = await insert('policies', {
      tenant_id: more,
      policy_type: type,
      external_id: `p-${policies.length}-${removed ? 'gone' : 'here'}`,
      display_name: name,
      platform: 'windows10',
      payload_hash: 'h'.repeat(64),
      last_sync_run_id: null,
      first_seen_at: at(start),
      last_seen_at: at(seen),
      removed_at: removed ? at(seen) : null,
    });
    if (!removed) policies.push({ id, name, type, seen });
  };
  for (let i = 0; i < 40; i++)
    await addPolicy(`${WORDS[i % 4]} ${pad(i)}`, TYPES[i % 3], start + ((i * 7) % 40) * HOUR);
  await addPolicy('Echo 99', TYPES[0], start + 50 * HOUR);
  await addPolicy('Echo 99', TYPES[0], start + 50 * HOUR);
  await addPolicy(FORMULA, TYPES[1], start + 60 * HOUR);
  await addPolicy('Alpha removed', TYPES[0], start + 70 * HOUR, true);
  await addPolicy('Zulu removed', TYPES[2], start + 71 * HOUR, true);

  // One comparison's 32 findings (another comparison's one finding must never show).
  driftRun = await insertRun(ds, {
    tenantId: more,
    userId: adminId,
    type: 'drift.generate',
    status: 'completed',
    createdAt: new Date(start),
    succeeded: 32,
    payload: { scope_key: 'all', scope_name: 'All policies', baseline_run_id: 1, current_run_id: 2 },
  });
  const CHANGES = ['modified', 'added', 'removed'];
  const addFinding = async (i: number, change: string, name: string, current = 2) => {
    const id = await insert('drift_findings', {
      tenant_id: more,
      run_id: driftRun,
      scope_key: 'all',
      baseline_run_id: 1,
      current_run_id: current,
      change_type: change,
      policy_type: TYPES[i % 3],
      external_id: `ext-${i}`,
      display_name: name,
      changes: JSON.stringify(
        change === 'modified' ? [{ path: 'settings.pin', before: '4', after: '6', label: 'PIN length' }] : [],
      ),
      fingerprint: `fp-${i}-${current}`,
      created_at: at(start + i * 1000),
    });
    if (current === 2) findings[i] = { id, change, type: TYPES[i % 3], name };
  };
  for (let i = 0; i < 31; i++) await addFinding(i, CHANGES[i % 3], `${WORDS[(i * 3) % 4]} ${pad(i)}`);
  await addFinding(31, 'modified', FORMULA);
  await addFinding(32, 'added', 'Other comparison', 3);

  // 30 backup sets with distinct item counts and update times.
  for (let i = 0; i < 30; i++) {
    const name = `${WORDS[i % 4]} set ${pad(i)}`;
    const items = (i * 11) % 30;
    const updated = start + ((i * 13) % 30) * HOUR;
    const id = await insert('backup_sets', {
      tenant_id: more,
      name,
      description: null,
      created_by: adminId,
      item_count: items,
      created_at: at(start),
      updated_at: at(updated),
    });
    sets.push({ id, name, items, updated });
  }

  [admin, readonly] = await Promise.all([login(t, 'admin@example.com'), login(t, 'readonly@example.com')]);
}, 120_000);

afterAll(() => t?.close());

const byName = (p: { name: string }) => p.name;

describe('Policies', () => {
  const base = '/admin/t/more/policies';

  it('lists by name, 25 a page, with "1–25 of 43" and Name marked sorted', async () => {
    const expected = ordered(policies, [byName]);
    expect(expected).toHaveLength(43);
    const { pages, ranges } = await walk(readonly, base, policyIds);
    expect(pages.map((p) => p.length)).toEqual([25, 18]);
    expect(pages.flat()).toEqual(expected);
    expect(ranges).toEqual(['1–25 of 43', '26–43 of 43']);
    const first = await readonly.agent.get(base).expect(200);
    expect(header(first.text, 'Name').ariaSort).toBe('ascending');
    expect(header(first.text, 'Type').ariaSort).toBeNull();
    expect(header(first.text, 'Last seen').ariaSort).toBeNull();
    expect(first.text).not.toContain('removed');
  });

  it.each([
    ['sort=type&order=asc', () => ordered(policies, [(p) => p.type, byName])],
    ['sort=type&order=desc', () => ordered(policies, [(p) => p.type, byName], true)],
    ['sort=seen&order=desc', () => ordered(policies, [(p) => p.seen], true)],
    ['sort=seen&order=asc', () => ordered(policies, [(p) => p.seen])],
    ['sort=name&order=desc', () => ordered(policies, [byName], true)],
  ])('sorts by %s, the id breaking ties', async (qs, expected) => {
    const res = await readonly.agent.get(`${base}?${qs}&limit=100`).expect(200);
    expect(policyIds(res.text)).toEqual(expected());
    expect(res.text).toContain('1–43 of 43');
  });

  it('a header link sorts by its column, flips the sorted one, and keeps the filters', async () => {
    const page = await readonly.agent.get(`${base}?q=a&limit=50`).expect(200);
    const seen = header(page.text, 'Last seen');
    expect(seen.href).toBe(`${base}?q=a&sort=seen&order=desc&limit=50`);
    const sorted = await readonly.agent.get(seen.href).expect(200);
    const matching = policies.filter((p) => p.name.toLowerCase().includes('a'));
    expect(policyIds(sorted.text)).toEqual(ordered(matching, [(p) => p.seen], true));
    expect(header(sorted.text, 'Last seen').ariaSort).toBe('descending');
    expect(header(sorted.text, 'Last seen').href).toBe(`${base}?q=a&sort=seen&order=asc&limit=50`);
    expect(header(sorted.text, 'Name').ariaSort).toBeNull();
    // The filter form keeps the sort the headers chose.
    expect(sorted.text).toContain('<input type="hidden" name="sort" value="seen">');
    expect(sorted.text).toContain('<input type="hidden" name="order" value="desc">');
  });

  it('offers 25, 50 and 100 rows a page, and pages keep the sort and the size', async () => {
    const res = await readonly.agent.get(`${base}?limit=50`).expect(200);
    expect(res.text).toMatch(
      /<select name="limit">\s*<option value="25" >25<\/option><option value="50" selected>50<\/option><option value="100" >100<\/option>/,
    );
    expect(policyIds(res.text)).toHaveLength(43);
    const walked = await walk(readonly, `${base}?sort=type&order=desc&limit=25`, policyIds);
    expect(walked.pages.flat()).toEqual(ordered(policies, [(p) => p.type, byName], true));
  });

  it('searches by name and filters by type, and says how many match', async () => {
    const res = await readonly.agent.get(`${base}?q=ALPHA&type=compliancePolicy`).expect(200);
    const expected = ordered(
      policies.filter((p) => p.name.startsWith('Alpha') && p.type === 'compliancePolicy'),
      [byName],
    );
    expect(expected.length).toBeGreaterThan(1);
    expect(policyIds(res.text)).toEqual(expected);
    expect(res.text).toContain(`1–${expected.length} of ${expected.length}`);
  });

  it('keeps a data-label on every cell', async () => {
    const res = await readonly.agent.get(`${base}?limit=100`).expect(200);
    const cells = [...res.text.matchAll(/<td(?=[\s>])([^>]*)>/g)].map((m) => m[1]);
    expect(cells).toHaveLength(43 * 5);
    expect(cells.filter((attrs) => !/data-label="[^"]*"/.test(attrs))).toEqual([]);
  });

  it('exports the filtered, sorted list as formula-safe CSV, linked beside the table', async () => {
    const page = await readonly.agent.get(`${base}?q=a&sort=seen&order=asc`).expect(200);
    const href = decodeHtml(/<a href="([^"]+)" download>Export CSV<\/a>/.exec(page.text)![1]);
    expect(href).toBe(`${base}/export.csv?q=a&sort=seen&order=asc`);
    const res = await readonly.agent.get(href).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(
      /^attachment; filename="policies-more-\d{4}-\d\d-\d\d\.csv"$/,
    );
    const lines = csvRows(res.text);
    expect(lines[0]).toBe(
      '"name","type","type_label","platform","external_id","last_seen_at","removed_at","url"',
    );
    const matching = policies.filter((p) => p.name.toLowerCase().includes('a'));
    const urls = lines.slice(1).map((l) => Number(/"\/admin\/t\/more\/policies\/(\d+)"$/.exec(l)![1]));
    expect(urls).toEqual(ordered(matching, [(p) => p.seen]));

    const all = csvRows((await readonly.agent.get(`${base}/export.csv`).expect(200)).text);
    expect(all).toHaveLength(44);
    const formula = policies.find((p) => p.name === FORMULA)!;
    expect(all).toContain(
      `"'=SUM(1,2) ""x""","compliancePolicy","Compliance","windows10","p-42-here","${new Date(formula.seen).toISOString()}","","/admin/t/more/policies/${formula.id}"`,
    );
  });

  it.each([
    ['sort=owner&q=Alpha', 'sort', 'Unknown sort &quot;owner&quot;. Sort by one of: name, type, seen.'],
    ['limit=7&q=Alpha', 'limit', '&quot;limit&quot; must be 25, 50 or 100 rows a page.'],
    [`q=${'x'.repeat(300)}`, 'q', 'The search is at most 100 characters (300 were given).'],
    ['order=up&q=Alpha', 'order', '&quot;order&quot; must be &quot;asc&quot;'],
  ])(
    'a bad parameter (%s) is a 400 beside the filter form, what was typed kept',
    async (qs, field, message) => {
      const res = await readonly.agent.get(`${base}?${qs}`).expect(400);
      expect(res.text).toContain('That request could not be understood: the filters were not applied.');
      const inline =
        /<div class="filter-error error-page-inline" role="alert" id="filter-error">[\s\S]*?<\/div>/.exec(
          res.text,
        )![0];
      expect(inline).toContain(message);
      expect(res.text).toContain(`action="${base}" class="filters" aria-describedby="filter-error"`);
      const typed = new URLSearchParams(qs);
      expect(res.text).toContain(`name="q" value="${typed.get('q')}" maxlength="100"`);
      if (field === 'limit')
        expect(res.text).toMatch(
          /<select name="limit" aria-invalid="true">[\s\S]*<option value="7" selected>7<\/option>/,
        );
      else if (field === 'q')
        expect(res.text).toContain(`name="q" value="${'x'.repeat(300)}" maxlength="100" aria-invalid="true"`);
      else expect(res.text).toContain(`name="${field}" value="${typed.get(field)}" aria-invalid="true"`);
      expect(policyIds(res.text)).toEqual([]);
      expect(res.text).not.toContain('Export CSV');
    },
  );

  it('a bad type is named inline too, and the CSV answers a bad parameter with a readable 400', async () => {
    const res = await readonly.agent.get(`${base}?type=nope`).expect(400);
    expect(res.text).toContain('Unknown policy type &quot;nope&quot;.');
    expect(res.text).toMatch(/<select name="type" aria-invalid="true">/);
    const csv = await readonly.agent.get(`${base}/export.csv?sort=owner`).expect(400);
    expect(csv.headers['content-type']).toMatch(/^text\/html/);
    expect(csv.text).toContain('Unknown sort');
  });
});

describe('Drift findings', () => {
  const base = '/admin/t/more/drift/findings';
  const defaultOrder = (rows: FindingSeed[], desc = false) =>
    ordered(rows, [(f) => f.change, (f) => f.type, byName], desc);

  it('lists by change type (as before), 25 a page, with "1–25 of 32"', async () => {
    const walked = await walk(readonly, `${base}?run=${driftRun}`, findingIds);
    expect(walked.pages.flat()).toEqual(defaultOrder(findings));
    expect(walked.ranges).toEqual(['1–25 of 32', '26–32 of 32']);
    const page = await readonly.agent.get(`${base}?run=${driftRun}`).expect(200);
    expect(header(page.text, 'Change').ariaSort).toBe('ascending');
    expect(page.text).not.toContain('Other comparison');
  });

  it.each([
    ['sort=name&order=asc', () => ordered(findings, [byName])],
    ['sort=name&order=desc', () => ordered(findings, [byName], true)],
    ['sort=change&order=desc', () => defaultOrder(findings, true)],
  ])('sorts by %s', async (qs, expected) => {
    const res = await readonly.agent.get(`${base}?run=${driftRun}&${qs}&limit=100`).expect(200);
    expect(findingIds(res.text)).toEqual(expected());
    expect(res.text).toContain('1–32 of 32');
  });

  it('searches by policy name, with the change type and a header link that keeps both', async () => {
    const res = await readonly.agent.get(`${base}?run=${driftRun}&q=bRAVO&change=modified`).expect(200);
    const matching = findings.filter((f) => f.name.startsWith('Bravo') && f.change === 'modified');
    expect(matching.length).toBeGreaterThan(1);
    expect(findingIds(res.text)).toEqual(defaultOrder(matching));
    expect(res.text).toContain(`1–${matching.length} of ${matching.length}`);
    const policy = header(res.text, 'Policy');
    expect(policy.ariaSort).toBeNull();
    expect(policy.href).toBe(`${base}?run=${driftRun}&change=modified&q=bRAVO&sort=name&order=asc`);
    const sorted = await readonly.agent.get(policy.href).expect(200);
    expect(findingIds(sorted.text)).toEqual(ordered(matching, [byName]));
    expect(header(sorted.text, 'Policy').ariaSort).toBe('ascending');
  });

  it('offers 25, 50 and 100 rows a page', async () => {
    const res = await readonly.agent.get(`${base}?run=${driftRun}&limit=50`).expect(200);
    expect(res.text).toMatch(/<option value="50" selected>50<\/option>/);
    expect(findingIds(res.text)).toHaveLength(32);
  });

  it('exports the filtered list as formula-safe CSV', async () => {
    const page = await readonly.agent.get(`${base}?run=${driftRun}&change=modified&sort=name`).expect(200);
    const href = decodeHtml(/<a href="([^"]+)" download>Export CSV<\/a>/.exec(page.text)![1]);
    expect(href).toBe(`${base}/export.csv?run=${driftRun}&change=modified&sort=name&order=asc`);
    const res = await readonly.agent.get(href).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(
      new RegExp(`^attachment; filename="drift-findings-more-run-${driftRun}-\\d{4}-\\d\\d-\\d\\d\\.csv"$`),
    );
    const lines = csvRows(res.text);
    expect(lines[0]).toBe(
      '"change","policy_name","policy_type","type_label","external_id","changed_settings","run_id","found_at"',
    );
    const modified = findings.filter((f) => f.change === 'modified');
    const ext = lines.slice(1).map((l) => Number(/"ext-(\d+)"/.exec(l)![1]));
    expect(ext.map((i) => findings[i].id)).toEqual(ordered(modified, [byName]));
    const formula = lines.find((l) => l.includes('"ext-31"'))!;
    expect(formula).toMatch(
      new RegExp(
        `^"modified","'=SUM\\(1,2\\) ""x""","compliancePolicy","Compliance","ext-31","PIN length \\(settings\\.pin\\): 4 → 6","${driftRun}","\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z"$`,
      ),
    );
    const searched = csvRows(
      (await readonly.agent.get(`${base}/export.csv?run=${driftRun}&q=delta`).expect(200)).text,
    );
    expect(searched.length - 1).toBe(findings.filter((f) => f.name.startsWith('Delta')).length);
  });

  it.each([
    ['sort=owner&q=Alpha', 'Unknown sort &quot;owner&quot;. Sort by one of: change, name.', 'sort'],
    ['limit=7&q=Alpha', '&quot;limit&quot; must be 25, 50 or 100 rows a page.', 'limit'],
    [`q=${'y'.repeat(300)}`, 'The search is at most 100 characters (300 were given).', 'q'],
  ])(
    'a bad parameter (%s) is a 400 beside the filter form, the findings shown without it',
    async (qs, message, field) => {
      const res = await readonly.agent.get(`${base}?run=${driftRun}&${qs}`).expect(400);
      expect(res.text).toContain(
        `id="filter-error">${message} The findings below are shown without that filter.</p>`,
      );
      expect(res.text).toContain('class="filters" aria-describedby="filter-error"');
      const typed = new URLSearchParams(qs);
      if (field === 'q') {
        expect(res.text).toContain(`name="q" value="${'y'.repeat(300)}" maxlength="100" aria-invalid="true"`);
        expect(findingIds(res.text)).toEqual(defaultOrder(findings).slice(0, 25));
      } else {
        expect(res.text).toContain(`name="q" value="Alpha" maxlength="100"`);
        if (field === 'limit')
          expect(res.text).toMatch(
            /<select name="limit" aria-invalid="true">[\s\S]*<option value="7" selected>7<\/option>/,
          );
        else expect(res.text).toContain(`name="sort" value="${typed.get('sort')}" aria-invalid="true"`);
        // Without the bad parameter: the search still applies.
        expect(findingIds(res.text)).toEqual(
          defaultOrder(findings.filter((f) => f.name.startsWith('Alpha'))),
        );
      }
      const csv = await readonly.agent.get(`${base}/export.csv?run=${driftRun}&${qs}`).expect(400);
      expect(csv.headers['content-type']).toMatch(/^text\/html/);
    },
  );
});

describe('Backup sets', () => {
  const base = '/admin/t/more/backup-sets';

  it('lists by name, 25 a page, with "1–25 of 30"', async () => {
    const walked = await walk(readonly, base, setIds);
    expect(walked.pages.flat()).toEqual(ordered(sets, [byName]));
    expect(walked.ranges).toEqual(['1–25 of 30', '26–30 of 30']);
    const page = await readonly.agent.get(base).expect(200);
    expect(header(page.text, 'Name').ariaSort).toBe('ascending');
  });

  it.each([
    ['sort=items&order=desc', () => ordered(sets, [(s) => s.items], true)],
    ['sort=items&order=asc', () => ordered(sets, [(s) => s.items])],
    ['sort=updated&order=desc', () => ordered(sets, [(s) => s.updated], true)],
    ['sort=name&order=desc', () => ordered(sets, [byName], true)],
  ])('sorts by %s', async (qs, expected) => {
    const res = await readonly.agent.get(`${base}?${qs}&limit=50`).expect(200);
    expect(setIds(res.text)).toEqual(expected());
    expect(res.text).toContain('1–30 of 30');
  });

  it('searches by name; the Items header sorts largest first and keeps the search', async () => {
    const res = await readonly.agent.get(`${base}?q=CHARLIE`).expect(200);
    const matching = sets.filter((s) => s.name.startsWith('Charlie'));
    expect(setIds(res.text)).toEqual(ordered(matching, [byName]));
    expect(res.text).toContain(`1–${matching.length} of ${matching.length}`);
    const items = header(res.text, 'Items');
    expect(items.href).toBe(`${base}?q=CHARLIE&sort=items&order=desc`);
    const sorted = await readonly.agent.get(items.href).expect(200);
    expect(setIds(sorted.text)).toEqual(ordered(matching, [(s) => s.items], true));
    expect(header(sorted.text, 'Items').ariaSort).toBe('descending');
    const cells = [...sorted.text.matchAll(/<td(?=[\s>])([^>]*)>/g)].map((m) => m[1]);
    expect(cells.filter((attrs) => !/data-label="[^"]*"/.test(attrs))).toEqual([]);
  });

  it.each([
    ['limit=7&q=Alpha', '&quot;limit&quot; must be 25, 50 or 100 rows a page.'],
    ['sort=owner&q=Alpha', 'Unknown sort &quot;owner&quot;. Sort by one of: name, items, updated.'],
    [`q=${'z'.repeat(300)}`, 'The search is at most 100 characters (300 were given).'],
  ])(
    'a bad parameter (%s) is a 400 beside the filter form, and the create form stays',
    async (qs, message) => {
      const res = await admin.agent.get(`${base}?${qs}`).expect(400);
      expect(
        /<div class="filter-error error-page-inline" role="alert" id="filter-error">[\s\S]*?<\/div>/.exec(
          res.text,
        )![0],
      ).toContain(message);
      expect(res.text).toContain(`name="q" value="${new URLSearchParams(qs).get('q')}" maxlength="100"`);
      expect(setIds(res.text)).toEqual([]);
      expect(res.text).toContain('<form method="post" action="/admin/t/more/backup-sets" id="create-set">');
    },
  );

  it('a refused create still shows its error beside its field, the list beside it', async () => {
    const res = await admin.agent
      .post(base)
      .type('form')
      .send({ _csrf: await admin.csrf(), name: sets[0].name, description: 'dup' });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/<small class="field-error" id="e-name">[^<]+<\/small>/);
    expect(res.text).toContain(`value="${sets[0].name}"`);
    expect(setIds(res.text)).toEqual(ordered(sets, [byName]).slice(0, 25));
    expect(res.text).not.toContain('id="filter-error"');
  });
});
