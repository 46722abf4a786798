import { Injectable } from '@nestjs/common';
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

  constructor(private readonly repo: DemoStateRepository) {}

  state(tenantId: number): Promise<DemoState> {
    return this.repo.get(tenantId);
  }

  settingsHref(tenantSlug: string): string {
    return `/admin/t/${tenantSlug}/demo-source`;
  }

  async listPolicies(tenant: PolicySourceTenant): Promise<SourcePolicy[]> {
    const s = await this.call(tenant.id, 'list');
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
    const s = await this.call(tenant.id, 'get');
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

  /** One provider call: its simulated latency, then its simulated fault, if any. */
  private async call(tenantId: number, op: FaultOperation): Promise<DemoState> {
    const s = await this.state(tenantId);
    if (s.latencyMs > 0) await new Promise((r) => setTimeout(r, s.latencyMs));
    this.raiseFault(s, op);
    return s;
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
