import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { sleep } from './stats';
import { freePort } from '../src/queue/embedded-redis';

/**
 * A web server in a Node process of its own, loaded through ts-node's transpile-only hook as
 * `npm run bench` loads everything: the bare NestJS baseline, or the app's own `src/main.ts`. Both
 * kinds start the same way, so a ratio between them compares the servers, not how they were run.
 * Its stdout and stderr go to a file, as a deployment's logs would: the parent pays nothing for them.
 */
export interface ServerProcess {
  name: string;
  /** The server's own process (signals, e.g. the CPU profiler hook's SIGUSR2). */
  pid: number;
  baseUrl: string;
  /** A whole URL for the load generator, whose bare paths go to the in-process app. */
  url(path: string): string;
  /** Bytes the process has logged so far. */
  logBytes(): number;
  close(): Promise<void>;
}

export interface ServerSpec {
  name: string;
  /** A .ts (or .js) entry point. */
  script: string;
  env: Record<string, string>;
  /** Answers 200 once the server is ready. */
  readyPath: string;
  timeoutMs: number;
}

const ROOT = join(__dirname, '..');
const running = new Set<ChildProcess>();
// An interrupted bench must not leave servers behind.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A loopback port nothing listens on right now (the embedded Redis picks its port the same way). */
export { freePort };

/**
 * The bench's environment without any of the app's settings (the keys `.env.example` lists), so that
 * a server or `npm start` gets exactly the settings the bench gives it.
 */
export function envWithoutAppSettings(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  const keys = readFileSync(join(ROOT, '.env.example'), 'utf8').matchAll(/^([A-Z][A-Z0-9_]*)=/gm);
  for (const [, key] of keys) delete env[key];
  return env;
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function stop(child: ChildProcess): Promise<void> {
  if (exited(child)) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await gone;
  clearTimeout(timer);
}

export async function startServer(spec: ServerSpec): Promise<ServerProcess> {
  const port = await freePort();
  const dir = mkdtempSync(join(os.tmpdir(), `bench-${spec.name}-`));
  const logFile = join(dir, 'server.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    ['-r', require.resolve('ts-node/register/transpile-only'), spec.script],
    {
      cwd: ROOT,
      env: {
        ...envWithoutAppSettings(),
        TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
        ...spec.env,
        PORT: String(port),
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', fd, fd],
    },
  );
  closeSync(fd);
  running.add(child);
  child.once('exit', () => running.delete(child));
  const baseUrl = `http://127.0.0.1:${port}`;
  const logTail = () => readFileSync(logFile, 'utf8').slice(-1500);
  const close = async () => {
    await stop(child);
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + spec.timeoutMs;
  for (;;) {
    if (exited(child)) {
      const tail = logTail();
      await close();
      throw new Error(`${spec.name} exited before it answered ${spec.readyPath}: ${tail}`);
    }
    const status = await fetch(baseUrl + spec.readyPath, { signal: AbortSignal.timeout(2000) })
      .then(async (res) => {
        await res.arrayBuffer();
        return res.status;
      })
      .catch(() => 0);
    if (status === 200) break;
    if (Date.now() > deadline) {
      const tail = logTail();
      await close();
      throw new Error(
        `${spec.name} did not answer ${spec.readyPath} within ${spec.timeoutMs / 1000} s: ${tail}`,
      );
    }
    await sleep(100);
  }
  return {
    name: spec.name,
    pid: child.pid!,
    baseUrl,
    url: (path) => baseUrl + path,
    logBytes: () => statSync(logFile).size,
    close,
  };
}
