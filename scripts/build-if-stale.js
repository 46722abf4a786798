#!/usr/bin/env node
/**
 * Builds dist/ (SWC through `nest build`, about a second) only when it was not built from the sources
 * as they are now, so `npm start` on an unchanged tree starts at once and `npm test` does not rebuild
 * for its process tests. Type checking is not part of the build: `npm run lint` runs tsc.
 *
 * "Built from the sources as they are now": the build records the path, size and mtime of every input
 * (src/** and the build's configuration) in dist/.build-inputs; any difference (an edit, a new or
 * deleted file, a `git checkout` to older content) makes the tree stale. The inputs are read before
 * the build, so an edit made while it runs is seen by the next start.
 *
 *   node scripts/build-if-stale.js           build if stale (prestart, pretest)
 *   node scripts/build-if-stale.js --force   build (npm run build)
 */
'use strict';
const { spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const { existsSync, readdirSync, readFileSync, statSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const ROOT = join(__dirname, '..');
const DIST = join(ROOT, 'dist');
const STAMP = join(DIST, '.build-inputs');
const CONFIG_FILES = ['nest-cli.json', '.swcrc', 'tsconfig.json', 'package.json'];

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (!entry.name.endsWith('.spec.ts')) yield path;
  }
}

function inputsFingerprint() {
  const paths = [...files(join(ROOT, 'src')), ...CONFIG_FILES.map((f) => join(ROOT, f)).filter(existsSync)];
  const lines = paths.map((p) => {
    const s = statSync(p);
    return `${relative(ROOT, p)}\t${s.size}\t${s.mtimeMs}`;
  });
  return createHash('sha256').update(lines.sort().join('\n')).digest('hex');
}

function upToDate(fingerprint) {
  try {
    return existsSync(join(DIST, 'main.js')) && readFileSync(STAMP, 'utf8') === fingerprint;
  } catch {
    return false;
  }
}

const fingerprint = inputsFingerprint();
if (!process.argv.includes('--force') && upToDate(fingerprint)) process.exit(0);

const started = Date.now();
const nest = require.resolve('@nestjs/cli/bin/nest.js', { paths: [ROOT] });
const build = spawnSync(process.execPath, [nest, 'build'], { cwd: ROOT, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
writeFileSync(STAMP, fingerprint);
process.stdout.write(`Built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
