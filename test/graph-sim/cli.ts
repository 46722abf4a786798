import { parseArgs } from 'node:util';
import { DEFAULT_FIXTURE_FILE, TenantFixture, fixturePolicyCount, loadFixture } from './fixture';
import { DEFAULT_FIXTURE_OPTIONS, generateTenant, spreadCounts } from './generator';
import { GraphSimulator } from './simulator';

/**
 * Starts the simulator stand-alone and prints ONE JSON line with what the app needs
 * (GRAPH_AUTHORITY_HOST, GRAPH_BASE_URL, GRAPH_CA_FILE, and each tenant's credentials); runs until
 * SIGINT/SIGTERM.
 *
 *   npx ts-node --transpile-only test/graph-sim/cli.ts [--port N] [--fixture file.json]
 *     [--policies N] [--latency ms] [--echo-secrets]
 *
 * --policies replaces the default tenant's policies with N generated ones (for benchmarks).
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      fixture: { type: 'string', multiple: true },
      policies: { type: 'string' },
      latency: { type: 'string', default: '0' },
      'echo-secrets': { type: 'boolean', default: false },
    },
  });
  let tenants: TenantFixture[] = (values.fixture ?? [DEFAULT_FIXTURE_FILE]).map((f) => loadFixture(f));
  if (values.policies !== undefined) {
    const total = Number(values.policies);
    if (!Number.isInteger(total) || total < 0) throw new Error('--policies must be a whole number');
    tenants = [generateTenant({ ...DEFAULT_FIXTURE_OPTIONS, counts: spreadCounts(total) })];
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be 0-65535');
  const sim = await GraphSimulator.start({
    port,
    tenants,
    latencyMs: Number(values.latency),
    echoSecrets: values['echo-secrets'],
  });
  console.log(
    JSON.stringify({
      authority_host: sim.authorityHost,
      graph_base_url: sim.graphBaseUrl,
      ca_file: sim.caFile,
      tenants: tenants.map((t) => ({
        microsoft_tenant_id: t.tenantId,
        client_id: t.apps?.[0]?.clientId ?? null,
        client_secret: t.apps?.[0]?.secrets?.[0]?.value ?? null,
        policies: fixturePolicyCount(t),
      })),
    }),
  );
  const shutdown = () => {
    sim.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((e: unknown) => {
  console.error(`graph-sim: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
