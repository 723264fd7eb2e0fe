/**
 * What the graph-backed stores (memory, SQLite) share: running a command on the graph, and
 * telling what it changed, for undoing a failed commit and for the change feed.
 */
import type { PackageGraph } from '../graph/package-graph.js';
import type { Command, Reply } from '../protocol/types.js';
import type { Change } from './change-log.js';

/** What an id held before a change: a package, or nothing (name null). */
export interface PreviousState {
  readonly id: number;
  readonly name: string | null;
  readonly dependencyIds: readonly number[] | undefined;
}

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

/**
 * Runs an INDEX or REMOVE and returns what its package held before, when the command changed it:
 * a re-index with the same list, a refusal and removing what is not indexed change nothing.
 */
export function applyWrite(graph: PackageGraph, command: Command): { reply: Reply; previous: PreviousState | undefined } {
  const before = graph.idOf(command.name);
  const dependencyIds = before === undefined ? undefined : graph.dependencyIdsAt(before);
  const reply = applyCommand(graph, command);
  const id = before ?? graph.idOf(command.name);
  if (reply !== 'OK' || id === undefined || sameIds(dependencyIds, graph.dependencyIdsAt(id))) return { reply, previous: undefined };
  return { reply, previous: { id, name: dependencyIds === undefined ? null : command.name, dependencyIds } };
}

/** The change feed's record of a write that changed the index. */
export function changeOf(command: Command): Change {
  return { command: command.kind === 'INDEX' ? 'INDEX' : 'REMOVE', name: command.name, dependencies: command.kind === 'INDEX' ? command.deps : [] };
}

function sameIds(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
