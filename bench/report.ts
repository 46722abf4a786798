import { Figure, missBy } from './context';
import { planText } from './explain';
import type { MachineInfo } from './machine';
import type { CpuProfileSummary } from './profile';
import type { BaselineResults } from './sections/baselines';
import type { BookkeepingResults } from './sections/bookkeeping';
import type { BulkResults } from './sections/bulk-items';
import type { DriftResults } from './sections/drift';
import type { GraphSyncResults } from './sections/graph-sync';
import { CASES, flaggedPlan, ListResults, ScaleResult, scaleName } from './sections/list';
import type { WebResults } from './sections/web';
import type { StartupResults } from './startup';
import { fmt } from './stats';

export interface BenchResults {
  mode: 'full' | 'smoke';
  machine: MachineInfo;
  loadEnd: string;
  durationMs: number;
  list?: ListResults;
  bookkeeping?: BookkeepingResults;
  bulk?: BulkResults;
  drift?: DriftResults;
  web?: WebResults;
  baselines?: BaselineResults;
  startup?: StartupResults;
  graphSync?: GraphSyncResults;
  profiles: Record<string, CpuProfileSummary>;
  /** 1/5/15-minute load average as each section started. */
  sectionLoad: Record<string, string>;
  errors: string[];
}

export function allFigures(r: BenchResults): Figure[] {
  return [r.list, r.bookkeeping, r.bulk, r.drift, r.web, r.baselines, r.startup, r.graphSync]
    .flatMap((s) => s?.figures ?? [])
    .sort((a, b) => a.section.localeCompare(b.section));
}

function verdict(f: Figure): string {
  if (f.pass === undefined) return '–';
  return f.pass ? 'PASS' : 'MISS';
}

const ratioText = (f: Figure) => (f.ratio === undefined ? '' : fmt(f.ratio));

/** The table on the console: one line per figure. */
export function consoleTable(figures: Figure[]): string {
  const rows = [
    ['Section', 'Measure', 'Value', 'Target', 'Ratio', 'Result'],
    ...figures.map((f) => [f.section, f.name, f.value, f.target, ratioText(f), verdict(f)]),
  ];
  const widths = rows[0].map((_, i) =>
    Math.min(i === 2 ? 60 : 80, Math.max(...rows.map((r) => r[i].length))),
  );
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join(' | ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.slice(1).map(line)].join('\n');
}

const esc = (s: string) => s.replace(/\|/g, '\\|');

function mdTable(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

function listDetails(l: ListResults): string {
  const out: string[] = [];
  out.push(
    mdTable(
      ['runs', 'busy tenant', 'seeded in', 'deep page offset'],
      l.scales.map((s) => [
        s.rows.toLocaleString('en-US'),
        s.busyRows.toLocaleString('en-US'),
        `${fmt(s.seedMs / 1000)} s`,
        s.deepOffset.toLocaleString('en-US'),
      ]),
    ),
  );
  out.push('');
  out.push(
    'Server-side p50 / p95 in ms (`X-Response-Time`), one request at a time, every page of a scale in the same interleaved rounds. The reference rows are pages whose cost does not depend on the number of runs: they show how much background load on the machine moved between the scales.',
  );
  out.push('');
  for (const surface of ['html', 'api'] as const) {
    out.push(
      mdTable(
        [
          surface === 'html' ? 'HTML page' : 'JSON API',
          ...l.scales.map(scaleName),
          `p50 ${scaleName(l.scales.at(-1)!)} / ${scaleName(l.scales[0])}`,
        ],
        [
          ...CASES.map((c) => [
            c.label,
            ...l.scales.map((s) => `${fmt(s[surface][c.key].p50)} / ${fmt(s[surface][c.key].p95)}`),
            fmt(l.scales.at(-1)![surface][c.key].p50 / l.scales[0][surface][c.key].p50),
          ]),
          [
            `reference: ${surface === 'html' ? '`/admin/help`' : 'one run by id'}`,
            ...l.scales.map((s) => `${fmt(s.control[surface].p50)} / ${fmt(s.control[surface].p95)}`),
            fmt(l.scales.at(-1)!.control[surface].p50 / l.scales[0].control[surface].p50),
          ],
        ],
      ),
    );
    out.push('');
  }
  out.push(
    `Rows on the page (API, limit 25) at ${l.scales.map(scaleName).join(' / ')}: ${CASES.map((c) => `${c.label} ${l.scales.map((s) => s.returned[c.key]).join('/')}`).join('; ')}.`,
  );
  out.push('');
  out.push(
    `Bull Board's failed-jobs API (\`/admin/queues/api/queues?activeQueue=bench-board&status=failed&page=1&jobsPerPage=10\`, ${l.boardJobs.toLocaleString('en-US')} failed jobs — the first thousand failed by a worker, the rest copies of them in Bull's own Redis layout, filled in ${fmt(l.boardFillMs / 1000)} s — measured in the same rounds as the ${scaleName(l.scales.at(-1)!)} lists): p50 ${fmt(l.board.p50)} ms, p95 ${fmt(l.board.p95)} ms. That board is mounted inside the app and pays its middleware (session, helmet, CSRF); the same queue in Bull Board on an Express server of its own (\`@bull-board/express\`, in the bench's process, view cache on, nothing in front but \`X-Response-Time\`), in the same rounds: its page for the failed tab (\`/queue/bench-board?status=failed\`, the ${fmt(l.standaloneBoard.html.bytes / 1024)} KB shell of its client-side UI) p50 ${fmt(l.standaloneBoard.html.p50)} ms, p95 ${fmt(l.standaloneBoard.html.p95)} ms; the JSON that page then loads (\`/api/queues?activeQueue=bench-board&status=failed&page=1\`, ten jobs) p50 ${fmt(l.standaloneBoard.api.p50)} ms, p95 ${fmt(l.standaloneBoard.api.p95)} ms.`,
  );
  out.push('');
  out.push(
    `Every list figure above reads its rows from the database on each request (the app's page cache off). The app ships with it on (\`RUNS_PAGE_CACHE\`): a tenant's first pages are kept until one of its runs changes in any process. Measured at ${scaleName(l.scales.at(-1)!)} in rounds of their own, repeat views of the first page (no filter): HTML p50 ${fmt(l.kept.html.p50)} ms, p95 ${fmt(l.kept.html.p95)} ms; API p50 ${fmt(l.kept.api.p50)} ms, p95 ${fmt(l.kept.api.p95)} ms; the stand-alone board in the same rounds: page p50 ${fmt(l.kept.board.html.p50)} ms, API p50 ${fmt(l.kept.board.api.p50)} ms.`,
  );
  out.push('');
  const top = l.scales.at(-1)!;
  out.push(
    `#### EXPLAIN of the list queries at ${scaleName(top)} runs (MariaDB \`ANALYZE\`: rows≈ is the estimate, read= what the query really read)`,
  );
  out.push('');
  out.push(
    mdTable(
      ['query', 'plan'],
      CASES.map((c) => [c.label, planText(top.plans[c.key])]),
    ),
  );
  out.push('');
  const bad = l.scales.flatMap((s) =>
    CASES.filter((c) => flaggedPlan(s.plans[c.key])).map((c) => `${c.label} @ ${scaleName(s)}`),
  );
  out.push(
    bad.length
      ? `**Flagged plans:** ${bad.join(', ')}`
      : 'No list plan at any scale reads the whole table or sorts outside an index.',
  );
  out.push('');
  out.push(`#### Every statement of one Operations page at ${scaleName(top)} runs`);
  out.push('');
  out.push(
    `Each read is then run alone, again and again, through the app's pool: its median round trip at ${l.scales.map(scaleName).join(' / ')} shows which part of the page grows with the data.`,
  );
  out.push('');
  const msAt = (sc: ScaleResult, i: number) => {
    const x = sc.pageStatements[i];
    return x && x.ms !== null && x.sql.slice(0, 60) === top.pageStatements[i].sql.slice(0, 60)
      ? fmt(x.ms)
      : '–';
  };
  out.push(
    mdTable(
      ['statement', `plan at ${scaleName(top)}`, `ms alone (${l.scales.map(scaleName).join(' / ')})`],
      top.pageStatements.map((s, i) => [
        `\`${s.sql.slice(0, 140)}${s.sql.length > 140 ? '…' : ''}\``,
        s.plan ? planText(s.plan) : '(write)',
        s.plan ? l.scales.map((sc) => msAt(sc, i)).join(' / ') : '',
      ]),
    ),
  );
  return out.join('\n');
}

function profileText(title: string, p: CpuProfileSummary): string {
  return [
    `${title} — main-thread CPU profile over ${fmt(p.totalMs / 1000)} s, self time by place:`,
    '',
    mdTable(
      ['place', 'ms', '%'],
      p.places.map((e) => [e.name, fmt(e.ms), fmt(e.pct)]),
    ),
    '',
    'Top functions (self time):',
    '',
    mdTable(
      ['function', 'ms', '%'],
      p.functions.map((e) => [`\`${e.name}\``, fmt(e.ms), fmt(e.pct)]),
    ),
  ].join('\n');
}

export function markdown(r: BenchResults): string {
  const figures = allFigures(r);
  const m = r.machine;
  const out: string[] = [];
  out.push('# Benchmarks');
  out.push('');
  out.push(
    `Written by \`npm run bench\` (code in \`bench/\`) on ${m.date}; the whole run took ${fmt(r.durationMs / 60_000)} min. Every ratio below compares two figures taken in the same run, against the same MariaDB and Redis.`,
  );
  out.push('');
  out.push('## Machine');
  out.push('');
  out.push(`- \`nproc\`: ${m.nproc} (${m.cpu}); ${m.kernel}`);
  out.push(
    `- Node ${m.node}; MariaDB ${m.mariadb} (buffer pool ${m.bufferPool}, innodb_flush_log_at_trx_commit=${m.flushAtCommit}); Redis ${m.redis}`,
  );
  out.push(
    `- load average (1/5/15 min) at start ${m.loadStart}, at end ${r.loadEnd}; as each section started: ${Object.entries(
      r.sectionLoad,
    )
      .map(([k, v]) => `${k.replace(/ \(.*\)$/, '')} ${v}`)
      .join('; ')} — MariaDB, Redis and the CPUs are shared with whatever else runs on this machine`,
  );
  out.push('');
  out.push('```');
  out.push(`$ free -g\n${m.free}`);
  out.push('```');
  out.push('');
  out.push('## Results');
  out.push('');
  out.push(
    mdTable(
      ['section', 'measure', 'value', 'target', 'ratio', 'result'],
      figures.map((f) => [f.section, f.name, f.value, f.target, ratioText(f), verdict(f)]),
    ),
  );
  out.push('');
  const misses = figures.filter((f) => f.pass === false);
  out.push('## Missed targets');
  out.push('');
  if (!misses.length) out.push('None.');
  for (const f of misses)
    out.push(
      `- **${f.section} — ${f.name}**: ${f.value}; target ${f.target}${missBy(f) ? ` (${missBy(f)})` : ''}.${f.note ? ` Context: ${f.note}.` : ''}`,
    );
  if (r.errors.length) {
    out.push('');
    out.push('## Errors');
    out.push('');
    for (const e of r.errors) out.push(`- ${e}`);
  }
  out.push('');
  out.push('## Details');
  if (r.list) {
    out.push('');
    out.push('### 1. Operations list');
    out.push('');
    out.push(
      'Runs over 50 tenants, the busy one holding a fifth, 90 days of history (45 % inventory.sync, 30 % drift.generate, 25 % backup_set.add_policies; ~85 % succeeded, the rest partial or failed), all ended. Each scale is the previous one plus the rows in between, ids growing with created_at. The queries hit the busy tenant as the demo admin (owner of all 50 tenants, platform ops): HTML with the session cookie, the API with a personal API token.',
    );
    out.push('');
    out.push(listDetails(r.list));
    if (r.profiles.list) {
      out.push('');
      out.push(profileText('Operations list, one request at a time', r.profiles.list));
    }
  }
  if (r.bookkeeping) {
    const b = r.bookkeeping;
    out.push('');
    out.push('### 2. Run bookkeeping');
    out.push('');
    out.push(
      mdTable(
        ['variant', 'count', 'per second', 'SQL statements each (this process)', 'server Questions each'],
        [
          ['hub: start → job → one item → finish, events + notifications', b.hub, 'runs'] as const,
          ['(b) bare Bull job: INSERT + UPDATE', b.bareSql, 'jobs'] as const,
          ['(a) bare Bull no-op job', b.bare, 'jobs'] as const,
        ].map(([name, t]) => [
          name,
          t.count.toLocaleString('en-US'),
          fmt(t.perSecond),
          fmt(t.statementsPer),
          fmt(t.questionsPer),
        ]),
      ),
    );
    out.push('');
    out.push(
      `(b) and the hub were timed in ${b.rounds.length} alternating rounds (the table adds them up); the hub's ratio to (b) per round: ${b.rounds
        .map((x) => fmt(x.hub.perSecond / x.bareSql.perSecond))
        .join(
          ', ',
        )} (${b.rounds.map((x) => `${fmt(x.hub.perSecond)} vs ${fmt(x.bareSql.perSecond)}`).join('; ')} /s).`,
    );
    out.push('');
    out.push(
      `One hub run alone sends these statements (${b.oneRunTransactions} commits, each a redo-log flush at innodb_flush_log_at_trx_commit=${m.flushAtCommit}):`,
    );
    out.push('');
    out.push(
      mdTable(
        ['statement', 'count'],
        b.oneRun.map((s) => [`\`${s.statement}\``, String(s.count)]),
      ),
    );
    if (r.profiles.bookkeeping) {
      out.push('');
      out.push(profileText('Hub runs', r.profiles.bookkeeping));
    }
  }
  if (r.bulk) {
    const b = r.bulk;
    out.push('');
    out.push('### 3. Bulk items');
    out.push('');
    out.push(
      `A demo tenant of ${b.items.toLocaleString('en-US')} policies synced through the app (${fmt(b.syncMs / 1000)} s), then \`backup_set.add_policies\` over all of them, timed from \`startAddPolicies\` (selection check included) to the run's finish: ${fmt(b.ms / 1000)} s, ${fmt(b.perSecond)} items/s, ${b.statementsPerItem.toFixed(4)} statements per item from this process (${b.questionsPerItem.toFixed(4)} by the server's Questions counter, which also sees other clients). Outcome: ${b.outcome}.`,
    );
  }
  if (r.drift) {
    const d = r.drift;
    out.push('');
    out.push('### 4. Drift');
    out.push('');
    out.push(
      `Two snapshots of ${d.policies.toLocaleString('en-US')} demo policies, generations 1 and 2 with a 2 % change rate (${d.changes.added} added, ${d.changes.removed} removed, ${d.changes.modified} modified), written with the inventory's \`writeSyncBatch\` (${fmt(d.prepareMs / 1000)} s). \`drift.generate\` started through \`DriftService.startGenerate\` and ran by the app's worker: ${fmt(d.seconds)} s to finish, ${d.findings} findings (exactly the demo tenant's changes). RSS: ${fmt(d.baselineRssMb)} MB before (after a full GC), peak ${fmt(d.peakRssMb)} MB (kernel high-water mark, reset before the run, and 20 ms samples), +${fmt(d.deltaMb)} MB. The run is measured in a fresh Node process that holds only the app (loaded through ts-node's transpile-only hook, as \`npm run bench\` runs everything), with its own Bull prefix so that no other worker takes the job.`,
    );
    if (r.profiles.drift) {
      out.push('');
      out.push(profileText('drift.generate', r.profiles.drift));
    }
  }
  if (r.web) {
    const w = r.web;
    out.push('');
    out.push('### 5. Web');
    out.push('');
    out.push(
      `10 keep-alive connections from a worker thread, ${w.seconds} s per page in alternating rounds: Operations list (busy tenant, first page, largest scale) ${fmt(w.listRps)} req/s, server p50 ${fmt(w.listP50)} ms; \`/admin/help\` ${fmt(w.helpRps)} req/s, server p50 ${fmt(w.helpP50)} ms.`,
    );
    if (r.profiles.web) {
      out.push('');
      out.push(profileText('Operations list under load', r.profiles.web));
    }
  }
  if (r.baselines) {
    const b = r.baselines;
    out.push('');
    out.push('### 6. Bare NestJS baselines');
    out.push('');
    out.push(
      `Five servers, each a Node process of its own loaded through ts-node's transpile-only hook, NODE_ENV=production: the app's own \`src/main.ts\` four times on the bench database (LOG_LEVEL=warn, serving every app page here; LOG_LEVEL=info and a warn twin, each serving the list alone, the two sides of target 5; warn with RUNS_PAGE_CACHE=false), and the bare NestJS 11 app of \`bench/bare/\` (the app's Nest, Express and hbs packages; no session, no database, Nest's logger off; view cache on). Their logs go to a file. 10 keep-alive connections from the same worker-thread load generator, ${b.seconds} s per page in ${b.rounds} alternating rounds, each page warmed for at least a second first, every other round in reverse order (the list at warn and at info side by side, swapping places); signed-in pages use ten sessions (one per connection), Bearer requests one personal API token. Client-side p50: the bare app sends no \`X-Response-Time\`.`,
    );
    out.push('');
    out.push(
      mdTable(
        ['page', 'req/s', 'client p50 ms', 'log bytes per request'],
        Object.values(b.pages).map((p) => [p.label, fmt(p.rps), fmt(p.clientP50), fmt(p.logBytesPerRequest)]),
      ),
    );
  }
  if (r.startup) {
    const s = r.startup;
    out.push('');
    out.push('### 7. Startup');
    out.push('');
    out.push(
      `\`npm start\` in the repository root as a user runs it (none of the app's settings in the environment (\`.env.example\`) but a temporary \`DATABASE_URL=sqlite:…\` and a free PORT; the app starts its own redis-server), timed from the spawn to the first 200 on \`/login\`, polled every 25 ms; each start's process group is then stopped as Ctrl-C stops it. Unchanged built tree: after one unmeasured start that builds the working copy and creates the database, ${s.runs} measured restart${s.runs === 1 ? '' : 's'} on it: ${s.built.map((x) => `${fmt(x)} s`).join(', ')}. Right after \`npm ci\`: \`dist/\`, \`node_modules/.cache\`, \`.swc\` and \`*.tsbuildinfo\` removed before each start, each on an empty database: ${s.fresh.map((x) => `${fmt(x)} s`).join(', ')}. Also \`npx ts-node --transpile-only bench/startup.ts [--runs=3]\`.`,
    );
  }
  if (r.graphSync) {
    const g = r.graphSync;
    out.push('');
    out.push('### 8. Graph sync');
    out.push('');
    out.push(
      `An \`inventory.sync\` of a simulated Microsoft tenant of ${g.policies.toLocaleString('en-US')} policies (every policy type of the Graph source, settings catalog settings paged), through the app's own start, worker and Graph client (client secret, GRAPH_MAX_CONCURRENCY=4), against the HTTPS simulator of \`test/graph-sim/\` adding ${g.latencyMs} ms to every answer. The app runs in-process as in sections 1–5, booted for this section alone (the bench's app is closed first) with the simulator's settings and a Redis prefix of its own. ${fmt(g.ms / 1000)} s: ${fmt(g.perSecond)} policies/s; ${g.requests.toLocaleString('en-US')} Graph requests (${(g.requests / g.policies).toFixed(3)} per policy) against the ${g.minimum.toLocaleString('en-US')} that tenant needs at the least (one per list page, one per policy detail Graph does not inline, one per settings page); ${g.tokens} token request${g.tokens === 1 ? '' : 's'}; at most ${g.maxInFlight} requests in flight.`,
    );
  }
  out.push('');
  out.push('## How to reproduce');
  out.push('');
  out.push('```sh');
  out.push(
    '# MariaDB/MySQL and Redis running; the bench creates (and drops) its own database and Redis key prefix',
  );
  out.push('DATABASE_URL=mysql://root@127.0.0.1:3306/test REDIS_URL=redis://127.0.0.1:6379 npm run bench');
  out.push('npm run bench -- --smoke    # small sizes, every section, a few minutes (CI)');
  out.push('npm run bench -- --keep     # keep the bench database for inspection');
  out.push('npx ts-node --transpile-only bench/startup.ts   # only the `npm start` timings (section 7)');
  out.push('```');
  out.push('');
  out.push(
    'Without DATABASE_URL/REDIS_URL the bench uses `mysql://root@127.0.0.1:3306` and `redis://127.0.0.1:6379`. Sections 1–5 run the app in-process with NODE_ENV=production, LOG_LEVEL=warn and QUEUE_CONCURRENCY=10, listening on a loopback port; section 6 runs it (and the bare NestJS app) in processes of their own, section 7 through `npm start`; section 8 boots a second in-process app against the Graph simulator. Only the full run rewrites this file.',
  );
  out.push('');
  return out.join('\n');
}
