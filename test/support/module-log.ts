// Loaded with `node --import` into a process under test: writes every module URL the process
// resolved (ESM and CommonJS, through module.registerHooks) to $RRSA_MODULE_LOG, on exit and
// every second, so a test can assert what a command loads (ADR 0016).
import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';

const seen = new Set<string>();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context);
    seen.add(resolved.url);
    return resolved;
  },
});
const path = process.env.RRSA_MODULE_LOG;
const dump = (): void => {
  if (path) writeFileSync(path, [...seen].join('\n') + '\n');
};
process.on('exit', dump);
setInterval(dump, 1000).unref();
