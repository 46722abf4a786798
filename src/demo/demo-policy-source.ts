import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ProviderError } from '../policies/policy-source';
import type {
  PolicySource,
  PolicySourceTenant,
  ProviderFault,
  SourcePolicy,
} from '../policies/policy-source';
import { demoPolicies } from './demo-policies';
import { DemoState, DemoStateRepository, FAULT_OPERATIONS, FaultOperation } from './demo-state.repository';

/** What a provider says when it fails, worded the way Graph does (URLs and all: the sanitizer copes). */
const DEFAULT_FAULT_MESSAGES: Record<ProviderFault, string> = {
  provider_throttled:
    'Graph returned 429 Too Many Requests for GET https://graph.microsoft.com/beta/deviceManagement/configurationPolicies (Retry-After: 30)',
  permission_denied:
    'Graph returned 403 Forbidden: the app registration lacks DeviceManagementConfiguration.Read.All for this tenant',
  credentials_invalid:
    'AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value',
  not_found: 'Graph returned 404 Not Found: the requested resource does not exist',
  timeout:
    'Graph did not answer GET https://graph.microsoft.com/beta/deviceManagement/deviceConfigurations within 30000 ms',
  provider_unavailable:
    'Graph returned 503 Service Unavailable; the service is temporarily unable to handle the request',
};

const STATUS: Record<ProviderFault, number> = {
  provider_throttled: 429,
  permission_denied: 403,
  credentials_invalid: 401,
  not_found: 404,
  timeout: 504,
  provider_unavailable: 503,
};

/**
 * A throttled or unavailable answer says when to come back, as Graph's Retry-After header does; the
 * demo's wording carries it ("Retry-After: 30"), so a fault with a message of its own can ask for less.
 */
function retryAfterMs(fault: ProviderFault, message: string): number | undefined {
  if (fault !== 'provider_throttled' && fault !== 'provider_unavailable') return undefined;
  const m = /Retry-After:\s*(\d{1,6})\b/i.exec(message);
  return m ? Number(m[1]) * 1000 : undefined;
}

/** Policies per page of a simulated Graph listing (Graph's device management lists page at 25 or so). */
export const DEMO_PAGE_SIZE = 25;
/** Simulated Graph requests in flight at once when policies are read one by one (GRAPH_MAX_CONCURRENCY). */
export const DEMO_PARALLEL_GETS = 4;

/**
 * The `demo` policy source: a deterministic synthetic tenant (see demo-policies.ts) whose upstream is
 * always one generation ahead of the last sync, so every sync brings a few added, removed and changed
 * policies. Its state lives in the database so web and worker processes agree; faults can be switched
 * on per tenant for demos and tests.
 */
@Injectable()
export class DemoPolicySource implements PolicySource {
  readonly name = 'demo';
  private readonly cache = new Map<string, { list: SourcePolicy[]; byKey: Map<string, SourcePolicy> }>();

  constructor(
    private readonly repo: DemoStateRepository,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'demoPaceMs'>,
  ) {}

  state(tenantId: number): Promise<DemoState> {
    return this.repo.get(tenantId);
  }

  settingsHref(tenantSlug: string): string {
    return `/admin/t/${tenantSlug}/demo-source`;
  }

  async listPolicies(tenant: PolicySourceTenant): Promise<SourcePolicy[]> {
    // The listing is read page by page, as Graph's is: with a pace, one wait per page.
    const s = await this.call(tenant.id, 'list', (s) =>
      Math.ceil(this.upstream(tenant.slug, s).list.length / DEMO_PAGE_SIZE),
    );
    return this.upstream(tenant.slug, s).list;
  }

  async getPolicy(
    tenant: PolicySourceTenant,
    policyType: string,
    externalId: string,
  ): Promise<SourcePolicy | null> {
    const s = await this.call(tenant.id, 'get');
    return this.upstream(tenant.slug, s).byKey.get(`${policyType}:${externalId}`) ?? null;
  }

  /** Batch variant used by backup capture: one state read for many policies. */
  async getPolicies(tenant: PolicySourceTenant, keys: Array<{ policyType: string; externalId: string }>) {
    // One GET per policy, a few at a time.
    const s = await this.call(tenant.id, 'get', () => Math.ceil(keys.length / DEMO_PARALLEL_GETS));
    const up = this.upstream(tenant.slug, s);
    return keys.map((k) => up.byKey.get(`${k.policyType}:${k.externalId}`) ?? null);
  }

  async settingLabels(tenant: PolicySourceTenant, paths: string[]): Promise<Record<string, string>> {
    await this.call(tenant.id, 'labels');
    const out: Record<string, string> = {};
    for (const p of paths) {
      // The innermost keyed element names the setting (a settings-catalog definition id); otherwise the last key.
      const keyed = [...p.matchAll(/\[([^\]]+)\]/g)].map((m) => m[1]).filter((k) => !/^\d*$/.test(k));
      const raw = keyed.pop() ?? p.split('.').filter(Boolean).pop();
      if (!raw) continue;
      out[p] = raw
        .replace(/^.*--/, '')
        .replace(/^device_vendor_msft_(policy_config_)?/, '')
        .replace(/~/g, ' ')
        .replace(/[_-]+/g, ' ')
        .replace(/([a-z])([A-Z])/g, '$1 $2')
        .trim()
        .replace(/^./, (c) => c.toUpperCase());
    }
    return out;
  }

  async afterSync(tenant: PolicySourceTenant): Promise<void> {
    await this.save(tenant.id, { generation: (await this.state(tenant.id)).generation + 1 });
  }

  async setFault(
    tenantId: number,
    fault: ProviderFault | null,
    operations: FaultOperation[] = [...FAULT_OPERATIONS],
    message?: string | null,
  ) {
    await this.save(tenantId, {
      fault,
      faultOperations: fault ? operations : [],
      faultMessage: fault ? (message ?? null) : null,
    });
  }

  /** Simulated provider latency per call, to watch long runs. */
  async setLatency(tenantId: number, ms: number): Promise<void> {
    await this.save(tenantId, { latencyMs: ms });
  }

  /** For benchmarks: a tenant of another size. */
  async setSize(tenantId: number, size: number): Promise<void> {
    await this.save(tenantId, { size });
  }

  /** What the next sync will see: the generation after the last synced one. */
  private upstream(slug: string, s: DemoState) {
    const key = `${slug}:${s.generation + 1}:${s.size}`;
    let entry = this.cache.get(key);
    if (!entry) {
      const list = demoPolicies(slug, s.generation + 1, { size: s.size });
      entry = { list, byKey: new Map(list.map((p) => [`${p.policyType}:${p.externalId}`, p])) };
      this.cache.set(key, entry);
      if (this.cache.size > 6) this.cache.delete(this.cache.keys().next().value as string);
    }
    return entry;
  }

  /**
   * How long each simulated wait of a call lasts and how many there are: a tenant's own latency (set on
   * its demo source page, or by tests) is one wait per call; otherwise DEMO_PACE is one wait per
   * simulated Graph request (a page of a listing, a few policies read at once). No pace: no wait.
   */
  pacing(s: DemoState, requests: number): { waitMs: number; waits: number } {
    if (s.latencyMs > 0) return { waitMs: s.latencyMs, waits: 1 };
    const pace = this.config.demoPaceMs;
    return pace > 0 ? { waitMs: pace, waits: Math.max(1, requests) } : { waitMs: 0, waits: 0 };
  }

  /** One provider call: its simulated latency, then its simulated fault, if any. */
  private async call(
    tenantId: number,
    op: FaultOperation,
    requests: (s: DemoState) => number = () => 1,
  ): Promise<DemoState> {
    const s = await this.state(tenantId);
    const { waitMs, waits } = this.pacing(s, this.config.demoPaceMs > 0 ? requests(s) : 1);
    for (let i = 0; i < waits; i++) await this.wait(waitMs);
    this.raiseFault(s, op);
    return s;
  }

  /** One simulated round trip (a seam for tests, which count waits rather than time them). */
  protected wait(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
  }

  private raiseFault(s: DemoState, op: FaultOperation): void {
    if (!s.fault || !s.faultOperations.includes(op)) return;
    const message = s.faultMessage || DEFAULT_FAULT_MESSAGES[s.fault];
    throw new ProviderError(s.fault, message, STATUS[s.fault], retryAfterMs(s.fault, message));
  }

  private async save(tenantId: number, patch: Partial<DemoState>): Promise<void> {
    await this.repo.save(tenantId, { ...(await this.state(tenantId)), ...patch });
  }
}
