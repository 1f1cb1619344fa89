import { execFile } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { imageEnv, imageNodeFlags } from '../../hack/bench/image-flags.ts';

const run = promisify(execFile);
const root = process.cwd();
const outDir = join(root, '.cache', 'build-test', 'dist');
const node = join(root, 'node_modules', '.bin', 'node');

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Every module specifier in bundled ESM: static imports/exports and dynamic import(). */
function specifiers(source: string): { spec: string; literal: boolean }[] {
  const found: { spec: string; literal: boolean }[] = [];
  for (const m of source.matchAll(/(?:import|export)\b[^'"()]*?\bfrom\s*['"]([^'"]+)['"]/g)) {
    found.push({ spec: m[1]!, literal: true });
  }
  for (const m of source.matchAll(/\bimport\s*['"]([^'"]+)['"]/g)) {
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
const TOOLING = /^(packages|devenv|hack|test)\/|emulator|sandbox/;

interface Metafile {
  inputs: Record<string, unknown>;
  outputs: Record<
    string,
    {
      entryPoint?: string;
      imports: { path: string; kind: string }[];
      inputs?: Record<string, unknown>;
    }
  >;
}

/** The package an input path under node_modules/ belongs to (scoped names whole). */
function packageOf(input: string): string | undefined {
  const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return m?.[1];
}

/**
 * The Dockerfile cannot be built here by Docker, so this runs its build stage's command
 * (hack/build.ts, the product bundle) outside Docker and checks that what the final stage copies
 * (dist/ alone: no node_modules) is product code that runs on its own.
 */
describe('Dockerfile build stage output', () => {
  let metafile: Metafile;
  beforeAll(async () => {
    await rm(outDir, { recursive: true, force: true });
    const metafilePath = join(outDir, '..', 'meta.json');
    await run(
      node,
      [join(root, 'hack', 'build.ts'), '--outdir', outDir, '--metafile', metafilePath],
      {
        cwd: root,
      },
    );
    metafile = JSON.parse(await readFile(metafilePath, 'utf8')) as Metafile;
  }, 120_000);

  it("type-checks src/ with the image's own tsconfig, as its build stage does", async () => {
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    await expect(
      run(node, [tsc, '-p', 'tsconfig.build.json', '--noEmit'], { cwd: root }),
    ).resolves.toBeDefined();
  }, 120_000);

  it('bundles only product code and production dependencies: no tests, tooling or dev packages', async () => {
    const inputs = Object.keys(metafile.inputs);
    expect(inputs).toContain('src/main.ts');
    expect(inputs.filter((f) => f.includes('.test.'))).toEqual([]);
    expect(inputs.filter((f) => TOOLING.test(f))).toEqual([]);
    // Dev-only packages are marked so in the lockfile; none may be in the bundle.
    const lock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = new Set(
      Object.entries(lock.packages)
        .filter(([path, entry]) => entry.dev === true && path.startsWith('node_modules/'))
        .map(([path]) => packageOf(path)!),
    );
    const bundled = new Set(inputs.map(packageOf).filter((p): p is string => p !== undefined));
    expect([...bundled].filter((p) => devOnly.has(p))).toEqual([]);
    // The product's own dependencies are in it (the bundle is not missing them).
    expect([...bundled]).toEqual(
      expect.arrayContaining(['@alicloud/ram20150501', '@alicloud/credentials', 'winston']),
    );
  });

  it('needs nothing at run time but Node built-ins and its own chunks', async () => {
    const problems: string[] = [];
    const seen = new Set<string>();
    const queue = [join(outDir, 'main.js')];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const from = relative(outDir, file);
      for (const { spec, literal } of specifiers(await readFile(file, 'utf8'))) {
        if (!literal) problems.push(`${from}: dynamic import of a computed specifier: ${spec}`);
        else if (spec.startsWith('.') || spec.startsWith('/')) {
          const target = resolve(dirname(file), spec);
          if (!target.startsWith(outDir + sep)) problems.push(`${from}: ${spec} leaves dist/`);
          else queue.push(target);
        } else if (!spec.startsWith('node:') && !builtinModules.includes(spec))
          problems.push(`${from}: imports ${spec}`);
      }
    }
    expect(problems).toEqual([]);
    // The subcommands are chunks of their own, loaded on demand (ADR 0016).
    const entries = Object.values(metafile.outputs)
      .map((o) => o.entryPoint)
      .filter(Boolean);
    expect(entries).toEqual(
      expect.arrayContaining(['src/main.ts', 'src/manager/command.ts', 'src/doctor/command.ts']),
    );
    const emitted = (await files(outDir)).map((f) => relative(outDir, f));
    expect(emitted).toContain('package.json');
    expect(emitted.filter((f) => TOOLING.test(f))).toEqual([]);
  });

  /** The inputs of an entry's chunk and of every chunk it imports statically (loaded at once). */
  function startupInputs(entryPoint: string): string[] {
    const outputs = Object.entries(metafile.outputs).filter(([f]) => !f.endsWith('.map'));
    const byPath = new Map(outputs.map(([f, o]) => [resolve(root, f), o]));
    const loaded = new Set<string>();
    const pending = outputs
      .filter(([, o]) => o.entryPoint === entryPoint)
      .map(([f]) => resolve(root, f));
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (loaded.has(file)) continue;
      loaded.add(file);
      for (const i of byPath.get(file)?.imports ?? [])
        if (i.kind === 'import-statement' && byPath.has(resolve(root, i.path)))
          pending.push(resolve(root, i.path));
    }
    return [...loaded].flatMap((f) => Object.keys(byPath.get(f)!.inputs ?? {}));
  }

  it('loads neither the doctor nor client-node when the manager starts (dynamic imports only)', () => {
    const manager = startupInputs('src/manager/command.ts');
    expect(manager).toContain('src/manager/manager.ts');
    const unwanted = (i: string): boolean =>
      i.startsWith('src/doctor/') || packageOf(i) === '@kubernetes/client-node';
    expect(manager.filter(unwanted)).toEqual([]);
    // The walk does see client-node where it is loaded at start-up: the doctor's chunks.
    expect(startupInputs('src/doctor/command.ts').some(unwanted)).toBe(true);
  });

  it('runs: the entrypoint prints its usage and rejects an unknown command', async () => {
    const help = await run(node, [join(outDir, 'main.js'), 'help']);
    // With the ENTRYPOINT's node flags and ENV too: a flag this Node does not know (V8's
    // --memory-saver-mode, say, after an upgrade) stops the process before main.js runs.
    const asImage = await run(node, [...imageNodeFlags(), join(outDir, 'main.js'), 'help'], {
      env: { ...process.env, ...imageEnv() },
    });
    expect(asImage.stdout).toBe(help.stdout);
    expect(asImage.stderr).toBe('');
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
    expect(dockerfile).toMatch(/^RUN npx tsc -p tsconfig\.build\.json --noEmit$/m);
    expect(dockerfile).toMatch(/^RUN node hack\/build\.ts$/m);
    // Only what the product build needs is copied into the image's build context.
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) =>
      m[1]!.split(/\s+/),
    );
    expect(copied.sort()).toEqual(
      [
        '.npmrc',
        'crds',
        'hack/build.ts',
        'package-lock.json',
        'package.json',
        'src',
        'tsconfig.build.json',
        'tsconfig.json',
      ].sort(),
    );
    // ...and none of it is left out of the context by .dockerignore (the last matching line wins).
    const ignore = (await readFile(join(root, '.dockerignore'), 'utf8'))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const matches = (pattern: string, path: string): boolean =>
      pattern.startsWith('*.')
        ? path.endsWith(pattern.slice(1))
        : path === pattern || path.startsWith(`${pattern}/`);
    const ignored = (path: string): boolean =>
      ignore.reduce(
        (out, line) =>
          line.startsWith('!')
            ? matches(line.slice(1), path)
              ? false
              : out
            : matches(line, path) || out,
        false,
      );
    expect(copied.filter(ignored)).toEqual([]);
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(finalStage).toMatch(/^USER \d+:\d+$/m);
    // The bundle is all the final stage needs: no node_modules (ADR 0021).
    expect(finalStage).not.toMatch(/^COPY .*node_modules/m);
    expect(finalStage).toMatch(/^COPY --from=build \/src\/dist \.\/dist$/m);
    // node flags, then the compiled entry point; the heap scavenger needs --expose-gc (ADR 0019).
    expect(finalStage).toMatch(
      /^ENTRYPOINT \["node", ("--[a-z-]+(=[A-Z0-9]+)?", )*"dist\/main\.js"\]$/m,
    );
    expect(finalStage).toMatch(/^ENTRYPOINT .*"--expose-gc"/m);
  });
});
