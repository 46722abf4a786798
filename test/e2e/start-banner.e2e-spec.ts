import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess } from '../factories/process';

/**
 * `npm start` with its start-up logging on: the banner (address, role, database, redis, demo logins)
 * comes after the start-up noise, so it is what the user sees last. Not a terminal here: the log is JSON.
 */
describe('process: the start banner', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ops-banner-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is the last thing printed at start, after the JSON lines of the demo seed and its first syncs', async () => {
    const proc = await startProcess({
      PORT: '0',
      DATABASE_URL: `sqlite:${join(dir, 'ops.sqlite')}`,
      REDIS_URL: undefined,
      REDIS_PREFIX: undefined,
      DEMO_SEED: undefined,
      NODE_ENV: undefined,
      LOG_LEVEL: 'info',
    });
    try {
      // Whatever start-up still had to say would have said it by now.
      await new Promise((r) => setTimeout(r, 1500));
      const lines = proc.output().trimEnd().split('\n');
      const banner = lines.findIndex((l) => / listening on http:\/\/localhost:\d+/.test(l));
      expect(banner).toBeGreaterThan(0);
      const before = lines.slice(0, banner);
      // Not a terminal: JSON lines, the seed's and its first syncs' among them.
      for (const l of before) expect(() => JSON.parse(l)).not.toThrow();
      expect(before.join('\n')).toContain('Demo tenants contoso and fabrikam');
      expect(before.join('\n')).toContain('run handler finished');
      expect(lines.slice(banner)).toEqual([
        expect.stringMatching(
          /^Tenant Operations Hub \(all\) listening on http:\/\/localhost:\d+ \(started in/,
        ),
        `  database: SQLite ${join(dir, 'ops.sqlite')}`,
        expect.stringMatching(/^ {2}redis: {4}embedded redis-server at redis:\/\/127\.0\.0\.1:\d+$/),
        '  demo logins (password "atlas-demo"):',
        expect.stringContaining('admin@example.com'),
        expect.stringContaining('operator@example.com'),
        expect.stringContaining('readonly@example.com'),
      ]);
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
  });
});
