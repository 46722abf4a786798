import fc from 'fast-check';
import { canonicalJson, normalizePayload, payloadHash } from '../policies';
import {
  diffPayloads,
  diffSnapshots,
  MAX_CHANGES_PER_POLICY,
  MAX_VALUE_LENGTH,
  type SnapshotItem,
} from './drift-diff';

/**
 * Properties of the drift diff over payloads shaped like Intune policies: nested objects, settings
 * arrays keyed by `settingDefinitionId` and the other identity keys, arrays of scalars, the volatile
 * fields Graph rewrites on every read, and a few keys that are hostile to plain objects.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Written out rather than imported, so that a key dropped from (or added to) the normalizer's list
 * fails here. `@odata.type` is content: it selects which settings apply.
 */
const VOLATILE_KEYS = [
  'id',
  'createdDateTime',
  'lastModifiedDateTime',
  'modifiedDateTime',
  'version',
  'versionNumber',
  '@odata.etag',
  '@odata.context',
  '@odata.id',
  'settings@odata.navigationLink',
];
const IDENTITY_KEYS = ['settingDefinitionId', 'definitionId', 'name', 'key', 'displayName'];
/** Intune setting names, identity keys, and keys that are prototype members or integer-like. */
const CONTENT_KEYS = [
  'description',
  'passwordRequired',
  'passwordMinimumLength',
  'cameraBlocked',
  'settingInstance',
  'choiceSettingValue',
  'simpleSettingValue',
  'value',
  'children',
  'roleScopeTagIds',
  'platforms',
  '@odata.type',
  ...IDENTITY_KEYS,
  'constructor',
  '__proto__',
  '10',
  '2',
  'Größe',
];

/** Identity values come from a small pool, so duplicates (which make an array unkeyed) come up too. */
const identityValue = fc.oneof(
  fc.constantFrom(
    'device_vendor_msft_policy_config_defender_allowarchivescanning',
    'device_vendor_msft_bitlocker_encryptionmethodbydrivetype',
    'Baseline',
    'a',
    'b',
    '',
  ),
  fc.integer({ min: 0, max: 3 }),
);
const scalar: fc.Arbitrary<Json> = fc.oneof(
  fc.boolean(),
  fc.integer({ min: -5, max: 100 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 12 }),
  fc.constantFrom('#microsoft.graph.windows10GeneralConfiguration', 'quick', 'block', null),
);

const { payload } = fc.letrec<{ value: Json; object: Json; array: Json; payload: Json }>((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, scalar, tie('object'), tie('array')),
  object: fc.dictionary(fc.constantFrom(...CONTENT_KEYS, ...VOLATILE_KEYS), tie('value'), { maxKeys: 5 }),
  array: fc.oneof(
    fc.array(scalar, { maxLength: 4 }),
    fc.array(tie('object'), { maxLength: 4 }),
    // A keyed array: every element carries the same identity key.
    fc
      .tuple(
        fc.constantFrom(...IDENTITY_KEYS),
        fc.array(fc.tuple(identityValue, tie('object')), { maxLength: 4 }),
      )
      .map(([field, elements]) => elements.map(([id, element]) => ({ ...(element as object), [field]: id }))),
  ),
  // Payloads arrive as JSON: parsing keeps `__proto__` an own key on an ordinary object.
  payload: tie('object').map((value) => JSON.parse(JSON.stringify(value)) as Json),
}));

function isRecord(value: unknown): value is Record<string, Json> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `Object.fromEntries` defines keys, so `__proto__` stays an own key rather than a prototype. */
function objectOf(entries: Array<[string, Json]>): Json {
  return Object.fromEntries(entries) as Json;
}

function permutation<T>(items: T[]): fc.Arbitrary<T[]> {
  return fc.shuffledSubarray(items, { minLength: items.length, maxLength: items.length });
}

/** The same data with every object's keys and every array's elements in another order. */
function reordered(value: Json): fc.Arbitrary<Json> {
  if (Array.isArray(value)) return fc.tuple(...value.map(reordered)).chain(permutation);
  if (!isRecord(value)) return fc.constant(value);
  const entries = Object.entries(value).map(([key, item]) =>
    reordered(item).map((copy): [string, Json] => [key, copy]),
  );
  return fc
    .tuple(...entries)
    .chain(permutation)
    .map(objectOf);
}

/** The same data with volatile fields dropped, added or rewritten at every depth. */
function revolatilized(value: Json): fc.Arbitrary<Json> {
  if (Array.isArray(value)) return fc.tuple(...value.map(revolatilized));
  if (!isRecord(value)) return fc.constant(value);
  const kept = Object.entries(value)
    .filter(([key]) => !VOLATILE_KEYS.includes(key))
    .map(([key, item]) => revolatilized(item).map((copy): [string, Json] => [key, copy]));
  const fresh = fc.dictionary(fc.constantFrom(...VOLATILE_KEYS), scalar, { maxKeys: 3 });
  return fc
    .tuple(fc.tuple(...kept), fresh)
    .map(([entries, volatile]) => objectOf([...Object.entries(volatile), ...entries]));
}

type Location = Array<string | number>;

/** Where each scalar of a value sits: object keys and array indexes from the root. */
function leavesOf(value: Json, at: Location = []): Location[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => leavesOf(item, [...at, i]));
  if (isRecord(value)) return Object.entries(value).flatMap(([key, item]) => leavesOf(item, [...at, key]));
  return [at];
}

function valueAt(value: Json, location: Location): Json {
  return location.reduce<Json>((node, step) => (node as Record<string | number, Json>)[step], value);
}

function withValueAt(value: Json, location: Location, replacement: Json): Json {
  if (location.length === 0) return replacement;
  const [step, ...rest] = location;
  if (Array.isArray(value))
    return value.map((item, i) => (i === step ? withValueAt(item, rest, replacement) : item));
  return objectOf(
    Object.entries(value as Record<string, Json>).map(([key, item]) => [
      key,
      key === step ? withValueAt(item, rest, replacement) : item,
    ]),
  );
}

/** Where each non-empty array of a value sits. */
function arraysOf(value: Json, at: Location = []): Location[] {
  if (Array.isArray(value)) {
    const inner = value.flatMap((item, i) => arraysOf(item, [...at, i]));
    return value.length > 0 ? [at, ...inner] : inner;
  }
  if (isRecord(value)) return Object.entries(value).flatMap(([key, item]) => arraysOf(item, [...at, key]));
  return [];
}

/**
 * The same payload with one array element dropped or repeated: the smallest change to a collection,
 * and the one a diff that matches elements by identity could lose.
 */
function nudged(value: Json): fc.Arbitrary<Json> {
  const arrays = arraysOf(value);
  if (arrays.length === 0) return fc.constant(value);
  return fc.tuple(fc.constantFrom(...arrays), fc.nat(), fc.boolean()).map(([location, n, repeat]) => {
    const items = valueAt(value, location) as Json[];
    const at = n % items.length;
    const changed = repeat
      ? [...items.slice(0, at + 1), ...items.slice(at)]
      : items.filter((_, i) => i !== at);
    return withValueAt(value, location, changed);
  });
}

/** A normalized payload, one of its scalars, and a different scalar to put there. */
const leafChange = payload
  .map((raw) => normalizePayload(raw) as Json)
  .filter((before) => leavesOf(before).length > 0)
  .chain((before) => fc.tuple(fc.constant(before), fc.constantFrom(...leavesOf(before)), scalar))
  .filter(([before, location, leaf]) => canonicalJson(valueAt(before, location)) !== canonicalJson(leaf));

/** The object keys along a path, array selectors (`[id]`, `[2]`, `[]`) left out. */
function keysOfPath(path: string): string {
  return path.replace(/\[[^\]]*\]/g, '');
}

function keysOfLocation(location: Location): string {
  return location.filter((step) => typeof step === 'string').join('.');
}

function snapshot(payloads: Json[]): SnapshotItem[] {
  return payloads.map((raw, i) => {
    const normalized = normalizePayload(raw);
    return {
      policyType: i % 3 === 0 ? 'settingsCatalog' : 'deviceConfiguration',
      externalId: `policy-${i}`,
      displayName: `Policy ${i}`,
      payloadHash: payloadHash(normalized),
      payload: normalized,
    };
  });
}

describe('diffPayloads', () => {
  it('finds nothing between a payload and itself, raw or normalized', () => {
    fc.assert(
      fc.property(payload, (raw) => {
        expect(diffPayloads(raw, raw)).toEqual([]);
        expect(diffPayloads(normalizePayload(raw), normalizePayload(raw))).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('finds nothing when only key order and array order differ', () => {
    fc.assert(
      fc.property(
        payload.chain((raw) => fc.tuple(fc.constant(raw), reordered(raw))),
        ([raw, shuffled]) => {
          expect(diffPayloads(normalizePayload(raw), normalizePayload(shuffled))).toEqual([]);
          expect(payloadHash(normalizePayload(shuffled))).toBe(payloadHash(normalizePayload(raw)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('finds nothing when only volatile fields differ', () => {
    fc.assert(
      fc.property(
        payload.chain((raw) => fc.tuple(fc.constant(raw), revolatilized(raw))),
        ([raw, rewritten]) => {
          expect(diffPayloads(normalizePayload(raw), normalizePayload(rewritten))).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('finds a change exactly when the normalized payloads differ', () => {
    // Pairs drawn from one payload and a rewrite of it, so equal and unequal pairs both come up.
    const pair = payload.chain((raw) =>
      fc.tuple(fc.constant(raw), fc.oneof(reordered(raw), revolatilized(raw), nudged(raw), payload)),
    );
    fc.assert(
      fc.property(pair, ([a, b]) => {
        const [before, after] = [normalizePayload(a), normalizePayload(b)];
        expect(diffPayloads(before, after).length > 0).toBe(canonicalJson(before) !== canonicalJson(after));
      }),
      { numRuns: 300 },
    );
  });

  it('reports a single changed setting at a path that leads to it', () => {
    // Paths do not escape an identity value, so one holding `[` or `]` cannot be parsed back here.
    const parsable = leafChange.filter(([before]) => !/[[\]]/.test(JSON.stringify(before)));
    fc.assert(
      fc.property(parsable, ([before, location, leaf]) => {
        const changes = diffPayloads(before, normalizePayload(withValueAt(before, location, leaf)));
        const leafKeys = keysOfLocation(location);
        // A path may stop at the array holding the setting (`tags[]`) or name the element (`settings[id]`).
        const leading = changes.filter(({ path }) => {
          const keys = keysOfPath(path);
          return keys === leafKeys || leafKeys.startsWith(`${keys}.`);
        });
        expect(leading.length).toBeGreaterThan(0);
        // Two when the change re-keys an element or moves a scalar: one removal and one addition.
        expect(changes.length).toBeLessThanOrEqual(2);
      }),
      { numRuns: 300 },
    );
  });

  it('reports a changed setting outside any array at its exact path, with both values', () => {
    const objectsOnly = leafChange.filter(([, location]) =>
      location.every((step) => typeof step === 'string'),
    );
    fc.assert(
      fc.property(objectsOnly, ([before, location, leaf]) => {
        const changes = diffPayloads(before, normalizePayload(withValueAt(before, location, leaf)));
        expect(changes).toEqual([
          {
            path: location.join('.'),
            before: canonicalJson(valueAt(before, location)),
            after: canonicalJson(leaf),
          },
        ]);
      }),
      { numRuns: 200 },
    );
  });

  it('reports a changed setting of a settings-catalog policy at its keyed path', () => {
    // Unique definition ids, as Graph returns them; the changed scalar sits in a setting's nested objects.
    const catalog = fc
      .uniqueArray(fc.string({ unit: fc.constantFrom(...'abcdefghij_0123456789'), minLength: 1 }), {
        minLength: 1,
        maxLength: 6,
      })
      .chain((ids) =>
        fc.tuple(
          fc.constant(ids),
          fc.array(fc.dictionary(fc.constantFrom('value', 'choiceSettingValue', '@odata.type'), scalar), {
            minLength: ids.length,
            maxLength: ids.length,
          }),
          fc.nat({ max: ids.length - 1 }),
          fc.constantFrom('value', 'choiceSettingValue', '@odata.type'),
          scalar,
        ),
      );
    fc.assert(
      fc.property(catalog, ([ids, instances, changed, key, leaf]) => {
        const policy = (index: number, value?: Json) => ({
          '@odata.type': '#microsoft.graph.deviceManagementConfigurationPolicy',
          settings: ids.map((settingDefinitionId, i) => ({
            id: String(i),
            settingDefinitionId,
            settingInstance: i === index ? { ...(instances[i] as object), [key]: value } : instances[i],
          })),
        });
        const old = (instances[changed] as Record<string, Json>)[key];
        fc.pre(canonicalJson(old ?? null) !== canonicalJson(leaf) && old !== undefined);
        const changes = diffPayloads(normalizePayload(policy(-1)), normalizePayload(policy(changed, leaf)));
        expect(changes).toEqual([
          {
            path: `settings[${ids[changed]}].settingInstance.${key}`,
            before: canonicalJson(old),
            after: canonicalJson(leaf),
          },
        ]);
      }),
      { numRuns: 200 },
    );
  });

  it(`stops at ${MAX_CHANGES_PER_POLICY} changes and keeps every value short and well formed`, () => {
    // Wide objects and long arrays, so that many pairs differ in more places than the cap allows.
    const wide = fc
      .tuple(
        fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(scalar, payload), { maxKeys: 80 }),
        fc.array(fc.oneof(scalar, fc.string({ unit: 'grapheme', minLength: 60, maxLength: 120 })), {
          minLength: 30,
          maxLength: 80,
        }),
      )
      .map(([settings, list]) => normalizePayload({ settings, list }));
    fc.assert(
      fc.property(wide, wide, (a, b) => {
        const changes = diffPayloads(a, b);
        expect(changes.length).toBeLessThanOrEqual(MAX_CHANGES_PER_POLICY);
        for (const { before, after } of changes) {
          for (const shown of [before, after]) {
            if (shown === null) continue;
            expect(shown.length).toBeLessThanOrEqual(MAX_VALUE_LENGTH);
            expect(shown).not.toMatch(/\p{Cs}/u);
          }
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('diffSnapshots', () => {
  const payloads = fc.array(payload, { maxLength: 8 });

  it('finds nothing between a snapshot and itself in any order', () => {
    fc.assert(
      fc.property(
        payloads.chain((list) => fc.tuple(fc.constant(snapshot(list)), permutation(snapshot(list)))),
        ([items, shuffled]) => {
          expect(diffSnapshots(items, shuffled)).toEqual({ findings: [], compared: items.length });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('finds exactly the policies only one side holds when no payload changed', () => {
    fc.assert(
      fc.property(
        payloads.chain((list) => {
          const items = snapshot(list);
          return fc.tuple(fc.constant(items), fc.subarray(items), fc.subarray(items));
        }),
        ([items, baseline, current]) => {
          const { findings, compared } = diffSnapshots(baseline, current);
          const only = (side: SnapshotItem[], other: SnapshotItem[]) =>
            side.filter((item) => !other.includes(item)).map((item) => item.externalId);
          const byType = (type: string) =>
            findings.filter((f) => f.changeType === type).map((f) => f.externalId);
          expect(byType('added').sort()).toEqual(only(current, baseline).sort());
          expect(byType('removed').sort()).toEqual(only(baseline, current).sort());
          expect(byType('modified')).toEqual([]);
          expect(compared).toBe(new Set([...baseline, ...current]).size);
          expect(findings.length).toBeLessThanOrEqual(items.length);
        },
      ),
      { numRuns: 200 },
    );
  });

  it(`keeps every modified policy's changes within ${MAX_CHANGES_PER_POLICY}`, () => {
    fc.assert(
      fc.property(payloads, payloads, (a, b) => {
        for (const finding of diffSnapshots(snapshot(a), snapshot(b)).findings) {
          expect(finding.changes.length).toBeLessThanOrEqual(MAX_CHANGES_PER_POLICY);
          expect(finding.changes.length > 0).toBe(finding.changeType === 'modified');
        }
      }),
      { numRuns: 100 },
    );
  });
});
