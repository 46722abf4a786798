import { createHash } from 'node:crypto';

/**
 * Fields the provider rewrites on every save or read. They say nothing about what a policy enforces,
 * so keeping them would make every sync look like drift.
 */
const VOLATILE_KEYS = new Set([
  'id',
  'createdDateTime',
  'lastModifiedDateTime',
  'modifiedDateTime',
  'version',
  'versionNumber',
]);

const ODATA_ANNOTATION = '@odata.';

// Taken from module scope because Jest runs modules in a vm context, where every lookup of a global
// such as `Array` is slow, and these run for every value of every payload.
const { isArray } = Array;
const { isFinite: isFiniteNumber } = Number;
const { stringify } = JSON;

/**
 * Properties that identify an element of an array, most specific first. Normalization sorts by them
 * and the drift diff matches elements by them, so both must read the same list.
 */
export const IDENTITY_KEYS: readonly string[] = [
  'settingDefinitionId',
  'definitionId',
  'name',
  'key',
  'displayName',
];

export interface ElementIdentity {
  /** Index into `IDENTITY_KEYS` of the property that identifies the element. */
  rank: number;
  field: string;
  value: string;
}

/** The identifying property of an array element, or `null` when the element carries none. */
export function elementIdentity(element: unknown): ElementIdentity | null {
  if (element === null || typeof element !== 'object' || isArray(element)) return null;
  const record = element as Record<string, unknown>;
  for (let rank = 0; rank < IDENTITY_KEYS.length; rank++) {
    const field = IDENTITY_KEYS[rank];
    const value = record[field];
    if (typeof value === 'string' || typeof value === 'number') return { rank, field, value: String(value) };
  }
  return null;
}

/**
 * The payload with volatile fields removed at every depth, object keys in sorted order and every array
 * sorted canonically: providers return collections in no stable order, so order carries no meaning.
 * Input is JSON data; values JSON cannot hold are dropped (in objects) or become `null` (in arrays), as
 * `JSON.stringify` would do.
 */
export function normalizePayload(payload: unknown): unknown {
  return normalize(payload) ?? null;
}

/** SHA-256 (hex) of the canonical JSON of an already normalized payload. */
export function payloadHash(normalized: unknown): string {
  return createHash('sha256').update(canonicalJson(normalized)).digest('hex');
}

/**
 * JSON with object keys sorted, so equal data gives equal text whatever key order it arrived in
 * (MySQL's JSON type, for one, reorders keys on storage).
 */
export function canonicalJson(value: unknown): string {
  // JSON.stringify is several times faster than building the text by hand, and it already gives the
  // canonical text when every object holds its keys sorted, as normalized payloads do.
  return (keysInOrder(value) ? stringify(value) : write(value)) ?? 'null';
}

function isVolatile(key: string): boolean {
  if (VOLATILE_KEYS.has(key)) return true;
  const at = key.indexOf(ODATA_ANNOTATION);
  // `@odata.type` (also as a property annotation, `x@odata.type`) selects which settings apply: it is content.
  return at !== -1 && key.slice(at + ODATA_ANNOTATION.length) !== 'type';
}

function normalize(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return isFiniteNumber(value) ? value : null;
    case 'object':
      if (value === null) return null;
      return isArray(value) ? normalizeArray(value) : normalizeObject(value as Record<string, unknown>);
    default:
      return undefined;
  }
}

function normalizeObject(source: Record<string, unknown>): Record<string, unknown> {
  // Insertion sort while collecting: objects are small, and this beats `Object.keys().sort()` clearly
  // over tens of thousands of payloads.
  const keys: string[] = [];
  for (const key in source) {
    if (isVolatile(key)) continue;
    let at = keys.length;
    while (at > 0 && keys[at - 1] > key) {
      keys[at] = keys[at - 1];
      at--;
    }
    keys[at] = key;
  }
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const value = normalize(source[key]);
    if (value === undefined) continue;
    // A plain assignment to `__proto__` would replace the prototype instead of keeping the provider's field.
    if (key === '__proto__')
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    else out[key] = value;
  }
  return out;
}

interface SortEntry {
  value: unknown;
  rank: number;
  primary: string;
  canonical: string | undefined;
}

function normalizeArray(source: unknown[]): unknown[] {
  const items = source.map((item) => normalize(item) ?? null);
  if (items.length < 2) return items;
  const entries = items.map(sortEntry);
  entries.sort(compareEntries);
  return entries.map((entry) => entry.value);
}

function sortEntry(value: unknown): SortEntry {
  const identity = elementIdentity(value);
  if (identity) return { value, rank: identity.rank, primary: identity.value, canonical: undefined };
  const canonical = canonicalJson(value);
  return { value, rank: IDENTITY_KEYS.length, primary: canonical, canonical };
}

/** Code-unit order, not `localeCompare`: the result must not depend on the host's locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareEntries(a: SortEntry, b: SortEntry): number {
  if (a.rank !== b.rank) return a.rank - b.rank;
  const byPrimary = compareStrings(a.primary, b.primary);
  if (byPrimary !== 0) return byPrimary;
  // Elements sharing an identifier are rare; serialize them only then.
  a.canonical ??= canonicalJson(a.value);
  b.canonical ??= canonicalJson(b.value);
  return compareStrings(a.canonical, b.canonical);
}

/** Whether `JSON.stringify` would emit the same text as `write`. */
function keysInOrder(value: unknown): boolean {
  if (typeof value === 'bigint') return false;
  if (value === null || typeof value !== 'object') return true;
  if (isArray(value)) return value.every(keysInOrder);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  const record = value as Record<string, unknown>;
  let previous: string | undefined;
  for (const key in record) {
    if (previous !== undefined && previous >= key) return false;
    if (!keysInOrder(record[key])) return false;
    previous = key;
  }
  return true;
}

function write(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return stringify(value);
    case 'number':
      return isFiniteNumber(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + (write(value[i]) ?? 'null');
        return out + ']';
      }
      const record = value as Record<string, unknown>;
      let out = '{';
      for (const key of Object.keys(record).sort()) {
        const item = write(record[key]);
        if (item === undefined) continue;
        out += (out.length === 1 ? '' : ',') + stringify(key) + ':' + item;
      }
      return out + '}';
    }
    default:
      return undefined;
  }
}
