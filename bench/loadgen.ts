import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { join } from 'node:path';

/**
 * A keep-alive HTTP load generator on a worker thread: the app under test owns the main thread's
 * event loop, the client gets the other core. N connections each send the next request as soon as
 * the previous answer is read. Server-side time comes from the app's X-Response-Time header.
 */

export interface LoadSpec {
  /**
   * Requested in turn, round-robin over all connections: a path on the worker's port, or a whole
   * `http://127.0.0.1:<port>/…` URL for another server (a bare baseline, the app in its own process).
   */
  paths: string[];
  headers: Record<string, string>;
  /** Per connection (k-th connection takes entry k mod length), e.g. one session each; else `headers`. */
  connectionHeaders?: Array<Record<string, string>>;
  connections: number;
  /** Measured requests; or measure for `durationMs`. */
  requests?: number;
  durationMs?: number;
  /** Requests sent (and discarded) first, so caches and JIT are warm. */
  warmup: number;
  /** And keep warming for at least this long (a process that sat idle needs time, not a count). */
  warmupMs?: number;
}

export interface LoadResult {
  count: number;
  elapsedMs: number;
  rps: number;
  serverMs: number[];
  clientMs: number[];
  statuses: Record<string, number>;
  errors: string[];
  bytes: number;
  /** Warm-up requests sent before the measured ones. */
  warmed: number;
}

interface WorkerConfig {
  loadgen: true;
  port: number;
}

interface Sample {
  status: number;
  serverMs: number;
  clientMs: number;
  bytes: number;
  error?: string;
}

interface Target {
  host: string;
  port: number;
  path: string;
}

function targetOf(pathOrUrl: string, port: number): Target {
  if (!pathOrUrl.startsWith('http://')) return { host: '127.0.0.1', port, path: pathOrUrl };
  const url = new URL(pathOrUrl);
  return { host: url.hostname, port: Number(url.port), path: url.pathname + url.search };
}

function requestOnce(agent: http.Agent, target: Target, headers: Record<string, string>) {
  const { host, port, path } = target;
  return new Promise<Sample>((resolve) => {
    const t0 = performance.now();
    const req = http.request({ host, port, path, method: 'GET', headers, agent }, (res) => {
      let bytes = 0;
      const keep: Buffer[] = [];
      const status = res.statusCode ?? 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (status !== 200 && bytes < 2000) keep.push(c);
      });
      res.on('end', () =>
        resolve({
          status,
          serverMs: parseFloat(String(res.headers['x-response-time'] ?? 'NaN')),
          clientMs: performance.now() - t0,
          bytes,
          error:
            status === 200
              ? undefined
              : `${status} ${path}: ${Buffer.concat(keep).toString('utf8').slice(0, 300)}`,
        }),
      );
      res.on('error', (e) =>
        resolve({ status: 0, serverMs: NaN, clientMs: 0, bytes, error: `${path}: ${e.message}` }),
      );
    });
    req.on('error', (e) =>
      resolve({ status: 0, serverMs: NaN, clientMs: 0, bytes: 0, error: `${path}: ${e.message}` }),
    );
    req.end();
  });
}

async function runLoad(port: number, spec: LoadSpec): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
  let next = 0;
  const targets = spec.paths.map((p) => targetOf(p, port));
  const targetFor = () => targets[next++ % targets.length];
  const result: LoadResult = {
    count: 0,
    elapsedMs: 0,
    rps: 0,
    serverMs: [],
    clientMs: [],
    statuses: {},
    errors: [],
    bytes: 0,
    warmed: 0,
  };
  const record = (s: Sample) => {
    result.count++;
    result.statuses[s.status] = (result.statuses[s.status] ?? 0) + 1;
    result.bytes += s.bytes;
    if (s.error) {
      if (result.errors.length < 5) result.errors.push(s.error);
      return;
    }
    result.serverMs.push(s.serverMs);
    result.clientMs.push(s.clientMs);
  };

  const headersOf = (k: number) =>
    spec.connectionHeaders?.length ? spec.connectionHeaders[k % spec.connectionHeaders.length] : spec.headers;
  let warm = 0;
  const warmUntil = performance.now() + (spec.warmupMs ?? 0);
  await Promise.all(
    Array.from({ length: spec.connections }, async (_, k) => {
      while (warm < spec.warmup || performance.now() < warmUntil) {
        warm++;
        const s = await requestOnce(agent, targetFor(), headersOf(k));
        if (s.error && result.errors.length < 5) result.errors.push(`warm-up: ${s.error}`);
      }
    }),
  );

  result.warmed = warm;
  let issued = 0;
  const t0 = performance.now();
  const deadline = spec.durationMs ? t0 + spec.durationMs : Infinity;
  const limit = spec.requests ?? Infinity;
  await Promise.all(
    Array.from({ length: spec.connections }, async (_, k) => {
      while (issued < limit && performance.now() < deadline) {
        issued++;
        record(await requestOnce(agent, targetFor(), headersOf(k)));
      }
    }),
  );
  result.elapsedMs = performance.now() - t0;
  result.rps = (result.count / result.elapsedMs) * 1000;
  agent.destroy();
  return result;
}

if (!isMainThread && (workerData as WorkerConfig | undefined)?.loadgen) {
  const { port } = workerData as WorkerConfig;
  parentPort!.on('message', (msg: { id: number; spec: LoadSpec }) => {
    runLoad(port, msg.spec).then(
      (result) => parentPort!.postMessage({ id: msg.id, result }),
      (e: Error) => parentPort!.postMessage({ id: msg.id, error: e.stack ?? String(e) }),
    );
  });
}

export class LoadGen {
  private seq = 0;
  private readonly pending = new Map<
    number,
    { resolve: (r: LoadResult) => void; reject: (e: Error) => void }
  >();

  private constructor(private readonly worker: Worker) {
    worker.on('message', (msg: { id: number; result?: LoadResult; error?: string }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(msg.error));
      else p.resolve(msg.result!);
    });
    worker.on('error', (e) => {
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    });
  }

  /** The worker loads this very file through ts-node, as `npm run bench` does for the main thread. */
  static start(port: number): LoadGen {
    const root = join(__dirname, '..');
    const bootstrap = [
      `require(${JSON.stringify(require.resolve('ts-node'))}).register({ transpileOnly: true, project: ${JSON.stringify(join(root, 'tsconfig.json'))} });`,
      `require(${JSON.stringify(__filename)});`,
    ].join('\n');
    const worker = new Worker(bootstrap, {
      eval: true,
      workerData: { loadgen: true, port } satisfies WorkerConfig,
    });
    return new LoadGen(worker);
  }

  run(spec: LoadSpec): Promise<LoadResult> {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, spec });
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
