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

export interface WriteOutcome {
  readonly reply: Reply;
  /** What the package held before, when the write changed it. */
  readonly previous: PreviousState | undefined;
}

const UNCHANGED_OK: WriteOutcome = Object.freeze({ reply: 'OK', previous: undefined });
const UNCHANGED_FAIL: WriteOutcome = Object.freeze({ reply: 'FAIL', previous: undefined });

/**
 * Runs an INDEX or REMOVE and returns what its package held before, when the command changed it:
 * a re-index with the same list, a refusal and removing what is not indexed change nothing, and
 * cost no copy of the list (only a change needs its previous state, to be undone).
 */
export function applyWrite(graph: PackageGraph, command: Command): WriteOutcome {
  const before = graph.idOf(command.name);
  if (command.kind === 'INDEX') {
    if (before !== undefined && graph.listsExactly(before, command.deps)) return UNCHANGED_OK;
    const dependencyIds = before === undefined ? undefined : graph.dependencyIdsAt(before);
    if (graph.index(command.name, command.deps) === 'fail') return UNCHANGED_FAIL;
    const id = before ?? (graph.idOf(command.name) as number);
    return { reply: 'OK', previous: { id, name: before === undefined ? null : command.name, dependencyIds } };
  }
  if (command.kind === 'QUERY') return applyCommand(graph, command) === 'OK' ? UNCHANGED_OK : UNCHANGED_FAIL;
  if (before === undefined) return UNCHANGED_OK;
  const dependencyIds = graph.dependencyIdsAt(before);
  if (graph.remove(command.name) === 'fail') return UNCHANGED_FAIL;
  return { reply: 'OK', previous: { id: before, name: command.name, dependencyIds } };
}

/** The change feed's record of a write that changed the index. */
export function changeOf(command: Command): Change {
  return { command: command.kind === 'INDEX' ? 'INDEX' : 'REMOVE', name: command.name, dependencies: command.kind === 'INDEX' ? command.deps : [] };
}
