/**
 * Keys Graph rewrites or fills in on reads without any change to what a policy enforces (IntuneCD's
 * list). The app's normalizePayload drops the generic volatile keys (`id`, dates, `version`) later;
 * these are the Graph-only ones.
 */
export const GRAPH_VOLATILE_KEYS: ReadonlySet<string> = new Set([
  'isAssigned',
  'settingCount',
  'supportsScopeTags',
  'sourceId',
  'lastSyncDateTime',
  'secretReferenceValueId',
  'topicIdentifier',
  'certificate',
  'token',
  'deployedAppCount',
  'isReadOnly',
]);

const ODATA = '@odata.';

/** OData annotations (`@odata.context`, `assignments@odata.context`, …) except the type, which is content. */
function isAnnotation(key: string): boolean {
  const at = key.indexOf(ODATA);
  return at !== -1 && key.slice(at + ODATA.length) !== 'type';
}

/**
 * A Graph document without its volatile Graph keys and OData annotations, at every depth. Everything
 * else, order included, is kept as Graph sent it.
 */
export function normalizeGraphPayload(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalizeGraphPayload);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (GRAPH_VOLATILE_KEYS.has(key) || isAnnotation(key)) continue;
    const normalized = normalizeGraphPayload(item);
    // A plain assignment to `__proto__` would replace the prototype instead of keeping the field.
    if (key === '__proto__') {
      Object.defineProperty(out, key, {
        value: normalized,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else out[key] = normalized;
  }
  return out;
}
