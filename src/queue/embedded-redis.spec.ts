import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  embeddedRedisNote,
  forgetEmbeddedRedis,
  noteEmbeddedRedis,
  readEmbeddedRedis,
} from './embedded-redis';

describe("the embedded default's note of its redis-server (for the CLI's announcements)", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'redis-note-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is kept beside the SQLite file, read back, and gone once forgotten', () => {
    const note = embeddedRedisNote({ type: 'sqlite', file: join(dir, 'hub.sqlite') });
    expect(note).toBe(join(dir, '.embedded-redis-url'));
    expect(readEmbeddedRedis(note)).toBeUndefined();
    noteEmbeddedRedis(note, 'redis://127.0.0.1:41234');
    expect(readEmbeddedRedis(note)).toBe('redis://127.0.0.1:41234');
    forgetEmbeddedRedis(note);
    expect(readEmbeddedRedis(note)).toBeUndefined();
  });

  it('is not kept for MySQL or an in-memory database', () => {
    expect(embeddedRedisNote({ type: 'mysql' })).toBeUndefined();
    expect(embeddedRedisNote({ type: 'sqlite', file: ':memory:' })).toBeUndefined();
  });

  it('is ignored unless it names a loopback redis-server (the CLI connects nowhere else from it)', () => {
    const note = join(dir, '.embedded-redis-url');
    for (const bad of [
      'redis://example.com:6379',
      'redis://127.0.0.1:6379/0?x',
      'rediss://127.0.0.1:1',
      '',
    ]) {
      writeFileSync(note, bad);
      expect(readEmbeddedRedis(note)).toBeUndefined();
    }
  });
});
