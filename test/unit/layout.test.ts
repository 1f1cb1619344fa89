import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

// docs/adr/0007-product-and-tooling-layout.md: product code (src/) never imports development
// tooling (devenv/, packages/). The image test (test/integration/build-output.test.ts) checks the
// compiled output; this checks the source, in milliseconds.

const ROOT = resolve(__dirname, '../..');
const SRC = join(ROOT, 'src');
const TEST_SUPPORT = join(ROOT, 'test', 'support');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** Static specifiers, and dynamic import()/require() arguments (`literal: false` when computed). */
function specifiers(source: string): { spec: string; literal: boolean }[] {
  const found: { spec: string; literal: boolean }[] = [];
  for (const m of source.matchAll(/\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm)) {
    found.push({ spec: (m[1] ?? m[2])!, literal: true });
  }
  for (const m of source.matchAll(/\b(?:import|require)\s*\(\s*([^)]*)\)/g)) {
    const literal = /^(['"`])([^'"`$]+)\1$/.exec(m[1]!.trim());
    found.push(literal ? { spec: literal[2]!, literal: true } : { spec: m[1]!, literal: false });
  }
  return found;
}

describe('product and tooling layout', () => {
  it('src/ imports nothing from devenv/, packages/ or the emulator package', () => {
    const problems: string[] = [];
    for (const file of sources(SRC)) {
      const from = relative(ROOT, file);
      for (const { spec, literal } of specifiers(readFileSync(file, 'utf8'))) {
        if (!literal) {
          problems.push(`${from}: computed module specifier ${spec}`);
          continue;
        }
        if (spec.startsWith('.')) {
          const target = resolve(dirname(file), spec);
          // Colocated unit tests (never built into dist/) may use the in-memory port fakes.
          const testSupport = file.endsWith('.test.ts') && target.startsWith(TEST_SUPPORT + sep);
          if (!target.startsWith(SRC + sep) && !testSupport)
            problems.push(`${from}: ${spec} leaves src/`);
        } else if (spec.startsWith('@rrsa-operator/')) {
          problems.push(`${from}: ${spec}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('src/ holds no tooling files', () => {
    const tooling = sources(SRC)
      .map((f) => relative(SRC, f))
      .filter((f) => /emulator|devenv|sandbox/.test(f));
    expect(tooling).toEqual([]);
  });
});
