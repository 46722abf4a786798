#!/usr/bin/env node
/**
 * Builds dist/ only when it was not built from the sources as they are now, so `npm start` on an
 * unchanged tree starts at once and `npm test` does not rebuild for its process tests. Type checking
 * is not part of the build: `npm run lint` runs tsc.
 *
 * The build is Nest's SWC build (nest-cli.json: builder swc, its source root, ignore list and
 * deleteOutDir; .swcrc: the compiler options) run through @swc/cli's own API, as `nest build` runs it,
 * without loading the Nest CLI first: that takes longer than compiling the whole tree.
 *
 * "Built from the sources as they are now": the build records the path, size and mtime of every input
 * (the source root and the build's configuration) in dist/.build-inputs; any difference (an edit, a
 * new or deleted file, a `git checkout` to older content) makes the tree stale. The inputs are read
 * before the build, so an edit made while it runs is seen by the next start.
 *
 *   node scripts/build-if-stale.js           build if stale (prestart, pretest)
 *   node scripts/build-if-stale.js --force   build (npm run build)
 */
'use strict';
const { createHash } = require('node:crypto');
const { existsSync, readdirSync, readFileSync, statSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const ROOT = join(__dirname, '..');
const DIST = join(ROOT, 'dist');
const STAMP = join(DIST, '.build-inputs');
const CONFIG_FILES = ['nest-cli.json', '.swcrc', 'tsconfig.json', 'package.json'];

const nestCli = JSON.parse(readFileSync(join(ROOT, 'nest-cli.json'), 'utf8'));
const SOURCE_ROOT = nestCli.sourceRoot ?? 'src';
const builder = nestCli.compilerOptions?.builder ?? {};
if ((typeof builder === 'string' ? builder : builder.type) !== 'swc')
  throw new Error('nest-cli.json: compilerOptions.builder must be swc');
const builderOptions = typeof builder === 'string' ? {} : (builder.options ?? {});
const ignore = builderOptions.ignore ?? [];

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (!entry.name.endsWith('.spec.ts')) yield path;
  }
}

function inputsFingerprint() {
  const paths = [
    ...files(join(ROOT, SOURCE_ROOT)),
    ...CONFIG_FILES.map((f) => join(ROOT, f)).filter(existsSync),
  ];
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

async function build() {
  // @swc/cli names outputs relative to the directory it was loaded in, as `nest build` runs it.
  process.chdir(ROOT);
  const swcDir = require('@swc/cli/lib/swc/dir').default;
  const swcOptions = { ...JSON.parse(readFileSync(join(ROOT, '.swcrc'), 'utf8')), swcrc: false };
  delete swcOptions.$schema;
  let failed = false;
  await swcDir({
    swcOptions,
    cliOptions: {
      filenames: [SOURCE_ROOT],
      outDir: relative(ROOT, DIST),
      extensions: ['.ts', '.js'],
      ignore,
      stripLeadingPaths: builderOptions.stripLeadingPaths ?? true,
      deleteDirOnStart: nestCli.compilerOptions?.deleteOutDir ?? true,
      copyFiles: false,
      includeDotfiles: false,
      sync: false,
      quiet: true,
      watch: false,
    },
    callbacks: {
      onSuccess: () => undefined,
      onFail: (e) => {
        failed = true;
        for (const [file, message] of e.reasons ?? []) process.stderr.write(`${file}: ${message}\n`);
      },
    },
  });
  return !failed;
}

async function main() {
  const fingerprint = inputsFingerprint();
  if (!process.argv.includes('--force') && upToDate(fingerprint)) return;
  const started = Date.now();
  if (!(await build())) process.exit(1);
  writeFileSync(STAMP, fingerprint);
  process.stdout.write(`Built dist/ with SWC in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

main().catch((e) => {
  process.stderr.write(`${e.stack ?? e}\n`);
  process.exit(1);
});
