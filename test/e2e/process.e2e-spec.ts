import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { csrfFrom } from '../factories/test-app';
import { assertBuilt, childPids, commandOf, isAlive, MAIN, startProcess } from '../factories/process';
import { waitFor } from '../factories/wait';

/** The app as a user runs it: `node dist/main.js`, embedded SQLite and Redis, real signals. */
describe('process: npm start on the embedded default', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ops-proc-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits non-zero with one readable line naming a bad key', () => {
    assertBuilt();
    const res = spawnSync(process.execPath, [MAIN], {
      env: { ...process.env, DATABASE_URL: 'nonsense', REDIS_URL: undefined },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(res.status).toBe(1);
    const lines = res.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Invalid configuration: DATABASE_URL must be sqlite:<file> or mysql:\/\//);
  });

  it('serves the login page, lets a demo user in, and stops on SIGTERM leaving no redis-server behind', async () => {
    const proc = await startProcess({
      PORT: '0',
      DATABASE_URL: `sqlite:${join(dir, 'ops.sqlite')}`,
      REDIS_URL: undefined,
      REDIS_PREFIX: undefined,
      DEMO_SEED: undefined,
      DEMO_PASSWORD: undefined,
      NODE_ENV: undefined,
      LOG_LEVEL: 'warn',
    });
    try {
      expect(proc.output()).toContain('admin@example.com');
      expect(proc.output()).toContain('password "atlas-demo"');
      const agent = request.agent(proc.url);
      const page = await agent.get('/login').expect(200);
      const res = await agent
        .post('/login')
        .type('form')
        .send({ email: 'admin@example.com', password: 'atlas-demo', _csrf: csrfFrom(page.text) });
      expect(res.status).toBe(303);

      const redisChildren = childPids(proc.child.pid!).filter((p) => commandOf(p).includes('redis-server'));
      expect(redisChildren).toHaveLength(1);

      const started = Date.now();
      proc.child.kill('SIGTERM');
      const { code } = await proc.exited;
      expect(code).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
      await waitFor(
        async () => redisChildren.filter(isAlive).length === 0,
        'the embedded redis-server to stop',
        5000,
      );
    } finally {
      if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    }
  });
});
