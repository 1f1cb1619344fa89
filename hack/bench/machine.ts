import { cpus, loadavg } from 'node:os';

/**
 * The machine the figures come from: a loaded 2-core box gives other figures than an idle one.
 * Its own module (no imports) so the webhook bench's server child loads nothing else.
 */
export function machineLine(): string {
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return `machine: ${process.arch}, ${cpus().length} cores, load average ${load}`;
}
