import { writeFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';
import { DEFAULT_FIXTURE_FILE } from './fixture';
import { DEFAULT_FIXTURE_OPTIONS, generateTenant } from './generator';

/**
 * Rewrites fixtures/default-tenant.json after a change to the generator, formatted as the repository's
 * Prettier wants it:
 *   npx ts-node --transpile-only test/graph-sim/make-default-fixture.ts
 */
async function main(): Promise<void> {
  const options = (await resolveConfig(DEFAULT_FIXTURE_FILE)) ?? {};
  const json = JSON.stringify(generateTenant(DEFAULT_FIXTURE_OPTIONS));
  writeFileSync(DEFAULT_FIXTURE_FILE, await format(json, { ...options, parser: 'json' }));
}

void main();
