import { statusSchema } from './schema.ts';

interface Node {
  description?: string;
  properties?: Record<string, Node>;
  items?: Node;
}

/** Every field path under `node` that `kubectl explain` would show without a description. */
function undescribed(node: Node, path: string): string[] {
  const own = node.description ? [] : [path];
  const children = Object.entries(node.properties ?? {}).flatMap(([name, child]) =>
    undescribed(child, `${path}.${name}`),
  );
  const items = node.items?.properties
    ? Object.entries(node.items.properties).flatMap(([name, child]) =>
        undescribed(child, `${path}[].${name}`),
      )
    : [];
  return [...own, ...children, ...items];
}

test('kubectl explain pib.status describes every status field', () => {
  expect(undescribed(statusSchema as Node, 'status')).toEqual([]);
});
