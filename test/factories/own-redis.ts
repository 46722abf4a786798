import { ChildProcess, spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { waitFor } from './wait';

/**
 * A redis-server of the test's own on a free port, to stop and start again: an outage, and (with
 * nothing kept on disk) a restart that loses every key, as a Redis without persistence does.
 */
export class OwnRedis {
  private child?: ChildProcess;
  constructor(readonly port: number) {}

  static async freePort(): Promise<number> {
    return new Promise((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as { port: number };
        srv.close(() => resolve(port));
      });
    });
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    this.child = child;
    // Ready when it answers PING. (Probing by listening on the port itself could hold the port at the
    // moment redis-server binds it: the server then exits and the probe never sees it.)
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
        return (await this.ping()) || undefined;
      },
      `redis-server on ${this.port}`,
      10_000,
    );
  }

  /** Whether a redis-server answers PING on the port now. */
  private ping(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = connect(this.port, '127.0.0.1');
      const done = (ok: boolean) => {
        s.destroy();
        resolve(ok);
      };
      s.setTimeout(1000, () => done(false));
      s.once('error', () => done(false));
      s.once('connect', () => s.write('PING\r\n'));
      s.once('data', (d) => done(d.toString('latin1').startsWith('+PONG')));
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
  }
}
