// The product build: src/main.ts and everything it imports, production dependencies included,
// bundled by esbuild into dist/ (docs/adr/0021-bundled-product.md). The Dockerfile runs it, and
// so do the benchmarks and build-output.test.ts, so all of them measure what the image runs.
//
//   node hack/build.ts [--outdir DIR] [--metafile FILE]
//
// One ESM entry (dist/main.js) with a chunk per subcommand (`manager`, `doctor`), loaded on
// demand as main.ts's dynamic imports are.
import { build } from 'esbuild';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at < 0 ? undefined : process.argv[at + 1];
}

const outdir = flag('--outdir') ?? join(root, 'dist');
const metafilePath = flag('--metafile');

await rm(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: ['src/main.ts'],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  // Production code only: nothing from devDependencies or the repository's tooling may be pulled
  // in (build-output.test.ts checks the metafile's inputs too).
  tsconfig: 'tsconfig.build.json',
  // Fully minified: the loaded source text is held in memory for the life of the process (lazy
  // compilation), and identifiers are a third of it. Stack traces read through the source maps
  // beside the chunks: NODE_OPTIONS=--enable-source-maps.
  minify: true,
  sourcemap: 'linked',
  legalComments: 'none',
  // The bundled CommonJS dependencies (the Alibaba SDKs, winston, ...) call require() for Node's
  // built-ins; an ESM bundle has none of its own.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  // debug's optional colour support (a try/catch require): only devDependencies install it, so
  // bundling it would make the bundle depend on what happens to be installed.
  external: ['supports-color'],
  metafile: true,
  logLevel: 'warning',
});
// dist/ is ESM whatever package.json sits above it.
await writeFile(join(outdir, 'package.json'), '{ "type": "module" }\n');
if (metafilePath) await writeFile(metafilePath, JSON.stringify(result.metafile));
if (result.warnings.length > 0) process.exitCode = 1;
