/**
 * What the graph-backed stores (memory, SQLite) share: running a command on the graph and
 * answering the read API from it.
 */
import type { PackageGraph } from '../graph/package-graph.js';
import type { Command, Reply } from '../protocol/types.js';
import type { ListOptions, PackageView } from './backend.js';

export function applyCommand(graph: PackageGraph, command: Command): Reply {
  switch (command.kind) {
    case 'INDEX':
      return graph.index(command.name, command.deps) === 'ok' ? 'OK' : 'FAIL';
    case 'REMOVE':
      return graph.remove(command.name) === 'ok' ? 'OK' : 'FAIL';
    case 'QUERY':
      return graph.has(command.name) ? 'OK' : 'FAIL';
  }
}

export function describePackage(graph: PackageGraph, name: string): PackageView | undefined {
  const dependencies = graph.dependenciesOf(name);
  if (dependencies === undefined) return undefined;
  return {
    name,
    dependencies: [...dependencies].sort(compareNames),
    dependents: [...graph.dependentsOf(name)].sort(compareNames),
  };
}

/**
 * O(packages · log limit): the graph keeps no order, so every name is looked at, but only the
 * `limit` smallest matches are kept (in a max-heap) and sorted, not every match.
 */
export function listNames(graph: PackageGraph, { prefix, after, limit }: ListOptions): string[] {
  if (limit < 1) return [];
  const heap: string[] = [];
  for (const name of graph.names()) {
    if (name <= after || !name.startsWith(prefix)) continue;
    if (heap.length < limit) pushName(heap, name);
    else if (name < (heap[0] as string)) replaceLargest(heap, name);
  }
  return heap.sort(compareNames);
}

/** Names are ASCII, so UTF-16 order is byte order, as in SQL's C collation. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Adds `name` to a max-heap of names (the largest at 0). */
function pushName(heap: string[], name: string): void {
  let at = heap.length;
  heap.push(name);
  while (at > 0) {
    const parent = (at - 1) >> 1;
    const above = heap[parent] as string;
    if (above >= name) break;
    heap[at] = above;
    at = parent;
  }
  heap[at] = name;
}

/** Puts `name` in place of the heap's largest name and sifts it down. */
function replaceLargest(heap: string[], name: string): void {
  let at = 0;
  for (;;) {
    let child = 2 * at + 1;
    if (child >= heap.length) break;
    const right = child + 1;
    if (right < heap.length && (heap[right] as string) > (heap[child] as string)) child = right;
    const below = heap[child] as string;
    if (below <= name) break;
    heap[at] = below;
    at = child;
  }
  heap[at] = name;
}
