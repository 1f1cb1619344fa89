import { execFile } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = process.cwd();
const outDir = join(root, '.cache', 'build-test', 'dist');
const node = join(root, 'node_modules', '.bin', 'node');

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Every module specifier in compiled ESM: static imports/exports and dynamic import(). */
function specifiers(source: string): { spec: string; literal: boolean }[] {
  const found: { spec: string; literal: boolean }[] = [];
  for (const m of source.matchAll(
    /(?:^|[\s;})])(?:import|export)\b[^'"()]*?\bfrom\s*['"]([^'"]+)['"]/g,
  )) {
    found.push({ spec: m[1]!, literal: true });
  }
  for (const m of source.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) {
    found.push({ spec: m[1]!, literal: true });
  }
  for (const m of source.matchAll(/\bimport\s*\(\s*([^)]*)\)/g)) {
    const arg = m[1]!.trim();
    const literal = /^(['"`])([^'"`$]+)\1$/.exec(arg);
    found.push(literal ? { spec: literal[2]!, literal: true } : { spec: arg, literal: false });
  }
  return found;
}

/** Development tooling that must never reach the image (docs/adr/0007-product-and-tooling-layout.md). */
const TOOLING = /emulator|devenv|sandbox/;

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

  it('holds product code only: nothing compiled from the emulator, devenv or the sandbox', async () => {
    const emitted = (await files(outDir)).map((f) => relative(outDir, f));
    expect(emitted.filter((f) => TOOLING.test(f))).toEqual([]);
  });

  it("dist/main.js's transitive static and dynamic imports stay inside dist/ and production dependencies", async () => {
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const problems: string[] = [];
    const seen = new Set<string>();
    const queue = [join(outDir, 'main.js')];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const from = relative(outDir, file);
      for (const { spec, literal } of specifiers(await readFile(file, 'utf8'))) {
        if (!literal) {
          problems.push(`${from}: dynamic import of a computed specifier: ${spec}`);
        } else if (spec.startsWith('.') || spec.startsWith('/')) {
          const target = resolve(dirname(file), spec);
          if (!target.startsWith(outDir + sep)) problems.push(`${from}: ${spec} leaves dist/`);
          else if (TOOLING.test(relative(outDir, target))) problems.push(`${from}: ${spec}`);
          else queue.push(target);
        } else if (!spec.startsWith('node:')) {
          const name = spec.startsWith('@')
            ? spec.split('/').slice(0, 2).join('/')
            : spec.split('/')[0]!;
          if (!(name in pkg.dependencies)) problems.push(`${from}: ${spec} is not a dependency`);
        }
      }
    }
    expect(problems).toEqual([]);
    // The walk saw the product: the manager, the doctor and the webhook certificates.
    const reached = [...seen].map((f) => relative(outDir, f));
    expect(reached).toEqual(
      expect.arrayContaining([
        'main.js',
        join('manager', 'command.js'),
        join('doctor', 'command.js'),
        join('webhook', 'certs', 'pki.js'),
      ]),
    );
  });

  it('runs: the entrypoint prints its usage and rejects an unknown command', async () => {
    const help = await run(node, [join(outDir, 'main.js'), 'help']);
    expect(help.stdout).toContain('usage: rrsa-operator <command>');
    const dashHelp = await run(node, [join(outDir, 'main.js'), '--help']);
    expect(dashHelp.stdout).toBe(help.stdout);
    expect(dashHelp.stdout).toMatch(/^\s+manager\b/m);
    expect(dashHelp.stdout).toMatch(/^\s+doctor\b/m);
    expect(dashHelp.stdout).not.toMatch(/sandbox|emulator/);
    await expect(run(node, [join(outDir, 'main.js'), 'sandbox', '--once'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown command: sandbox'),
    });
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
    // Only what the product build needs is copied into the image's build context.
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) =>
      m[1]!.split(/\s+/),
    );
    expect(copied.sort()).toEqual(
      [
        '.npmrc',
        'crds',
        'package-lock.json',
        'package.json',
        'src',
        'tsconfig.build.json',
        'tsconfig.json',
      ].sort(),
    );
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(finalStage).toMatch(/^USER \d+:\d+$/m);
    // node flags, then the compiled entry point; the heap scavenger needs --expose-gc (ADR 0019).
    expect(finalStage).toMatch(/^ENTRYPOINT \["node", ("--[a-z-]+(=\d+)?", )*"dist\/main\.js"\]$/m);
    expect(finalStage).toMatch(/^ENTRYPOINT .*"--expose-gc"/m);
  });
});
