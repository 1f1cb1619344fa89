import { ONLY_CONTAINERS_ANNOTATION, SKIP_CONTAINERS_ANNOTATION } from './constants.ts';
import type { Container, Pod } from './types.ts';

/** A container the injection applies to, addressed by its place in the raw pod. */
export interface ContainerRef {
  field: 'containers' | 'initContainers';
  index: number;
  container: Container;
}

export interface ContainerSelection {
  targets: ContainerRef[];
  warnings: string[];
}

/** `a, b;c` -> [a, b, c]: commas as ACK documents, semicolons as Azure users type them. */
export function parseContainerList(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  return raw
    .split(/[,;]/)
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
}

/**
 * Regular containers and init containers (which include native sidecars, `restartPolicy:
 * Always`); ephemeral containers are left alone, as every peer does: they are added through a
 * subresource this webhook does not intercept, and a debug shell should not get the app's role.
 *
 * `only` narrows, then `skip` removes: a name in both lists is skipped.
 */
export function selectContainers(pod: Pod, only: string[], skip: string[]): ContainerSelection {
  const all: ContainerRef[] = [];
  for (const field of ['initContainers', 'containers'] as const) {
    const list = pod.spec?.[field];
    if (!Array.isArray(list)) continue;
    list.forEach((container, index) => all.push({ field, index, container }));
  }
  const known = new Set(all.map((ref) => ref.container.name));
  const warnings = [
    ...unknownNames(only, known, ONLY_CONTAINERS_ANNOTATION),
    ...unknownNames(skip, known, SKIP_CONTAINERS_ANNOTATION),
  ];
  const onlySet = new Set(only);
  const skipSet = new Set(skip);
  const targets = all.filter(
    (ref) =>
      (onlySet.size === 0 || onlySet.has(ref.container.name)) && !skipSet.has(ref.container.name),
  );
  return { targets, warnings };
}

function unknownNames(names: string[], known: Set<string>, annotation: string): string[] {
  const unknown = names.filter((name) => !known.has(name));
  if (unknown.length === 0) return [];
  return [`pod annotation ${annotation} names unknown container(s): ${unknown.join(', ')}`];
}
