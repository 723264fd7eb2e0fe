/**
 * What the graph-backed stores (memory, SQLite) share: running a command on the graph and
 * answering the read API from it.
 */
import type { PackageGraph } from '../graph/package-graph.js';
import type { Command, Reply } from '../protocol/types.js';
import type { ListOptions, PackageView } from './backend.js';

/** What these functions use of a graph: PackageGraph and NumberedGraph both provide it. */
export type GraphView = Pick<PackageGraph, 'index' | 'remove' | 'has' | 'dependenciesOf' | 'dependentsOf' | 'names'>;

export function applyCommand(graph: GraphView, command: Command): Reply {
  switch (command.kind) {
    case 'INDEX':
      return graph.index(command.name, command.deps) === 'ok' ? 'OK' : 'FAIL';
    case 'REMOVE':
      return graph.remove(command.name) === 'ok' ? 'OK' : 'FAIL';
    case 'QUERY':
      return graph.has(command.name) ? 'OK' : 'FAIL';
  }
}

export function describePackage(graph: GraphView, name: string): PackageView | undefined {
  const dependencies = graph.dependenciesOf(name);
  if (dependencies === undefined) return undefined;
  return {
    name,
    dependencies: [...dependencies].sort(compareNames),
    dependents: [...graph.dependentsOf(name)].sort(compareNames),
  };
}

/** O(packages): the read API is for operators, not the hot path. */
export function listNames(graph: GraphView, { prefix, after, limit }: ListOptions): string[] {
  const matches: string[] = [];
  for (const name of graph.names()) {
    if (name.startsWith(prefix) && name > after) matches.push(name);
  }
  return matches.sort(compareNames).slice(0, limit);
}

/** Names are ASCII, so UTF-16 order is byte order, as in SQL's C collation. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
