import { NotificationsService } from '../../src/notifications';
import { RunsService } from '../../src/runs/runs.service';
import { OperationRun } from '../../src/runs';
import { Session, TestApp } from './test-app';
import { waitFor } from './wait';

/** Undoes Handlebars' attribute escaping (`=` → `&#x3D;`), as a browser does when it follows a link. */
export function decodeHtml(html: string): string {
  return html
    .replace(/&#x3D;/g, '=')
    .replace(/&#x27;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

/** The "View run" link of the flash on the page a POST redirected to. */
export async function viewRunLink(
  s: Session,
  location: string,
): Promise<{ href: string; id: number; html: string }> {
  const page = await s.agent.get(location).expect(200);
  const html = decodeHtml(page.text);
  const m = /<a href="(\/admin\/t\/[a-z0-9-]+\/operations\/(\d+))" class="flash-link">View run<\/a>/.exec(
    html,
  );
  if (!m) throw new Error(`no "View run" link on ${location}`);
  return { href: m[1], id: Number(m[2]), html };
}

export async function waitForTerminal(t: TestApp, runId: number, timeoutMs = 30_000): Promise<OperationRun> {
  const runs = t.get<RunsService>(RunsService);
  return waitFor(
    async () => {
      const r = await runs.findById(runId);
      return r && !['pending', 'running'].includes(r.status) ? r : undefined;
    },
    `run ${runId} to end`,
    timeoutMs,
  );
}

export interface StoredNote {
  kind: string;
  title: string;
  body: string;
  read_at: unknown;
}

/**
 * Every stored notification of a run, once its result is among them. A run's end is written first;
 * run.finished's listener queues the result after it (in whichever process ran the run) and it is
 * stored behind, within 50 ms: a run seen ended may not have its notification yet.
 */
export async function runResultNotes(t: TestApp, runId: number, timeoutMs = 10_000): Promise<StoredNote[]> {
  return waitFor(
    async () => {
      await t.get<NotificationsService>(NotificationsService).flush();
      const all: StoredNote[] = await t.dataSource.query(
        'SELECT kind, title, body, read_at FROM notifications WHERE run_id = ? ORDER BY id',
        [runId],
      );
      return all.some((n) => n.kind !== 'run_queued') ? all : undefined;
    },
    `run ${runId}'s result notification`,
    timeoutMs,
  );
}

/** Presses a POST button as the user would (CSRF token from a page) and returns the started run. */
export async function startVia(s: Session, path: string, fields: Record<string, string | string[]> = {}) {
  const res = await s.agent
    .post(path)
    .type('form')
    .send({ _csrf: await s.csrf(), ...fields });
  if (res.status !== 303) throw new Error(`POST ${path} answered ${res.status}: ${res.text.slice(0, 300)}`);
  return viewRunLink(s, res.headers.location);
}

/** Creates a backup set through its form, as a user would; returns its id. */
export async function createSetVia(
  s: Session,
  tenantSlug: string,
  fields: Record<string, string>,
): Promise<number> {
  const res = await s.agent
    .post(`/admin/t/${tenantSlug}/backup-sets`)
    .type('form')
    .send({ _csrf: await s.csrf(), ...fields })
    .expect(303);
  return Number(/backup-sets\/(\d+)$/.exec(res.headers.location)![1]);
}
