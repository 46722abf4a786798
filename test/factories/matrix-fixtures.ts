import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TestApp } from './test-app';

/** What a fixture gets: whose object to make, and whether the call will use it up. */
export interface FixtureContext {
  t: TestApp;
  /** The tenant the object belongs to (the caller's own, or another tenant for a foreign id). */
  tenant: { id: number; slug: string };
  /** The user the object belongs to, for per-user objects (a notification, an API token). */
  user: { id: number; email: string };
  /** A permitted call consumes the object (delete, cancel): make a new one instead of the shared one. */
  fresh: boolean;
}

/** How the authorization matrix gets "an id of this kind" for a route's parameter. */
export interface IdFixture {
  /**
   * Whose objects these are: a tenant's (another tenant's id must be 404), a user's (another user's
   * must be 404), or nobody's (a run type name).
   */
  owner: 'tenant' | 'user' | 'none';
  make(ctx: FixtureContext): Promise<string | number>;
}

export type MatrixFixtures = Record<string, IdFixture>;

/**
 * Every `*.matrix-fixtures.ts` under test/: the core kinds and any a producer's team adds beside its
 * e2e test (exporting `matrixFixtures`), so a new kind of id needs no edit of the matrix itself.
 */
export function loadMatrixFixtures(): MatrixFixtures {
  const root = join(__dirname, '..');
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.matrix-fixtures.ts')) files.push(path);
    }
  };
  walk(root);
  const all: MatrixFixtures = {};
  for (const file of files.sort()) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const found = (require(file) as { matrixFixtures?: MatrixFixtures }).matrixFixtures ?? {};
    for (const [kind, fixture] of Object.entries(found)) {
      if (all[kind]) throw new Error(`matrix fixture "${kind}" is defined twice (again in ${file})`);
      all[kind] = fixture;
    }
  }
  return all;
}
