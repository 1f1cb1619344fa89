// Where a process's memory goes, from /proc and from its inspector (bench:memory's diagnosis).
import { createWriteStream, readFileSync } from 'node:fs';

const KiB = 1024;
const MiB = 1024 * KiB;

/** /proc/<pid>/smaps_rollup as MiB per field (Rss, Anonymous, LazyFree, Private_Dirty, ...). */
export function smapsRollup(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+) kB$/.exec(line);
    if (m) out[m[1]!] = Number(m[2]) / 1024;
  }
  return out;
}

interface Mapping {
  start: number;
  end: number;
  perms: string;
  path: string;
  rss: number;
  anonymous: number;
  lazyFree: number;
}

function mappings(pid: number): Mapping[] {
  const out: Mapping[] = [];
  let current: Mapping | undefined;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      current = {
        start: parseInt(header[1]!, 16),
        end: parseInt(header[2]!, 16),
        perms: header[3]!,
        path: header[4]!,
        rss: 0,
        anonymous: 0,
        lazyFree: 0,
      };
      out.push(current);
      continue;
    }
    const field = /^(Rss|Anonymous|LazyFree):\s+(\d+) kB$/.exec(line);
    if (field && current) {
      const bytes = Number(field[2]) * KiB;
      if (field[1] === 'Rss') current.rss = bytes;
      else if (field[1] === 'Anonymous') current.anonymous = bytes;
      else current.lazyFree = bytes;
    }
  }
  return out;
}

/**
 * Which allocator an anonymous mapping most likely belongs to. glibc's non-main arenas are
 * mmapped 64 MiB-aligned (HEAP_MAX_SIZE), its main arena is [heap]; V8 allocates heap pages
 * as 256 KiB-aligned chunks (the code range and large objects too); everything else (malloc's
 * own mmap for blocks ≥ 128 KiB, thread stacks, WebAssembly, libuv) is "other".
 */
function kind(m: Mapping, v8Aligned: (m: Mapping) => boolean): string {
  if (m.path === '[heap]') return 'glibc main arena [heap]';
  if (m.path === '[stack]') return 'main stack';
  if (m.path.startsWith('/') && m.anonymous === 0) return `file ${m.path.split('/').pop()}`;
  if (m.path.startsWith('/')) return 'file-mapped, written (relocations, .data/.bss)';
  if (m.start % (64 * MiB) === 0 && m.end - m.start <= 64 * MiB)
    return 'glibc arena (64 MiB-aligned)';
  if (v8Aligned(m)) return 'V8 heap pages (256 KiB-aligned)';
  return `other anonymous${m.path ? ` ${m.path}` : ''}`;
}

/** RSS by allocator (MiB, descending), and the largest anonymous mappings by RSS. */
export function smapsGroups(
  pid: number,
  top = 8,
): { groups: [string, { rss: number; lazyFree: number; count: number }][]; largest: string[] } {
  const all = mappings(pid);
  const v8Aligned = (m: Mapping) =>
    m.start % (256 * KiB) === 0 && (m.end - m.start) % (256 * KiB) === 0;
  const groups = new Map<string, { rss: number; lazyFree: number; count: number }>();
  for (const m of all) {
    if (m.rss === 0) continue;
    const k = kind(m, v8Aligned);
    const g = groups.get(k) ?? { rss: 0, lazyFree: 0, count: 0 };
    g.rss += m.rss / MiB;
    g.lazyFree += m.lazyFree / MiB;
    g.count += 1;
    groups.set(k, g);
  }
  const largest = all
    .filter((m) => m.anonymous > 0 && !m.path.startsWith('/'))
    .sort((a, b) => b.rss - a.rss)
    .slice(0, top)
    .map(
      (m) =>
        `${m.start.toString(16)} ${((m.end - m.start) / MiB).toFixed(1)} MiB mapped ${m.perms}` +
        ` rss ${(m.rss / MiB).toFixed(1)} [${kind(m, v8Aligned)}]`,
    );
  return { groups: [...groups].sort((a, b) => b[1].rss - a[1].rss), largest };
}

/** A Chrome DevTools Protocol session over Node's global WebSocket (Node ≥ 22). */
export class Inspector {
  readonly #ws: WebSocket;
  #next = 1;
  readonly #pending = new Map<number, (r: { result?: unknown; error?: unknown }) => void>();
  readonly #listeners = new Map<string, (params: unknown) => void>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.addEventListener('message', (event) => {
      const msg = JSON.parse(String(event.data)) as {
        id?: number;
        method?: string;
        params?: unknown;
        result?: unknown;
        error?: unknown;
      };
      if (msg.id !== undefined) this.#pending.get(msg.id)?.(msg);
      else if (msg.method) this.#listeners.get(msg.method)?.(msg.params);
    });
  }

  static async connect(port: number): Promise<Inspector> {
    const targets = (await (
      await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(5000) })
    ).json()) as { webSocketDebuggerUrl: string }[];
    const ws = new WebSocket(targets[0]!.webSocketDebuggerUrl);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error('inspector: connect failed')), {
        once: true,
      });
    });
    return new Inspector(ws);
  }

  on(method: string, listener: (params: unknown) => void): void {
    this.#listeners.set(method, listener);
  }

  /** One command; a snapshot of a few hundred MiB can take a minute on a loaded machine. */
  send(method: string, params: object = {}, timeoutMs = 300_000): Promise<unknown> {
    const id = this.#next++;
    this.#ws.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`inspector: ${method} timed out`)),
        timeoutMs,
      );
      this.#pending.set(id, (msg) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        if (msg.error) reject(new Error(`inspector: ${method}: ${JSON.stringify(msg.error)}`));
        else resolve(msg.result);
      });
    });
  }

  /** Evaluates `expression` in the target's main context and returns its JSON value. */
  async evaluate<T>(expression: string): Promise<T> {
    const r = (await this.send('Runtime.evaluate', { expression, returnByValue: true })) as {
      result: { value: T };
    };
    return r.result.value;
  }

  close(): void {
    this.#ws.close();
  }
}

/** V8 heap spaces (MiB used / committed) and process.memoryUsage() of the target, via CDP. */
export async function heapFigures(inspector: Inspector): Promise<{
  spaces: { name: string; used: number; committed: number }[];
  usage: Record<string, number>;
}> {
  const raw = await inspector.evaluate<{
    spaces: { space_name: string; space_used_size: number; physical_space_size: number }[];
    usage: Record<string, number>;
  }>(
    `({ spaces: process.getBuiltinModule('v8').getHeapSpaceStatistics(),` +
      ` usage: process.memoryUsage() })`,
  );
  return {
    spaces: raw.spaces.map((s) => ({
      name: s.space_name.replace(/_space$/, ''),
      used: s.space_used_size / MiB,
      committed: s.physical_space_size / MiB,
    })),
    usage: Object.fromEntries(Object.entries(raw.usage).map(([k, v]) => [k, v / MiB])),
  };
}

/**
 * Writes a heap snapshot of the target to `file` and returns its top constructors by self size
 * (MiB, count): what holds the live heap.
 */
export async function heapSnapshot(
  inspector: Inspector,
  file: string,
  top = 15,
): Promise<{ name: string; self: number; count: number }[]> {
  const out = createWriteStream(file);
  const chunks: string[] = [];
  inspector.on('HeapProfiler.addHeapSnapshotChunk', (params) => {
    const chunk = (params as { chunk: string }).chunk;
    chunks.push(chunk);
    out.write(chunk);
  });
  await inspector.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  await new Promise<void>((resolve) => out.end(resolve));
  const snapshot = JSON.parse(chunks.join('')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const totals = new Map<string, { self: number; count: number }>();
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    const type = types[snapshot.nodes[i + typeAt!]!]!;
    // Objects by constructor name; strings, code, arrays etc. by their type.
    const name =
      type === 'object' || type === 'native'
        ? snapshot.strings[snapshot.nodes[i + nameAt!]!]!
        : `(${type})`;
    const t = totals.get(name) ?? { self: 0, count: 0 };
    t.self += snapshot.nodes[i + sizeAt!]! / MiB;
    t.count += 1;
    totals.set(name, t);
  }
  return [...totals]
    .map(([name, t]) => ({ name, ...t }))
    .sort((a, b) => b.self - a.self)
    .slice(0, top);
}
