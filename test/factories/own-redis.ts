import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
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
    this.child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    await waitFor(
      () =>
        new Promise<boolean | undefined>((resolve) => {
          const s = createServer();
          s.once('error', () => resolve(true));
          s.listen(this.port, '127.0.0.1', () => s.close(() => resolve(undefined)));
        }),
      `redis-server on ${this.port}`,
      10_000,
    );
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
