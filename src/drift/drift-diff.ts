import { createHash } from 'node:crypto';
import { canonicalJson, compareStrings, elementIdentity } from '../policies';

export interface SnapshotItem {
  policyType: string;
  externalId: string;
  displayName: string;
  payloadHash: string;
  /** Normalized payload; only pairs whose hashes differ need it. */
  payload?: unknown;
}

export type ChangeType = 'added' | 'removed' | 'modified';

/** `before`/`after` are compact JSON cut to `MAX_VALUE_LENGTH`; `null` means the setting is absent on that side. */
export interface SettingChange {
  path: string;
  before: string | null;
  after: string | null;
}

export interface DriftFinding {
  changeType: ChangeType;
  policyType: string;
  externalId: string;
  displayName: string;
  /** Empty for added and removed policies. */
  changes: SettingChange[];
}

/** Keeps one runaway policy (say, a replaced settings array) from flooding the findings table. */
export const MAX_CHANGES_PER_POLICY = 50;
export const MAX_VALUE_LENGTH = 120;

const CHANGE_ORDER: Record<ChangeType, number> = { added: 0, removed: 1, modified: 2 };

/**
 * Setting-level differences between two normalized payloads, in a stable order. Paths join object keys
 * with `.`; an array whose elements all carry the same identifying property is matched by it
 * (`settings[<settingDefinitionId>]`); any other array is compared as a multiset, and what is left over
 * is reported as `path[]` — except a single changed element, which is compared field by field at
 * `path[<index in after>]`.
 */
export function diffPayloads(before: unknown, after: unknown): SettingChange[] {
  const changes: SettingChange[] = [];
  compare(before, after, '', changes);
  return changes;
}

/**
 * Findings sorted by change type (added, removed, modified), policy type and external id. Pairs with
 * equal hashes are unchanged without looking at their payloads.
 */
export function diffSnapshots(
  baseline: SnapshotItem[],
  current: SnapshotItem[],
): { findings: DriftFinding[]; compared: number } {
  const before = indexSnapshot(baseline, 'baseline');
  const after = indexSnapshot(current, 'current');
  const findings: DriftFinding[] = [];
  let compared = 0;
  for (const [policyType, olds] of before) {
    const nows = after.get(policyType);
    for (const [externalId, old] of olds) {
      compared++;
      const now = nows?.get(externalId);
      if (!now) findings.push(finding('removed', old, []));
      else if (now.payloadHash !== old.payloadHash) {
        const changes = diffItems(old, now);
        // A hash can differ without a setting differing (a hash from an older normalization): not drift.
        if (changes.length > 0) findings.push(finding('modified', now, changes));
      }
    }
  }
  for (const [policyType, nows] of after) {
    const olds = before.get(policyType);
    for (const [externalId, now] of nows) {
      if (olds?.has(externalId)) continue;
      compared++;
      findings.push(finding('added', now, []));
    }
  }
  findings.sort(
    (a, b) =>
      CHANGE_ORDER[a.changeType] - CHANGE_ORDER[b.changeType] ||
      compareStrings(a.policyType, b.policyType) ||
      compareStrings(a.externalId, b.externalId),
  );
  return { findings, compared };
}

/**
 * Identifies a finding within one comparison: the same comparison run again yields the same
 * fingerprints, which is what lets the store skip findings it already has.
 */
export function findingFingerprint(
  scopeKey: string,
  baselineRunId: number,
  currentRunId: number,
  f: DriftFinding,
): string {
  const identity = [
    scopeKey,
    baselineRunId,
    currentRunId,
    f.changeType,
    f.policyType,
    f.externalId,
    f.displayName,
    f.changes.map((c) => [c.path, c.before, c.after]),
  ];
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex');
}

/** 16 hex characters naming a set of policy types, whatever their order or repetition. */
export function scopeKey(policyTypes: string[]): string {
  const types = [...new Set(policyTypes)].sort(compareStrings);
  return createHash('sha256').update(JSON.stringify(types)).digest('hex').slice(0, 16);
}

/** Nested by type rather than keyed by a joined string: building 100,000 joined keys costs more than the diff. */
function indexSnapshot(items: SnapshotItem[], side: string): Map<string, Map<string, SnapshotItem>> {
  const index = new Map<string, Map<string, SnapshotItem>>();
  for (const item of items) {
    let ofType = index.get(item.policyType);
    if (!ofType) index.set(item.policyType, (ofType = new Map()));
    if (ofType.has(item.externalId)) {
      throw new Error(`The ${side} snapshot lists ${item.policyType} ${item.externalId} twice`);
    }
    ofType.set(item.externalId, item);
  }
  return index;
}

function diffItems(old: SnapshotItem, now: SnapshotItem): SettingChange[] {
  if (old.payload === undefined || now.payload === undefined) {
    const side = old.payload === undefined ? 'baseline' : 'current';
    throw new Error(
      `Cannot diff ${old.policyType} ${old.externalId}: its payload hash changed but the ${side} payload was not loaded`,
    );
  }
  return diffPayloads(old.payload, now.payload);
}

function finding(changeType: ChangeType, item: SnapshotItem, changes: SettingChange[]): DriftFinding {
  const { policyType, externalId, displayName } = item;
  return { changeType, policyType, externalId, displayName, changes };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function compare(before: unknown, after: unknown, path: string, out: SettingChange[]): void {
  if (out.length >= MAX_CHANGES_PER_POLICY) return;
  if (isRecord(before) && isRecord(after)) compareObjects(before, after, path, out);
  else if (Array.isArray(before) && Array.isArray(after)) compareArrays(before, after, path, out);
  else if (before !== after) record(out, path, before, after);
}

function compareObjects(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  path: string,
  out: SettingChange[],
): void {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort(compareStrings);
  for (const key of keys) compare(own(before, key), own(after, key), path ? `${path}.${key}` : key, out);
}

/** Reading a key one side lacks must not reach the prototype (a provider field named `constructor`, say). */
function own(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** The identifying property shared by every element on both sides, with no value repeated on a side. */
function sharedIdentityField(before: unknown[], after: unknown[]): string | null {
  let field: string | null = null;
  for (const side of [before, after]) {
    const seen = new Set<string>();
    for (const element of side) {
      const identity = elementIdentity(element);
      if (!identity || (field !== null && identity.field !== field) || seen.has(identity.value)) return null;
      field = identity.field;
      seen.add(identity.value);
    }
  }
  return field;
}

function compareArrays(before: unknown[], after: unknown[], path: string, out: SettingChange[]): void {
  if (sharedIdentityField(before, after) !== null) compareKeyedArrays(before, after, path, out);
  else compareMultisets(before, after, path, out);
}

function byIdentity(elements: unknown[]): Map<string, unknown> {
  return new Map(elements.map((element) => [elementIdentity(element)?.value ?? '', element]));
}

function compareKeyedArrays(before: unknown[], after: unknown[], path: string, out: SettingChange[]): void {
  const old = byIdentity(before);
  const now = byIdentity(after);
  const ids = [...new Set([...old.keys(), ...now.keys()])].sort(compareStrings);
  for (const id of ids) compare(old.get(id), now.get(id), `${path}[${id}]`, out);
}

function compareMultisets(before: unknown[], after: unknown[], path: string, out: SettingChange[]): void {
  const unmatched = new Map<string, number[]>();
  before.forEach((element, index) => {
    const json = canonicalJson(element);
    const indexes = unmatched.get(json);
    if (indexes) indexes.push(index);
    else unmatched.set(json, [index]);
  });
  const added: number[] = [];
  after.forEach((element, index) => {
    const indexes = unmatched.get(canonicalJson(element));
    if (indexes?.length) indexes.pop();
    else added.push(index);
  });
  const removed = [...unmatched.values()].flat().sort((a, b) => a - b);
  if (removed.length === 1 && added.length === 1) {
    const [old, now] = [before[removed[0]], after[added[0]]];
    const sameShape = (isRecord(old) && isRecord(now)) || (Array.isArray(old) && Array.isArray(now));
    if (sameShape) {
      compare(old, now, `${path}[${added[0]}]`, out);
      return;
    }
  }
  for (const index of removed) record(out, `${path}[]`, before[index], undefined);
  for (const index of added) record(out, `${path}[]`, undefined, after[index]);
}

function record(out: SettingChange[], path: string, before: unknown, after: unknown): void {
  if (out.length >= MAX_CHANGES_PER_POLICY) return;
  out.push({ path: path || '$', before: display(before), after: display(after) });
}

function display(value: unknown): string | null {
  if (value === undefined) return null;
  const json = canonicalJson(value);
  if (json.length <= MAX_VALUE_LENGTH) return json;
  let end = MAX_VALUE_LENGTH - 1;
  // Never split a surrogate pair: half of one is not valid text.
  const last = json.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${json.slice(0, end)}…`;
}
