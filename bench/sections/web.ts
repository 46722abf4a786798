import { BENCH_PASSWORD } from '../app';
import { BenchContext, Figure, judge } from '../context';
import { login } from '../session';
import { fmt, median, ratio } from '../stats';

export const CONNECTIONS = 10;

export interface WebResults {
  listRps: number;
  helpRps: number;
  listP50: number;
  helpP50: number;
  /** The same two pages with all connections on one session (one user, many tabs). */
  sharedListRps: number;
  sharedHelpRps: number;
  seconds: number;
  figures: Figure[];
}

interface Totals {
  count: number;
  ms: number;
  server: number[];
}

/**
 * Requests per second of the Operations list (the busy tenant, first page, at the largest scale)
 * against /admin/help, a static Handlebars page behind the same login: the difference is what the
 * list costs beyond the framework, sessions and layout. Ten connections are ten signed-in sessions
 * of the demo admin; the pages alternate in rounds so drifting background load hits both.
 */
export async function runWebSection(ctx: BenchContext, listPath: string): Promise<WebResults> {
  const { webSeconds, webRounds } = ctx.sizes;
  const sessions: Array<Record<string, string>> = [];
  for (let k = 0; k < CONNECTIONS; k++)
    sessions.push({ cookie: await login(ctx.app.baseUrl, 'admin@example.com', BENCH_PASSWORD) });
  const pages = { list: listPath, help: '/admin/help' };

  const measure = async (path: string, connectionHeaders: Array<Record<string, string>>, into: Totals) => {
    const r = await ctx.load.run({
      paths: [path],
      headers: connectionHeaders[0],
      connectionHeaders,
      connections: CONNECTIONS,
      durationMs: webSeconds * 1000,
      warmup: 5 * CONNECTIONS,
    });
    if (r.errors.length) throw new Error(`GET ${path} under load: ${r.errors.join(' | ')}`);
    into.count += r.count;
    into.ms += r.elapsedMs;
    into.server.push(...r.serverMs);
  };
  const fresh = (): Totals => ({ count: 0, ms: 0, server: [] });
  const own = { list: fresh(), help: fresh() };
  const shared = { list: fresh(), help: fresh() };
  for (let round = 0; round < webRounds; round++) {
    for (const key of ['list', 'help'] as const) await measure(pages[key], sessions, own[key]);
  }
  if (!ctx.smoke) {
    for (const key of ['list', 'help'] as const)
      await measure(pages[key], [{ cookie: ctx.adminCookie }], shared[key]);
  }

  const rps = (t: Totals) => (t.count / t.ms) * 1000;
  const listRps = rps(own.list);
  const helpRps = rps(own.help);
  const r = ratio(listRps, helpRps);
  const out: WebResults = {
    listRps,
    helpRps,
    listP50: median(own.list.server),
    helpP50: median(own.help.server),
    sharedListRps: rps(shared.list),
    sharedHelpRps: rps(shared.help),
    seconds: webSeconds * webRounds,
    figures: [
      {
        section: '5. Web',
        name: `Operations list vs /admin/help, requests/s, ${CONNECTIONS} connections (one session each)`,
        value: `${fmt(listRps)} vs ${fmt(helpRps)} req/s (server p50 ${fmt(median(own.list.server))} vs ${fmt(median(own.help.server))} ms)`,
        target: '≥ 0.5',
        ratio: r,
        ...judge(r, 'min', 0.5),
      },
    ],
  };
  if (!ctx.smoke)
    out.figures.push({
      section: '5. Web',
      name: `the same, all ${CONNECTIONS} connections on one session`,
      value: `${fmt(rps(shared.list))} vs ${fmt(rps(shared.help))} req/s`,
      target: 'reported',
      ratio: ratio(rps(shared.list), rps(shared.help)),
    });
  ctx.log(
    `  list ${fmt(listRps)} req/s, help ${fmt(helpRps)} req/s; one shared session: ${fmt(rps(shared.list))} vs ${fmt(rps(shared.help))}`,
  );
  return out;
}
