import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AppConfig } from '../config/app-config';

/**
 * Secrets at rest (client secrets, certificate private keys): AES-256-GCM envelopes
 * `enc:v1:<kid>:<iv>:<tag>:<ct>` (base64url parts), bound by associated data to the table, tenant
 * and column they were written for, so that a ciphertext copied to another row or column does not
 * decrypt. Keys come from APP_ENCRYPTION_KEYS (`kid:base64key,…`, current first) or, in the embedded
 * default, from a generated key file beside the SQLite file.
 */

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const KID = /^[A-Za-z0-9_-]{1,32}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** The embedded default's key file, beside the SQLite file; same format as APP_ENCRYPTION_KEYS. */
export const KEY_FILE_NAME = '.encryption-keys';

export type EncryptionErrorCode =
  'key_ring_invalid' | 'key_ring_missing' | 'envelope_malformed' | 'key_unknown' | 'decryption_failed';

/** Never names a key or a plaintext: these messages reach logs and pages. */
export class EncryptionError extends Error {
  constructor(
    readonly code: EncryptionErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EncryptionError';
  }
}

export interface EncryptionKey {
  kid: string;
  key: Buffer;
}

/** Keys by id; the first encrypts, any of them decrypts. */
export class KeyRing {
  private readonly byKid: Map<string, Buffer>;

  constructor(readonly keys: readonly EncryptionKey[]) {
    if (keys.length === 0) throw new EncryptionError('key_ring_invalid', 'The key ring holds no key.');
    this.byKid = new Map();
    for (const { kid, key } of keys) {
      if (!KID.test(kid)) {
        throw new EncryptionError('key_ring_invalid', 'A key id must be 1-32 letters, digits, "_" or "-".');
      }
      if (key.length !== KEY_BYTES) {
        throw new EncryptionError('key_ring_invalid', `Key "${kid}" is not ${KEY_BYTES} bytes.`);
      }
      if (this.byKid.has(kid))
        throw new EncryptionError('key_ring_invalid', `Key id "${kid}" appears twice.`);
      this.byKid.set(kid, key);
    }
  }

  get current(): EncryptionKey {
    return this.keys[0];
  }

  find(kid: string): Buffer | undefined {
    return this.byKid.get(kid);
  }
}

/** `kid:base64key[,kid:base64key…]`, current first (standard or URL-safe base64). */
export function parseKeyRing(spec: string): KeyRing {
  const keys = spec
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const at = part.indexOf(':');
      if (at <= 0) throw new EncryptionError('key_ring_invalid', 'Each key must be written kid:base64key.');
      const encoded = part.slice(at + 1);
      if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) {
        throw new EncryptionError('key_ring_invalid', `Key "${part.slice(0, at)}" is not base64.`);
      }
      return { kid: part.slice(0, at), key: Buffer.from(encoded, 'base64') };
    });
  return new KeyRing(keys);
}

/**
 * The app's key ring: APP_ENCRYPTION_KEYS when set; otherwise, with SQLite, a key file created on
 * first use beside the database file (mode 0600), as the session secret is. MySQL deployments run
 * several processes that must share the keys, so there the variable is required.
 */
export function loadKeyRing(config: Pick<AppConfig, 'encryptionKeys' | 'database'>): KeyRing {
  if (config.encryptionKeys) return parseKeyRing(config.encryptionKeys);
  if (config.database.type !== 'sqlite') {
    throw new EncryptionError(
      'key_ring_missing',
      'APP_ENCRYPTION_KEYS must be set when DATABASE_URL is MySQL (every process must use the same keys); ' +
        "generate one with: node -e \"console.log('k1:'+require('crypto').randomBytes(32).toString('base64'))\"",
    );
  }
  if (config.database.file === ':memory:') {
    // Nothing outlives an in-memory database, so neither needs its key.
    return new KeyRing([{ kid: 'ephemeral', key: randomBytes(KEY_BYTES) }]);
  }
  const file = join(dirname(config.database.file), KEY_FILE_NAME);
  mkdirSync(dirname(file), { recursive: true });
  try {
    // 'wx' fails when the file exists, so two processes starting at once never write different keys.
    writeFileSync(file, `local1:${randomBytes(KEY_BYTES).toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  return parseKeyRing(readFileSync(file, 'utf8').trim());
}

/** The associated data of a secret column: `<table>:<tenant id>:<column>`. */
export function associatedData(table: string, tenantId: number | string, column: string): string {
  return `${table}:${tenantId}:${column}`;
}

interface Envelope {
  kid: string;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

/** Decodes base64url only in its canonical form: another spelling of the same bytes is tampering too. */
function decodePart(text: string): Buffer | null {
  if (!BASE64URL.test(text)) return null;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : null;
}

function parseEnvelope(envelope: string): Envelope {
  const parts = envelope.split(':');
  const malformed = new EncryptionError('envelope_malformed', 'The stored secret is not an encrypted value.');
  if (parts.length !== 6 || parts[0] !== 'enc' || parts[1] !== VERSION || !KID.test(parts[2]))
    throw malformed;
  const iv = decodePart(parts[3]);
  const tag = decodePart(parts[4]);
  const ciphertext = decodePart(parts[5]);
  if (!iv || iv.length !== IV_BYTES || !tag || tag.length !== TAG_BYTES || !ciphertext) throw malformed;
  return { kid: parts[2], iv, tag, ciphertext };
}

/** Encrypts and decrypts secret columns with a key ring. */
export class SecretBox {
  constructor(readonly ring: KeyRing) {}

  encrypt(plaintext: string, aad: string): string {
    const { kid, key } = this.ring.current;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return ['enc', VERSION, kid, iv, tag, ciphertext]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join(':');
  }

  decrypt(envelope: string, aad: string): string {
    const { kid, iv, tag, ciphertext } = parseEnvelope(envelope);
    const key = this.ring.find(kid);
    if (!key) {
      throw new EncryptionError(
        'key_unknown',
        `The stored secret was encrypted with key "${kid}", which is not among the configured keys.`,
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new EncryptionError(
        'decryption_failed',
        'The stored secret could not be decrypted: it belongs to another record or column, or was altered.',
      );
    }
  }

  /** Whether the envelope is under the current key (else `reencrypt` it during key rotation). */
  isCurrent(envelope: string): boolean {
    return parseEnvelope(envelope).kid === this.ring.current.kid;
  }

  /** The same secret under the current key; the envelope itself when it already is. */
  reencrypt(envelope: string, aad: string): string {
    const plaintext = this.decrypt(envelope, aad);
    return this.isCurrent(envelope) ? envelope : this.encrypt(plaintext, aad);
  }
}
