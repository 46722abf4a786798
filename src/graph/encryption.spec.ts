import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EncryptionError,
  KEY_FILE_NAME,
  KeyRing,
  SecretBox,
  associatedData,
  loadKeyRing,
  parseKeyRing,
} from './encryption';

const key = () => randomBytes(32);
const ring = (...kids: string[]) => new KeyRing(kids.map((kid) => ({ kid, key: key() })));
const AAD = associatedData('graph_connections', 7, 'client_secret');

function failure(run: () => unknown): EncryptionError {
  try {
    run();
  } catch (e) {
    if (e instanceof EncryptionError) return e;
    throw e;
  }
  throw new Error('expected an EncryptionError');
}

describe('SecretBox', () => {
  const box = new SecretBox(ring('k2', 'k1'));

  it('round-trips any text under any associated data, in the documented envelope', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.string({ maxLength: 60 }),
        (text, aad) => {
          const envelope = box.encrypt(text, aad);
          expect(envelope).toMatch(/^enc:v1:k2:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]*$/);
          expect(box.decrypt(envelope, aad)).toBe(text);
        },
      ),
    );
  });

  it('uses a fresh IV every time', () => {
    const a = box.encrypt('same secret', AAD);
    const b = box.encrypt('same secret', AAD);
    expect(a).not.toBe(b);
    expect(a.split(':')[3]).not.toBe(b.split(':')[3]);
  });

  it('rejects an envelope with any one character changed', () => {
    const secret = 'Sup3r~Secret.Value-0123456789';
    const envelope = box.encrypt(secret, AAD);
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:=+/';
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: envelope.length - 1 }),
        fc.constantFrom(...alphabet),
        (at, replacement) => {
          fc.pre(envelope[at] !== replacement);
          const tampered = envelope.slice(0, at) + replacement + envelope.slice(at + 1);
          const error = failure(() => box.decrypt(tampered, AAD));
          expect(error.message).not.toContain(secret);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('does not decrypt a ciphertext copied to another row or column', () => {
    const envelope = box.encrypt('tenant seven secret', AAD);
    for (const aad of [
      associatedData('graph_connections', 8, 'client_secret'),
      associatedData('graph_connections', 7, 'private_key'),
      associatedData('other_table', 7, 'client_secret'),
    ]) {
      const error = failure(() => box.decrypt(envelope, aad));
      expect(error.code).toBe('decryption_failed');
      expect(error.message).not.toContain('tenant seven secret');
    }
  });

  it('decrypts with any listed key, encrypts with the first, and re-encrypts for rotation', () => {
    const oldRing = ring('k1');
    const old = new SecretBox(oldRing).encrypt('rotated secret', AAD);
    const rotated = new SecretBox(new KeyRing([{ kid: 'k2', key: key() }, ...oldRing.keys]));
    expect(rotated.decrypt(old, AAD)).toBe('rotated secret');
    expect(rotated.isCurrent(old)).toBe(false);
    const renewed = rotated.reencrypt(old, AAD);
    expect(renewed.split(':')[2]).toBe('k2');
    expect(rotated.reencrypt(renewed, AAD)).toBe(renewed);
    // Once k1 is retired, only the re-encrypted value still opens.
    const retired = new SecretBox(new KeyRing([rotated.ring.keys[0]]));
    expect(retired.decrypt(renewed, AAD)).toBe('rotated secret');
    expect(failure(() => retired.decrypt(old, AAD)).code).toBe('key_unknown');
  });

  it('names a malformed value without echoing it', () => {
    const error = failure(() => box.decrypt('plain-text-secret', AAD));
    expect(error.code).toBe('envelope_malformed');
    expect(error.message).not.toContain('plain-text-secret');
  });
});

describe('parseKeyRing', () => {
  it('reads kid:base64key pairs, current first, in either base64 alphabet', () => {
    const a = key();
    const b = key();
    const parsed = parseKeyRing(`new:${a.toString('base64url')}, old:${b.toString('base64')}`);
    expect(parsed.current.kid).toBe('new');
    expect(parsed.find('old')?.equals(b)).toBe(true);
  });

  it('refuses short keys and duplicate ids without printing key material', () => {
    const short = randomBytes(16).toString('base64');
    const e1 = failure(() => parseKeyRing(`k1:${short}`));
    expect(e1.code).toBe('key_ring_invalid');
    expect(e1.message).not.toContain(short);
    const full = key().toString('base64');
    expect(failure(() => parseKeyRing(`k1:${full},k1:${full}`)).message).toContain('appears twice');
    expect(failure(() => parseKeyRing('')).code).toBe('key_ring_invalid');
  });
});

describe('loadKeyRing', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'graph-keys-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prefers APP_ENCRYPTION_KEYS', () => {
    const loaded = loadKeyRing({
      encryptionKeys: `env1:${key().toString('base64')}`,
      database: { type: 'sqlite', file: join(dir, 'ops.sqlite') },
    });
    expect(loaded.current.kid).toBe('env1');
  });

  it('creates one private key file beside the SQLite file and keeps using it', () => {
    const config = {
      encryptionKeys: undefined,
      database: { type: 'sqlite' as const, file: join(dir, 'db', 'ops.sqlite') },
    };
    const first = loadKeyRing(config);
    const file = join(dir, 'db', KEY_FILE_NAME);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = loadKeyRing(config);
    expect(second.current.key.equals(first.current.key)).toBe(true);
    const envelope = new SecretBox(first).encrypt('kept across restarts', AAD);
    expect(new SecretBox(second).decrypt(envelope, AAD)).toBe('kept across restarts');
    expect(readFileSync(file, 'utf8')).toMatch(/^local1:[A-Za-z0-9+/]{43}=\n$/);
  });

  it('requires APP_ENCRYPTION_KEYS with MySQL', () => {
    const error = failure(() =>
      loadKeyRing({ encryptionKeys: undefined, database: { type: 'mysql', url: 'mysql://u:p@h/db' } }),
    );
    expect(error.code).toBe('key_ring_missing');
    expect(error.message).toContain('APP_ENCRYPTION_KEYS');
  });
});
