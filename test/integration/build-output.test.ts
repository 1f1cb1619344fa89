import { execFile } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = process.cwd();
const outDir = join(root, '.cache', 'build-test', 'dist');
const node = join(root, 'node_modules', '.bin', 'node');

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/**
 * The Dockerfile cannot be built here (no Docker engine), so this runs its build stage's commands
 * outside Docker and checks that the output the final stage copies is runnable on its own:
 * compiled ESM that needs only production dependencies.
 */
describe('Dockerfile build stage output', () => {
  beforeAll(async () => {
    await rm(outDir, { recursive: true, force: true });
    await run(
      node,
      [
        join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        'tsconfig.build.json',
        '--outDir',
        outDir,
      ],
      {
        cwd: root,
      },
    );
  }, 120_000);

  it('emits JavaScript without tests, importing only production dependencies', async () => {
    const emitted = (await files(outDir)).filter((f) => f.endsWith('.js'));
    expect(emitted.some((f) => f.endsWith(join('dist', 'main.js')))).toBe(true);
    expect(emitted.filter((f) => f.includes('.test.'))).toEqual([]);
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const imported = new Set<string>();
    for (const file of emitted) {
      const source = await readFile(file, 'utf8');
      for (const match of source.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"./][^'"]*)['"]/g)) {
        const spec = match[1]!;
        if (spec.startsWith('node:')) continue;
        imported.add(
          spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!,
        );
      }
    }
    const notProduction = [...imported].filter((name) => !(name in pkg.dependencies));
    expect(notProduction).toEqual([]);
  });

  it('runs: the entrypoint prints its usage and rejects an unknown command', async () => {
    const help = await run(node, [join(outDir, 'main.js'), 'help']);
    expect(help.stdout).toContain('usage: rrsa-operator <command>');
    await expect(run(node, [join(outDir, 'main.js'), 'no-such-command'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown command: no-such-command'),
    });
  });

  it('is the stage the Dockerfile describes: directive first, locked install, non-root final stage', async () => {
    const dockerfile = await readFile(join(root, 'Dockerfile'), 'utf8');
    // BuildKit reads parser directives only before any comment or instruction.
    expect(dockerfile.split('\n')[0]).toBe('# syntax=docker/dockerfile:1');
    expect(dockerfile).toMatch(/^RUN npm ci .*--ignore-scripts/m);
    expect(dockerfile).toContain('npx tsc -p tsconfig.build.json');
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(finalStage).toMatch(/^USER \d+:\d+$/m);
    expect(finalStage).toContain('ENTRYPOINT ["node", "dist/main.js"]');
  });
});
