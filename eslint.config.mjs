// @ts-check
import eslint from '@eslint/js';
import importPlugin from 'eslint-plugin-import';
import prettier from 'eslint-config-prettier';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import tseslint from 'typescript-eslint';

/**
 * Who may import whom (docs/architecture.md), enforced by `npm run lint` so a wrong arrow fails CI:
 * - `common` holds feature-free utilities and imports no module of the app; `web` (page plumbing)
 *   imports only `common`;
 * - the hub (`runs`) imports no producer and no reader of it;
 * - no producer imports another producer (a producer is a module with a `@RunProducer` handler, found
 *   here by reading the tree, so a team's new producer is covered without editing this file);
 * - a feature module is imported only through its public face, its `index.ts` (and `demo/source.ts`,
 *   the demo source alone).
 */
const SRC = 'src';
const INFRA = ['common', 'config', 'database', 'queue'];
const modules = readdirSync(SRC).filter((d) => statSync(join(SRC, d)).isDirectory());
const features = modules.filter((m) => !INFRA.includes(m));
const topLevel = readdirSync(SRC)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => `./${SRC}/${f}`);

function filesOf(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesOf(p) : p.endsWith('.ts') ? [p] : [];
  });
}
const producers = features.filter((m) =>
  filesOf(join(SRC, m)).some((f) => /^@RunProducer\(/m.test(readFileSync(f, 'utf8'))),
);
const readersOfTheHub = ['monitoring', 'notifications', 'health', 'demo', 'audit', 'admin'];
const PUBLIC_FACES = { demo: ['./index.ts', './source.ts'], policies: ['./index.ts', './policy-source.ts'] };

const zones = [
  {
    target: `./${SRC}/common`,
    from: modules.filter((m) => m !== 'common').map((m) => `./${SRC}/${m}`),
    message: 'src/common holds feature-free utilities only: it may not import a module of the app.',
  },
  {
    target: `./${SRC}/web`,
    from: modules.filter((m) => m !== 'common' && m !== 'web').map((m) => `./${SRC}/${m}`),
    message: 'src/web is page plumbing under every module that serves pages: it imports only src/common.',
  },
  {
    target: `./${SRC}/runs`,
    from: [...producers, ...readersOfTheHub].map((m) => `./${SRC}/${m}`),
    message: 'The hub (src/runs) knows no producer and none of its readers.',
  },
  ...producers.map((p) => ({
    target: `./${SRC}/${p}`,
    from: producers.filter((q) => q !== p).map((q) => `./${SRC}/${q}`),
    message: `A producer never imports another producer (${p} is one).`,
  })),
  ...features.map((m) => ({
    target: [...modules.filter((x) => x !== m).map((x) => `./${SRC}/${x}`), ...topLevel],
    from: `./${SRC}/${m}`,
    except: PUBLIC_FACES[m] ?? ['./index.ts'],
    message: `Import src/${m} through its public face (src/${m}/index.ts), not its files.`,
  })),
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'public/**', 'test-artifacts/**', '*.js', '*.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: [`${SRC}/**/*.ts`],
    plugins: { import: importPlugin },
    settings: { 'import/resolver': { node: { extensions: ['.ts', '.js'] } } },
    rules: { 'import/no-restricted-paths': ['error', { zones }] },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
