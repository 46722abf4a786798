import { randomUUID } from 'node:crypto';
import { GraphConnectionsService } from '../../src/graph';
import { InventoryService } from '../../src/inventory/inventory.service';
import { TenantsService } from '../../src/tenants/tenants.service';
import { READ_PERMISSIONS } from '../../test/graph-sim/fixture';
import { generateTenant, spreadCounts } from '../../test/graph-sim/generator';
import { minimumRequests } from '../../test/graph-sim/requests';
import { GraphSimulator } from '../../test/graph-sim/simulator';
import type { BenchApp } from '../app';
import { BenchContext, Figure, judge } from '../context';
import { fmt } from '../stats';

export interface GraphSyncResults {
  policies: number;
  latencyMs: number;
  ms: number;
  perSecond: number;
  requests: number;
  minimum: number;
  tokens: number;
  maxInFlight: number;
  figures: Figure[];
}

/** Round-trip time the simulator adds to every Graph answer: a nearby region, not localhost. */
const LATENCY_MS = 20;
const MAX_CONCURRENCY = 4;

/**
 * Section 8: an inventory sync of a simulated Microsoft tenant of thousands of policies, through the
 * app's own start, worker and Graph client, against the HTTPS simulator with network-like latency.
 * Reported: policies per second, Graph requests per policy against the fewest that tenant needs, token
 * requests, and the most requests in flight (bounded by GRAPH_MAX_CONCURRENCY).
 */
export async function runGraphSyncSection(
  ctx: BenchContext,
  boot: (env: Record<string, string>) => Promise<BenchApp>,
): Promise<GraphSyncResults> {
  const n = ctx.smoke ? 300 : 5000;
  const clientId = randomUUID();
  const clientSecret = `bench~${randomUUID()}`;
  const fixture = generateTenant({
    seed: 5000,
    tenantId: randomUUID(),
    counts: spreadCounts(n),
    apps: [{ clientId, secrets: [{ value: clientSecret }], permissions: READ_PERMISSIONS }],
  });
  const policies = Object.values(fixture.collections).reduce((s, docs) => s + (docs?.length ?? 0), 0);
  const sim = await GraphSimulator.start({ tenants: [fixture], latencyMs: LATENCY_MS });
  let app: BenchApp | undefined;
  try {
    app = await boot({
      GRAPH_AUTHORITY_HOST: sim.authorityHost,
      GRAPH_BASE_URL: sim.graphBaseUrl,
      GRAPH_CA_FILE: sim.caFile,
      GRAPH_MAX_CONCURRENCY: String(MAX_CONCURRENCY),
      APP_ENCRYPTION_KEYS: `bench:${Buffer.alloc(32, 5).toString('base64')}`,
    });
    const tenant = await app
      .get<TenantsService>(TenantsService)
      .create(
        { slug: 'bench-graph', name: 'Bench Graph', microsoftTenantId: fixture.tenantId, notes: null },
        { id: ctx.benchUserId },
      );
    await app.get<GraphConnectionsService>(GraphConnectionsService).save(
      tenant.id,
      {
        policy_source: 'graph',
        client_id: clientId,
        credential_type: 'secret',
        client_secret: clientSecret,
        secret_expires_on: '2099-12-31',
      },
      { id: ctx.benchUserId },
    );
    ctx.log(`inventory sync of a ${policies.toLocaleString('en-US')}-policy simulated Microsoft tenant…`);
    sim.clearLog();
    const t0 = Date.now();
    const { run } = await app.get<InventoryService>(InventoryService).startSync(tenant.id, ctx.benchUserId);
    const done = await app.finished(run.id);
    const ms = Date.now() - t0;
    if (done.bucket !== 'succeeded' || done.succeeded !== policies)
      throw new Error(`the Graph sync ended ${done.status} with ${done.succeeded} of ${policies} policies`);
    const requests = sim.requests({ service: 'graph', tenant: fixture.tenantId }).length;
    const minimum = minimumRequests(fixture);
    const out: GraphSyncResults = {
      policies,
      latencyMs: LATENCY_MS,
      ms,
      perSecond: policies / (ms / 1000),
      requests,
      minimum,
      tokens: sim.tokenRequestCount({ tenant: fixture.tenantId }),
      maxInFlight: sim.maxInFlight(fixture.tenantId),
      figures: [],
    };
    const section = '8. Graph sync';
    out.figures = [
      {
        section,
        name: `inventory.sync of ${policies.toLocaleString('en-US')} Graph policies (${LATENCY_MS} ms latency, ${MAX_CONCURRENCY} in flight)`,
        value: `${fmt(out.perSecond)} policies/s (${fmt(ms / 1000)} s)`,
        target: 'reported',
      },
      {
        section,
        name: 'Graph requests per policy',
        value: `${(requests / policies).toFixed(3)} (${requests.toLocaleString('en-US')} requests)`,
        target: 'reported',
      },
      {
        section,
        name: 'Graph requests / the fewest that tenant needs',
        value: `${(requests / minimum).toFixed(3)} (${requests} / ${minimum})`,
        target: '≤ 1.02',
        ratio: requests / minimum,
        ...judge(requests / minimum, 'max', 1.02),
      },
      {
        section,
        name: 'token requests for the whole sync',
        value: String(out.tokens),
        target: '= 1',
        ...judge(out.tokens, 'max', 1),
      },
      {
        section,
        name: 'most Graph requests in flight for the tenant',
        value: String(out.maxInFlight),
        target: `≤ ${MAX_CONCURRENCY} (GRAPH_MAX_CONCURRENCY)`,
        ...judge(out.maxInFlight, 'max', MAX_CONCURRENCY),
      },
    ];
    return out;
  } finally {
    await app?.close();
    await sim.stop();
  }
}
