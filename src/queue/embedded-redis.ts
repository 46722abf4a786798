import { ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, dirname, join } from 'node:path';

export interface RedisHandle {
  url: string;
  /** Stops the server this process started; a no-op for a Redis the user pointed us at. */
  stop(): Promise<void>;
  embedded: boolean;
}

const READY = /Ready to accept connections/;
const PORT_TAKEN = /Address already in use/;
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

function findRedisServer(): string {
  const fromEnv = process.env.REDISMS_SYSTEM_BINARY;
  if (fromEnv) return fromEnv;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  throw new Error(
    'REDIS_URL is not set and no redis-server binary is on PATH: install Redis (e.g. apt install redis-server) or set REDIS_URL',
  );
}

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Resolves once the server accepts connections; rejects with its last output line if it exits first. */
function whenReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => fail(new Error('redis-server did not start within 10 s')),
      START_TIMEOUT_MS,
    );
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
      if (READY.test(output)) done();
    };
    const onExit = (code: number | null) => {
      const last = output.trim().split('\n').pop() ?? '';
      const err = new Error(`redis-server exited (${code ?? 'signal'}): ${last}`);
      (err as Error & { portTaken?: boolean }).portTaken = PORT_TAKEN.test(output);
      fail(err);
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      child.off('error', fail);
    };
    function done() {
      cleanup();
      // Its log is not ours to print, but a full pipe would block it.
      child.stdout!.resume();
      resolve();
    }
    function fail(err: Error) {
      cleanup();
      child.kill('SIGKILL');
      reject(err);
    }
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
    child.once('error', fail);
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Stops the redis-server if this process dies without stopping it (SIGKILL, a crash): a shell that
 * polls this process once a second. A shell rather than a second Node process, which would cost
 * more CPU than the whole Redis start.
 */
function watchdog(redisPid: number): ChildProcess {
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill ${redisPid} 2>/dev/null`;
  const child = spawn('/bin/sh', ['-c', script], { stdio: 'ignore', detached: true });
  child.unref();
  return child;
}

interface Spawned {
  child: ChildProcess;
  port: number;
  guard?: ChildProcess;
}

async function spawnRedis(binary: string): Promise<Spawned> {
  const port = await freePort();
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  return { child, port, guard: child.pid ? watchdog(child.pid) : undefined };
}

async function readyOrRetry(binary: string, spawned: Spawned, attempt: number): Promise<RedisHandle> {
  const { child, port, guard } = spawned;
  try {
    await whenReady(child);
  } catch (e) {
    guard?.kill();
    // Another process took the port between our probe and the server's bind: try another one.
    if ((e as { portTaken?: boolean }).portTaken && attempt < 3)
      return readyOrRetry(binary, await spawnRedis(binary), attempt + 1);
    throw e;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    embedded: true,
    stop: async () => {
      await stopChild(child);
      guard?.kill();
    },
  };
}

/**
 * The embedded default: when REDIS_URL is unset, this process starts its own redis-server on a free
 * loopback port (nothing kept on disk) and stops it on exit. A Redis the user configured is never
 * started or stopped here.
 *
 * Returns as soon as the server is spawned, so that its start (its own process) overlaps whatever
 * the caller does next, such as loading the app's modules; `ready` resolves once it accepts
 * connections.
 */
export async function launchRedis(redisUrl: string | undefined): Promise<{ ready: Promise<RedisHandle> }> {
  if (redisUrl)
    return { ready: Promise.resolve({ url: redisUrl, embedded: false, stop: async () => undefined }) };
  const binary = findRedisServer();
  const spawned = await spawnRedis(binary);
  return { ready: readyOrRetry(binary, spawned, 1) };
}

/** The Redis to use, accepting connections. */
export async function resolveRedis(redisUrl: string | undefined): Promise<RedisHandle> {
  return (await launchRedis(redisUrl)).ready;
}

/**
 * Where an app on the embedded default notes the address of the redis-server it started (beside its
 * SQLite file), so the command line can announce its changes on that app's CacheBus (a deactivation
 * then holds on the app's very next request, as one made in the app does). Undefined elsewhere.
 */
export function embeddedRedisNote(
  database: { type: 'sqlite'; file: string } | { type: 'mysql' },
): string | undefined {
  return database.type === 'sqlite' && database.file !== ':memory:'
    ? join(dirname(database.file), '.embedded-redis-url')
    : undefined;
}

/** Notes a started embedded redis-server's address (best effort: without it the CLI's changes wait 5 s). */
export function noteEmbeddedRedis(file: string | undefined, url: string): void {
  if (!file) return;
  try {
    writeFileSync(file, url, { mode: 0o600 });
  } catch {
    // A read-only directory: the CLI's changes then reach this app within its caches' 5 s.
  }
}

export function forgetEmbeddedRedis(file: string | undefined): void {
  if (file) rmSync(file, { force: true });
}

/** The noted address of a running embedded-default app's redis-server, if one is noted. */
export function readEmbeddedRedis(file: string | undefined): string | undefined {
  if (!file || !existsSync(file)) return undefined;
  const url = readFileSync(file, 'utf8').trim();
  return /^redis:\/\/127\.0\.0\.1:\d+$/.test(url) ? url : undefined;
}
