import { loadConfig } from '../config/app-config';
import { DEMO_PAGE_SIZE, DEMO_PARALLEL_GETS, DemoPolicySource } from './demo-policy-source';
import type { DemoState, DemoStateRepository } from './demo-state.repository';

/** The demo source with its waits counted instead of slept: no test here depends on a clock. */
class CountingSource extends DemoPolicySource {
  readonly waits: number[] = [];
  protected override wait(ms: number): Promise<void> {
    this.waits.push(ms);
    return Promise.resolve();
  }
}

function source(paceMs: number, state: Partial<DemoState> = {}): CountingSource {
  const s: DemoState = {
    generation: 0,
    size: 300,
    fault: null,
    faultOperations: [],
    faultMessage: null,
    latencyMs: 0,
    ...state,
  };
  const repo = { get: () => Promise.resolve(s), save: () => Promise.resolve() };
  return new CountingSource(repo as unknown as DemoStateRepository, { demoPaceMs: paceMs });
}

const tenant = { id: 1, slug: 'contoso' };

describe('DEMO_PACE', () => {
  it('is instant by default: a sync of the demo tenant waits for nothing', async () => {
    expect(loadConfig({}).demoPaceMs).toBe(0);
    const s = source(loadConfig({}).demoPaceMs);
    const list = await s.listPolicies(tenant);
    await s.getPolicies(tenant, list.slice(0, 40));
    await s.settingLabels(tenant, ['a.b']);
    expect(s.waits).toEqual([]);
  });

  it('realistic: each page of the listing and each few policies read is a simulated Graph request', async () => {
    const paceMs = loadConfig({ DEMO_PACE: 'realistic' }).demoPaceMs;
    expect(paceMs).toBe(250);
    const s = source(paceMs);
    const list = await s.listPolicies(tenant);
    const pages = Math.ceil(list.length / DEMO_PAGE_SIZE);
    expect(pages).toBeGreaterThanOrEqual(10);
    expect(s.waits).toEqual(Array(pages).fill(250));
    s.waits.length = 0;
    await s.getPolicies(tenant, list.slice(0, 40));
    expect(s.waits).toEqual(Array(40 / DEMO_PARALLEL_GETS).fill(250));
    s.waits.length = 0;
    await s.getPolicy(tenant, list[0].policyType, list[0].externalId);
    await s.settingLabels(tenant, ['a.b']);
    expect(s.waits).toEqual([250, 250]);
    // A listing of the demo tenant at this pace takes seconds, not milliseconds.
    expect(pages * paceMs).toBeGreaterThanOrEqual(2500);
  });

  it('takes a number of milliseconds per request, and a tenant latency of its own wins', async () => {
    expect(loadConfig({ DEMO_PACE: '40' }).demoPaceMs).toBe(40);
    expect(loadConfig({ DEMO_PACE: '1500ms' }).demoPaceMs).toBe(1500);
    expect(loadConfig({ DEMO_PACE: ' Instant ' }).demoPaceMs).toBe(0);
    const own = source(40, { latencyMs: 700 });
    await own.listPolicies(tenant);
    expect(own.waits).toEqual([700]);
  });

  it.each(['fast', '-5', '60001', '1.5', 'realistic!'])('refuses DEMO_PACE=%s with a readable line', (v) => {
    expect(() => loadConfig({ DEMO_PACE: v })).toThrow(
      `Invalid configuration: DEMO_PACE must be instant, realistic or a number of milliseconds per request from 0 to 60000 (e.g. 250) (got "${v}")`,
    );
  });
});
