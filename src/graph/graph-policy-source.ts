import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import {
  PolicySource,
  PolicySourceTenant,
  PolicyTypeListing,
  ProviderError,
  SourcePolicy,
} from '../policies/policy-source';
import { GRAPH_CREDENTIALS, GraphCredentialsProvider } from './graph-credentials';
import { GraphHttpClient, GraphRequestOptions, GraphTarget, GraphWait } from './graph-http.client';
import {
  GRAPH_POLICY_TYPES,
  GraphPolicyType,
  GraphPolicyTypeInfo,
  graphPolicyType,
} from './graph-policy-types';
import { normalizeGraphPayload } from './normalize-graph-payload';

type Doc = Record<string, unknown>;

export interface GraphReadOptions {
  /** Called before each pause between attempts, for progress lines such as "next attempt in 24 s". */
  onWait?: (wait: GraphWait & { policyType: string }) => void;
}

export type ConnectionCheck =
  { policyType: string; ok: true } | { policyType: string; ok: false; reasonCode: string; message: string };

interface ReadContext {
  http: GraphHttpClient;
  target: GraphTarget;
  options: GraphRequestOptions;
  /** Detail requests one type keeps pending at once; the limiter decides how many are in flight. */
  width: number;
  labels: Map<string, string>;
}

interface Reader {
  list(c: ReadContext): Promise<Doc[]>;
  get(c: ReadContext, id: string): Promise<Doc | null>;
}

const enc = (id: unknown) => encodeURIComponent(String(id));

async function all(c: ReadContext, path: string): Promise<Doc[]> {
  return (await c.http.getAll<Doc>(c.target, path, c.options)) ?? [];
}

/** A sub-collection of one policy; `null` when the policy disappeared meanwhile. */
function children(c: ReadContext, path: string): Promise<Doc[] | null> {
  return c.http.getAll<Doc>(c.target, path, { ...c.options, allowNotFound: true });
}

function one(c: ReadContext, path: string): Promise<Doc | null> {
  return c.http.get<Doc>(c.target, path, { ...c.options, allowNotFound: true });
}

/** `fn` over `items`, `width` at a time, in order, without the nulls; stops starting work after a failure. */
async function pool<T, R>(items: T[], width: number, fn: (item: T) => Promise<R | null>): Promise<R[]> {
  const results: Array<R | null> = new Array(items.length).fill(null);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const at = next++;
      try {
        results[at] = await fn(items[at]);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return results.filter((r): r is R => r !== null);
}

/** A read of one collection with the expansions Graph allows on its list and items. */
function expanded(endpoint: string, expand?: string): Reader {
  const query = expand ? `?$expand=${expand}` : '';
  return {
    list: (c) => all(c, `${endpoint}${query}`),
    get: (c, id) => one(c, `${endpoint}/${enc(id)}${query}`),
  };
}

/** A read whose list lacks what the payload needs: each policy is completed by `detail` (null = gone). */
function detailed(
  endpoint: string,
  detail: (c: ReadContext, doc: Doc) => Promise<Doc | null>,
  query = '',
): Reader {
  return {
    list: async (c) => pool(await all(c, `${endpoint}${query}`), c.width, (doc) => detail(c, doc)),
    get: async (c, id) => {
      const doc = await one(c, `${endpoint}/${enc(id)}${query}`);
      return doc && detail(c, doc);
    },
  };
}

function withAssignments(endpoint: string): (c: ReadContext, doc: Doc) => Promise<Doc | null> {
  return async (c, doc) => {
    const assignments = await children(c, `${endpoint}/${enc(doc.id)}/assignments`);
    return assignments && { ...doc, assignments };
  };
}

function endpointOf(key: GraphPolicyType): string {
  return (graphPolicyType(key) as GraphPolicyTypeInfo).endpoint;
}

/**
 * Settings of a settings catalog policy, every page. Each setting keeps its instance and carries its
 * definition id on top, so normalization and the drift diff key settings by it (as the demo source's
 * do); the expanded definitions are catalog metadata, not policy content, and only feed the labels.
 */
async function catalogSettings(c: ReadContext, doc: Doc): Promise<Doc | null> {
  const settings = await children(
    c,
    `${endpointOf('settingsCatalog')}/${enc(doc.id)}/settings?$expand=settingDefinitions`,
  );
  if (!settings) return null;
  return {
    ...doc,
    settings: settings.map(({ settingDefinitions, ...setting }) => {
      for (const def of Array.isArray(settingDefinitions) ? (settingDefinitions as Doc[]) : []) {
        if (typeof def.id === 'string' && typeof def.displayName === 'string')
          c.labels.set(def.id, def.displayName);
      }
      const instance = setting.settingInstance as Doc | undefined;
      return { settingDefinitionId: instance?.settingDefinitionId ?? null, ...setting };
    }),
  };
}

/** Administrative templates: assignments, definition values, and each value's presentation values. */
async function groupPolicy(c: ReadContext, doc: Doc): Promise<Doc | null> {
  const base = `${endpointOf('groupPolicyConfiguration')}/${enc(doc.id)}`;
  const [assignments, values] = await Promise.all([
    children(c, `${base}/assignments`),
    children(c, `${base}/definitionValues?$expand=definition`),
  ]);
  if (!assignments || !values) return null;
  const definitionValues = await pool(values, c.width, async (value) => {
    const definition = value.definition as Doc | undefined;
    if (typeof definition?.id === 'string' && typeof definition.displayName === 'string') {
      c.labels.set(definition.id, definition.displayName);
    }
    const presentationValues = await children(
      c,
      `${base}/definitionValues/${enc(value.id)}/presentationValues?$expand=presentation`,
    );
    // The definition's id names the setting; normalization drops `id`s, so it is kept as definitionId.
    return { definitionId: definition?.id ?? null, ...value, presentationValues: presentationValues ?? [] };
  });
  return { ...doc, assignments, definitionValues };
}

async function intentDetail(c: ReadContext, doc: Doc): Promise<Doc | null> {
  const base = `${endpointOf('endpointSecurityIntent')}/${enc(doc.id)}`;
  const [settings, assignments] = await Promise.all([
    children(c, `${base}/settings`),
    children(c, `${base}/assignments`),
  ]);
  return settings && assignments && { ...doc, settings, assignments };
}

/** Where each app protection type's full document is read, and what it expands. */
const APP_PROTECTION_SETS: Record<string, string> = {
  '#microsoft.graph.iosManagedAppProtection': 'iosManagedAppProtections?apps,assignments',
  '#microsoft.graph.androidManagedAppProtection': 'androidManagedAppProtections?apps,assignments',
  '#microsoft.graph.windowsManagedAppProtection': 'windowsManagedAppProtections?apps,assignments',
  '#microsoft.graph.targetedManagedAppConfiguration': 'targetedManagedAppConfigurations?apps,assignments',
  '#microsoft.graph.mdmWindowsInformationProtectionPolicy':
    'mdmWindowsInformationProtectionPolicies?assignments',
  '#microsoft.graph.windowsInformationProtectionPolicy': 'windowsInformationProtectionPolicies?assignments',
};

/** The mixed list gives summaries; the typed collection gives the document. Unknown types keep the summary. */
function appProtectionDetail(c: ReadContext, summary: Doc): Promise<Doc | null> {
  const set = APP_PROTECTION_SETS[String(summary['@odata.type'])];
  if (!set) return Promise.resolve(summary);
  const [collection, expand] = set.split('?');
  return one(c, `/beta/deviceAppManagement/${collection}/${enc(summary.id)}?$expand=${expand}`);
}

const SCRIPT_QUERY = '?$expand=assignments';

const READERS: Record<GraphPolicyType, Reader> = {
  deviceConfiguration: expanded(endpointOf('deviceConfiguration'), 'assignments'),
  compliancePolicy: expanded(
    endpointOf('compliancePolicy'),
    'assignments,scheduledActionsForRule($expand=scheduledActionConfigurations)',
  ),
  settingsCatalog: detailed(endpointOf('settingsCatalog'), catalogSettings, '?$expand=assignments'),
  groupPolicyConfiguration: detailed(endpointOf('groupPolicyConfiguration'), groupPolicy),
  enrollmentConfiguration: detailed(
    endpointOf('enrollmentConfiguration'),
    withAssignments(endpointOf('enrollmentConfiguration')),
  ),
  autopilotProfile: detailed(endpointOf('autopilotProfile'), withAssignments(endpointOf('autopilotProfile'))),
  deviceManagementScript: {
    // The list leaves scriptContent out; the item (with its assignments) has it.
    list: async (c) =>
      pool(await all(c, endpointOf('deviceManagementScript')), c.width, (doc) =>
        one(c, `${endpointOf('deviceManagementScript')}/${enc(doc.id)}${SCRIPT_QUERY}`),
      ),
    get: (c, id) => one(c, `${endpointOf('deviceManagementScript')}/${enc(id)}${SCRIPT_QUERY}`),
  },
  endpointSecurityIntent: detailed(endpointOf('endpointSecurityIntent'), intentDetail),
  appProtection: {
    list: async (c) =>
      pool(await all(c, endpointOf('appProtection')), c.width, (doc) => appProtectionDetail(c, doc)),
    get: async (c, id) => {
      const summary = await one(c, `${endpointOf('appProtection')}/${enc(id)}`);
      return summary && appProtectionDetail(c, summary);
    },
  },
  conditionalAccess: expanded(endpointOf('conditionalAccess')),
};

function platformFromType(odataType: unknown): string | null {
  const type = String(odataType ?? '').replace('#microsoft.graph.', '');
  if (
    /^(windows|mdmWindows|sharedPC|editionUpgrade|azureAD|activeDirectory|deviceEnrollmentWindows)/i.test(
      type,
    )
  ) {
    return 'windows10';
  }
  if (/^ios/i.test(type)) return 'iOS';
  if (/^macOS/i.test(type)) return 'macOS';
  if (/^(android|aosp)/i.test(type)) return 'android';
  return null;
}

function platformOf(key: GraphPolicyType, doc: Doc): string {
  switch (key) {
    case 'settingsCatalog':
      return typeof doc.platforms === 'string' && doc.platforms ? doc.platforms : 'all';
    case 'groupPolicyConfiguration':
    case 'autopilotProfile':
    case 'deviceManagementScript':
    case 'endpointSecurityIntent':
      return 'windows10';
    case 'conditionalAccess':
      return 'all';
    default:
      return platformFromType(doc['@odata.type']) ?? 'all';
  }
}

function toSourcePolicy(info: GraphPolicyTypeInfo, doc: Doc): SourcePolicy {
  const name = info.key === 'settingsCatalog' ? doc.name : doc.displayName;
  return {
    externalId: String(doc.id),
    policyType: info.key,
    displayName: typeof name === 'string' && name ? name : String(doc.id),
    platform: platformOf(info.key, doc),
    payload: normalizeGraphPayload(doc) as Record<string, unknown>,
  };
}

/** Data changing between pages can repeat a policy; the later copy is the newer one. */
function uniqueById(docs: Doc[]): Doc[] {
  return [...new Map(docs.map((d) => [String(d.id), d])).values()];
}

/** A readable name from a setting path's last key, for paths no definition names. */
function derivedLabel(path: string): string | null {
  const keyed = [...path.matchAll(/\[([^\]]+)\]/g)].map((m) => m[1]).filter((k) => !/^\d*$/.test(k));
  const raw = keyed.pop() ?? path.split('.').filter(Boolean).pop();
  if (!raw) return null;
  return raw
    .replace(/^.*--/, '')
    .replace(/^(device|user)_vendor_msft_(policy_config_)?/, '')
    .replace(/~/g, ' ')
    .replace(/[_-]+/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .trim()
    .replace(/^./, (ch) => ch.toUpperCase());
}

/** Settings catalog definition ids: lower case, with underscores (`device_vendor_msft_…`, `com.apple…_…`). */
const CATALOG_ID = /^[a-z0-9.~-]*_[a-z0-9_.~-]*$/;
const MAX_LABEL_LOOKUPS = 50;
const MAX_CACHED_LABELS = 20_000;

/**
 * The `graph` policy source: Intune and conditional access policies of a tenant through Microsoft
 * Graph, each payload the Graph document with its assignments and details (settings, definition
 * values, script content, …) without Graph's volatile keys.
 */
@Injectable()
export class GraphPolicySource implements PolicySource {
  readonly name = 'graph';
  private readonly logger = new Logger('GraphPolicySource');
  /** Definition id → display name, filled by every read of settings and definitions. */
  private readonly labels = new Map<string, string>();
  private readonly width: number;

  constructor(
    @Inject(GRAPH_CREDENTIALS) private readonly credentials: GraphCredentialsProvider,
    private readonly http: GraphHttpClient,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.width = config.graph.maxConcurrency * 2;
  }

  /**
   * Every readable policy. Types that fail are left out: a caller that must keep an unreadable type's
   * earlier policies (a sync) uses listByType. Throws only when no type could be read at all.
   */
  async listPolicies(tenant: PolicySourceTenant, options: GraphReadOptions = {}): Promise<SourcePolicy[]> {
    const results = await this.listByType(tenant, options);
    const errors = results.flatMap((r) => ('error' in r ? [r.error] : []));
    if (errors.length === results.length) {
      throw errors.find((e) => e.reasonCode === 'credentials_invalid') ?? errors[0];
    }
    return results.flatMap((r) => ('policies' in r ? r.policies : []));
  }

  /** One entry per policy type: its policies, or why it could not be read. */
  async listByType(tenant: PolicySourceTenant, options: GraphReadOptions = {}): Promise<PolicyTypeListing[]> {
    let target: GraphTarget;
    try {
      target = await this.target(tenant);
      // One token up front: a credentials problem is reported once per type, not tried ten times.
      await this.http.ensureToken(target);
    } catch (e) {
      if (e instanceof ProviderError) return GRAPH_POLICY_TYPES.map((t) => ({ policyType: t.key, error: e }));
      throw e;
    }
    return Promise.all(
      GRAPH_POLICY_TYPES.map(async (info): Promise<PolicyTypeListing> => {
        try {
          const docs = uniqueById(await READERS[info.key].list(this.context(target, info, options)));
          return { policyType: info.key, policies: docs.map((d) => toSourcePolicy(info, d)) };
        } catch (e) {
          if (!(e instanceof ProviderError)) throw e;
          this.logger.warn(
            `tenant ${tenant.slug}: ${info.key} could not be read: ${e.reasonCode}: ${e.message}`,
          );
          return { policyType: info.key, error: e };
        }
      }),
    );
  }

  /** One cheap request per policy type: can this connection read it? */
  async checkConnection(
    tenant: PolicySourceTenant,
    options: GraphReadOptions = {},
  ): Promise<ConnectionCheck[]> {
    const failed = (e: ProviderError) =>
      GRAPH_POLICY_TYPES.map((t) => ({
        policyType: t.key,
        ok: false as const,
        reasonCode: e.reasonCode,
        message: e.message,
      }));
    let target: GraphTarget;
    try {
      target = await this.target(tenant);
      await this.http.ensureToken(target);
    } catch (e) {
      if (e instanceof ProviderError) return failed(e);
      throw e;
    }
    return Promise.all(
      GRAPH_POLICY_TYPES.map(async (info): Promise<ConnectionCheck> => {
        const c = this.context(target, info, options);
        try {
          await this.http.get(target, `${info.endpoint}?$top=1`, c.options);
          return { policyType: info.key, ok: true };
        } catch (e) {
          if (!(e instanceof ProviderError)) throw e;
          return { policyType: info.key, ok: false, reasonCode: e.reasonCode, message: e.message };
        }
      }),
    );
  }

  async getPolicy(
    tenant: PolicySourceTenant,
    policyType: string,
    externalId: string,
  ): Promise<SourcePolicy | null> {
    const [policy] = await this.getPolicies(tenant, [{ policyType, externalId }]);
    return policy;
  }

  /** The current documents of these policies; `null` where one is gone (or of a type Graph does not serve). */
  async getPolicies(
    tenant: PolicySourceTenant,
    keys: Array<{ policyType: string; externalId: string }>,
    options: GraphReadOptions = {},
  ): Promise<Array<SourcePolicy | null>> {
    if (keys.length === 0) return [];
    const target = await this.target(tenant);
    const found = await pool(
      keys.map((key, at) => ({ key, at })),
      this.width,
      async ({ key, at }) => {
        const info = graphPolicyType(key.policyType);
        if (!info) return { at, policy: null };
        const doc = await READERS[info.key].get(this.context(target, info, options), key.externalId);
        return { at, policy: doc && toSourcePolicy(info, doc) };
      },
    );
    const out: Array<SourcePolicy | null> = keys.map(() => null);
    for (const { at, policy } of found) out[at] = policy;
    return out;
  }

  /**
   * Labels of setting paths: definition names seen in reads, then settings catalog definitions looked
   * up in Graph (a few dozen at most), then a name derived from the path. Labels are cosmetic: a
   * failed lookup falls back to the derived name.
   */
  async settingLabels(tenant: PolicySourceTenant, paths: string[]): Promise<Record<string, string>> {
    const idOf = (path: string) =>
      [...path.matchAll(/\[([^\]]+)\]/g)]
        .map((m) => m[1])
        .filter((k) => !/^\d*$/.test(k))
        .pop();
    const missing = [
      ...new Set(
        paths.map(idOf).filter((id): id is string => !!id && !this.labels.has(id) && CATALOG_ID.test(id)),
      ),
    ].slice(0, MAX_LABEL_LOOKUPS);
    if (missing.length > 0) await this.lookUpDefinitions(tenant, missing);
    const out: Record<string, string> = {};
    for (const path of paths) {
      const id = idOf(path);
      const label = (id && this.labels.get(id)) || derivedLabel(path);
      if (label) out[path] = label;
    }
    return out;
  }

  private async lookUpDefinitions(tenant: PolicySourceTenant, ids: string[]): Promise<void> {
    try {
      const target = await this.target(tenant);
      await pool(ids, this.width, async (id) => {
        const def = await this.http.get<Doc>(
          target,
          `/beta/deviceManagement/configurationSettings/${enc(id)}`,
          {
            allowNotFound: true,
          },
        );
        if (typeof def?.displayName === 'string') this.remember(id, def.displayName);
        return null;
      });
    } catch (e) {
      if (!(e instanceof ProviderError)) throw e;
      this.logger.debug(`setting labels for ${tenant.slug} fall back to derived names: ${e.reasonCode}`);
    }
  }

  private remember(id: string, label: string): void {
    if (this.labels.size >= MAX_CACHED_LABELS) this.labels.clear();
    this.labels.set(id, label);
  }

  private async target(tenant: PolicySourceTenant): Promise<GraphTarget> {
    const credential = await this.credentials.forTenant(tenant.id);
    if (!credential) {
      throw new ProviderError('credentials_invalid', 'This tenant has no Microsoft Graph connection set up.');
    }
    return { tenantId: tenant.id, credential };
  }

  private context(target: GraphTarget, info: GraphPolicyTypeInfo, options: GraphReadOptions): ReadContext {
    const { onWait } = options;
    if (this.labels.size >= MAX_CACHED_LABELS) this.labels.clear();
    return {
      http: this.http,
      target,
      width: this.width,
      labels: this.labels,
      options: {
        access: { label: info.label, permission: info.permission },
        onWait: onWait && ((wait) => onWait({ ...wait, policyType: info.key })),
      },
    };
  }
}
