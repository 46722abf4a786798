/**
 * From `npm start` to the first 200 on `/login`, as a user sees it: `npm start` in the repository root
 * on the embedded default (a SQLite file, the app's own redis-server), timed from the spawn to the
 * first page that answers 200. Two trees, median of several starts each:
 *  - unchanged and built: a restart of what the previous start left (its build, its database);
 *  - right after `npm ci`: no build output and no build cache, and a first start on an empty database.
 * Whatever `npm start` does (its prestart build included) is what is measured.
 *
 * Standalone: `npx ts-node --transpile-only bench/startup.ts [--runs=3]`; also section 7 of
 * `npm run bench`. Each start's whole process group (npm, the app, its redis-server) is stopped before
 * the next one, as Ctrl-C in a terminal stops it.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Figure, judge } from './context';
import { envWithoutAppSettings, freePort } from './server-process';
import { fmt, median, sleep } from './stats';

const ROOT = join(__dirname, '..');
/** What `npm ci` leaves none of: build output and build caches (node_modules itself is new). */
const BUILD_STATE = ['dist', 'node_modules/.cache', '.swc'];
const FIRST_200_MS = 180_000;
const STOP_MS = 15_000;

export interface StartupResults {
  runs: number;
  /** Seconds from spawn to the first 200, one per start. */
  built: number[];
  fresh: number[];
  figures: Figure[];
}

const groups = new Set<number>();
// An interrupted measurement must not leave an app (and its redis-server) running in the background.
process.on('exit', () => {
  for (const pgid of groups) signalGroup(pgid, 'SIGKILL');
});

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is gone already.
  }
}

/** Live processes of a process group (zombies excluded: they are only waiting to be reaped). */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name may hold spaces and parentheses; the fields that follow it do not.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') out.push(Number(entry));
    } catch {
      // It ended while we looked.
    }
  }
  return out;
}

async function stopGroup(pgid: number): Promise<void> {
  signalGroup(pgid, 'SIGINT');
  const t0 = Date.now();
  while (groupMembers(pgid).length) {
    if (Date.now() - t0 > STOP_MS) {
      signalGroup(pgid, 'SIGKILL');
      await sleep(500);
      const left = groupMembers(pgid);
      if (left.length) throw new Error(`processes ${left.join(', ')} of \`npm start\` outlived SIGKILL`);
      break;
    }
    await sleep(100);
  }
  groups.delete(pgid);
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** One `npm start` on the SQLite file `dbFile`: seconds from the spawn to the first 200 on /login. */
async function startOnce(dbFile: string, logFile: string): Promise<number> {
  const port = await freePort();
  const fd = openSync(logFile, 'w');
  const t0 = performance.now();
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: {
      ...envWithoutAppSettings(),
      DATABASE_URL: `sqlite:${dbFile}`,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    // A group of its own, so that the app and the redis-server it starts can be stopped together.
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const pgid = child.pid!;
  groups.add(pgid);
  const logTail = () => readFileSync(logFile, 'utf8').slice(-1500);
  try {
    for (;;) {
      if (exited(child))
        throw new Error(`\`npm start\` exited (${child.exitCode}) before /login answered: ${logTail()}`);
      const status = await fetch(`http://127.0.0.1:${port}/login`, { signal: AbortSignal.timeout(2000) })
        .then(async (res) => {
          await res.arrayBuffer();
          return res.status;
        })
        .catch(() => 0);
      if (status === 200) return (performance.now() - t0) / 1000;
      if (performance.now() - t0 > FIRST_200_MS)
        throw new Error(`/login did not answer 200 within ${FIRST_200_MS / 1000} s: ${logTail()}`);
      await sleep(25);
    }
  } finally {
    await stopGroup(pgid);
  }
}

/** The tree as `npm ci` leaves it, as far as the build goes. */
function removeBuildState(): void {
  for (const p of BUILD_STATE) rmSync(join(ROOT, p), { recursive: true, force: true });
  for (const f of readdirSync(ROOT).filter((name) => name.endsWith('.tsbuildinfo'))) rmSync(join(ROOT, f));
}

export async function measureStartup(opts: {
  runs: number;
  log(msg: string): void;
}): Promise<StartupResults> {
  const { runs, log } = opts;
  const dir = mkdtempSync(join(os.tmpdir(), 'bench-startup-'));
  const logFile = join(dir, 'npm-start.log');
  const restartDb = join(dir, 'restart', 'ops.sqlite');
  try {
    mkdirSync(join(dir, 'restart'));
    // Not measured: builds the tree if the working copy changed, and creates the restarts' database.
    log('`npm start` once to build the tree and create the database…');
    log(`  ${fmt(await startOnce(restartDb, logFile))} s`);
    const built: number[] = [];
    for (let k = 0; k < runs; k++) {
      built.push(await startOnce(restartDb, logFile));
      log(`  unchanged built tree, start ${k + 1}/${runs}: ${fmt(built[k])} s`);
    }
    const fresh: number[] = [];
    for (let k = 0; k < runs; k++) {
      removeBuildState();
      const db = join(dir, `fresh-${k}`, 'ops.sqlite');
      mkdirSync(join(dir, `fresh-${k}`));
      fresh.push(await startOnce(db, logFile));
      log(`  after \`npm ci\` (no build, empty database), start ${k + 1}/${runs}: ${fmt(fresh[k])} s`);
    }
    return { runs, built, fresh, figures: startupFigures(runs, built, fresh) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function startupFigures(runs: number, built: number[], fresh: number[]): Figure[] {
  const section = '7. Startup';
  const figure = (name: string, seconds: number[], limit: number): Figure => ({
    section,
    name: `${name} (median of ${runs})`,
    value: `${fmt(median(seconds))} s (${seconds.map(fmt).join(', ')})`,
    target: `≤ ${limit} s`,
    ...judge(median(seconds), 'max', limit),
  });
  return [
    figure('`npm start` to the first 200 on `/login`, unchanged built tree', built, 3),
    figure('the same right after `npm ci`: no build output or cache, empty database', fresh, 8),
  ];
}

async function main(): Promise<void> {
  const runsArg = process.argv.find((a) => a.startsWith('--runs='));
  const runs = runsArg ? Number(runsArg.slice('--runs='.length)) : 3;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a whole number ≥ 1');
  process.once('SIGINT', () => process.exit(130));
  const result = await measureStartup({
    runs,
    log: (msg) => process.stdout.write(`[startup ${new Date().toISOString().slice(11, 19)}] ${msg}\n`),
  });
  for (const f of result.figures)
    process.stdout.write(`${f.name}: ${f.value}; target ${f.target}: ${f.pass ? 'PASS' : 'MISS'}\n`);
}

if (require.main === module)
  main().then(
    () => process.exit(0),
    (e: Error) => {
      process.stderr.write(`${e.stack ?? e.message}\n`);
      process.exit(1);
    },
  );
