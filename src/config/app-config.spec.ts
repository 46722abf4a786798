import { ConfigError, loadConfig } from './app-config';

describe('loadConfig', () => {
  it('gives the embedded defaults when nothing is set', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.database).toEqual({ type: 'sqlite', file: './data/ops.sqlite' });
    expect(c.redisUrl).toBeUndefined();
    expect(c.role).toBe('all');
    expect(c.runsWeb && c.runsWorker).toBe(true);
    expect(c.demoSeed).toBe(true);
    expect(c.demoPassword).toBe('atlas-demo');
    expect(c.queue.concurrency).toBe(4);
    expect(c.retentionDays).toBe(90);
  });

  it('reads MySQL and Redis URLs and turns the demo seed off for them by default', () => {
    const c = loadConfig({
      DATABASE_URL: 'mysql://root@127.0.0.1:3306/test',
      REDIS_URL: 'redis://127.0.0.1:6379',
    });
    expect(c.database).toEqual({ type: 'mysql', url: 'mysql://root@127.0.0.1:3306/test' });
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(c.demoSeed).toBe(false);
  });

  it.each([
    ['web', true, false],
    ['worker', false, true],
    ['all', true, true],
  ])('APP_ROLE=%s decides which halves run', (role, web, worker) => {
    const c = loadConfig({ APP_ROLE: role });
    expect([c.runsWeb, c.runsWorker]).toEqual([web, worker]);
  });

  it.each([
    ['DATABASE_URL', 'nonsense', /^Invalid configuration: DATABASE_URL must be sqlite:<file> or mysql:/],
    ['DATABASE_URL', 'postgres://x@y/z', /DATABASE_URL/],
    ['REDIS_URL', 'localhost:6379', /^Invalid configuration: REDIS_URL must be redis:\/\//],
    ['PORT', 'eighty', /^Invalid configuration: PORT must be a whole number/],
    ['PORT', '70000', /PORT must be at most 65535/],
    ['APP_ROLE', 'both', /APP_ROLE must be web, worker or all/],
    ['DEMO_SEED', 'maybe', /DEMO_SEED must be true or false/],
    ['QUEUE_CONCURRENCY', '0', /QUEUE_CONCURRENCY must be at least 1/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL must be one of/],
    ['SESSION_SECRET', 'short', /SESSION_SECRET must be at least 32 characters/],
  ])('%s=%s stops with one line naming the key', (key, value, message) => {
    let error: unknown;
    try {
      loadConfig({ [key]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = (error as Error).message;
    expect(text).toMatch(message);
    expect(text).not.toContain('\n');
  });

  it('never echoes a secret or a password inside a URL back', () => {
    expect(() => loadConfig({ SESSION_SECRET: 'tiny-secret' })).toThrow(/\[redacted\]/);
    try {
      loadConfig({ DATABASE_URL: 'mysql://root:hunter2@db' });
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2');
      return;
    }
    throw new Error('expected a ConfigError');
  });

  it('requires a shared session secret for MySQL in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'mysql://root@db:3306/ops' })).toThrow(
      /SESSION_SECRET is required/,
    );
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ REDIS_URL: '', PORT: '' }).redisUrl).toBeUndefined();
  });
});
