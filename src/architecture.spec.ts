import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The module boundaries of docs/architecture.md are enforced by `npm run lint` (eslint.config.mjs,
 * import/no-restricted-paths). This shows the rules fire: a file placed in a module, importing what
 * that module may not import, is an error; the allowed import is not.
 */
describe('module boundaries (npm run lint)', () => {
  const root = join(__dirname, '..');
  const bin = join(root, 'node_modules', 'eslint', 'bin', 'eslint.js');

  /** ESLint as `npm run lint` runs it (its config is an ES module, which Jest's sandbox cannot load). */
  function lint(
    args: string[],
    input?: string,
  ): Array<{ filePath: string; messages: Array<Record<string, any>> }> {
    const out = spawnSync(process.execPath, [bin, '--format', 'json', ...args], {
      cwd: root,
      input,
      encoding: 'utf8',
    });
    if (!out.stdout) throw new Error(`eslint did not run: ${out.stderr}`);
    return JSON.parse(out.stdout);
  }

  async function problems(file: string, source: string): Promise<string[]> {
    const [result] = lint(['--stdin', '--stdin-filename', file], source);
    return result.messages
      .filter((m) => m.ruleId === 'import/no-restricted-paths')
      .map((m) => String(m.message));
  }

  it('src/common may not import a feature module', async () => {
    const found = await problems(
      'src/common/boundary-probe.ts',
      "import { RunsService } from '../runs';\nexport const x = RunsService;\n",
    );
    expect(found.join('\n')).toMatch(/feature-free utilities only/);
  });

  it('a producer may not import another producer', async () => {
    const found = await problems(
      'src/drift/boundary-probe.ts',
      "import { BackupSetsService } from '../backup-sets';\nexport const x = BackupSetsService;\n",
    );
    expect(found.join('\n')).toMatch(/never imports another producer/);
  });

  it('another module is imported through its public face only', async () => {
    expect(
      await problems(
        'src/drift/boundary-probe.ts',
        "import { RunsService } from '../runs/runs.service';\nexport const x = RunsService;\n",
      ),
    ).toEqual([expect.stringMatching(/public face \(src\/runs\/index.ts\)/)]);
    expect(
      await problems(
        'src/drift/boundary-probe.ts',
        "import { RunsService } from '../runs';\nexport const x = RunsService;\n",
      ),
    ).toEqual([]);
  });

  it('the hub imports no producer', async () => {
    const found = await problems(
      'src/runs/boundary-probe.ts',
      "import { DriftService } from '../drift';\nexport const x = DriftService;\n",
    );
    expect(found.join('\n')).toMatch(/knows no producer/);
  });

  it('the whole source tree keeps to them', async () => {
    const results = lint(['src/**/*.ts']);
    const broken = results.flatMap((r) =>
      r.messages
        .filter((m) => m.ruleId === 'import/no-restricted-paths')
        .map((m) => `${r.filePath.slice(root.length + 1)}:${m.line} ${m.message}`),
    );
    expect(broken).toEqual([]);
  });
});
