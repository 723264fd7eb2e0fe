/**
 * A naive model of the index for property tests: random histories of INDEX and REMOVE that grow
 * deep graphs and then churn (re-indexing can close cycles), the index they leave by the
 * protocol's rules as plain maps, and breadth-first distances over it.
 */
import fc from 'fast-check';
import type { Direction } from '../../src/graph/graph-questions.js';
import { PackageGraph } from '../../src/graph/package-graph.js';

export const NAMES = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];

export type Step = { kind: 'INDEX'; name: string; deps: string[] } | { kind: 'REMOVE'; name: string };

export const name = fc.constantFrom(...NAMES);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('INDEX' as const), name, deps: fc.uniqueArray(name, { maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('REMOVE' as const), name }) },
);

/** The same history on the real graph, tracking dependents. */
export function graphOf(steps: readonly Step[]): PackageGraph {
  const graph = new PackageGraph({ trackDependents: true });
  for (const s of steps) {
    if (s.kind === 'INDEX')
      graph.index(
        s.name,
        s.deps.filter((dep) => dep !== s.name),
      );
    else graph.remove(s.name);
  }
  return graph;
}

/** Each step as a protocol line. */
export function linesOf(steps: readonly Step[]): string[] {
  return steps.map((s) => (s.kind === 'INDEX' ? `INDEX|${s.name}|${s.deps.filter((dep) => dep !== s.name).join(',')}` : `REMOVE|${s.name}|`));
}

/** The index as a map of dependency lists, kept by the protocol's rules. */
export function oracleOf(steps: readonly Step[]): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const s of steps) {
    if (s.kind === 'INDEX') {
      const deps = s.deps.filter((dep) => dep !== s.name);
      if (deps.every((dep) => index.has(dep))) index.set(s.name, deps);
    } else if (![...index.values()].some((deps) => deps.includes(s.name))) {
      index.delete(s.name);
    }
  }
  return index;
}

export function neighboursIn(index: Map<string, string[]>, direction: Direction, of: string): string[] {
  if (direction === 'dependencies') return index.get(of) ?? [];
  return [...index].filter(([, deps]) => deps.includes(of)).map(([dependent]) => dependent);
}

/** Shortest distances from `start`, itself left out. */
export function distances(index: Map<string, string[]>, direction: Direction, start: string): Map<string, number> {
  const found = new Map<string, number>([[start, 0]]);
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const at = queue[head] as string;
    for (const next of neighboursIn(index, direction, at)) {
      if (found.has(next)) continue;
      found.set(next, (found.get(at) as number) + 1);
      queue.push(next);
    }
  }
  found.delete(start);
  return found;
}

/**
 * Every name indexed once in order with dependencies among the earlier ones (so most INDEX lines
 * succeed and the graph gets deep), then a random tail that re-indexes (closing cycles) and removes.
 */
const growth: fc.Arbitrary<Step[]> = fc
  .tuple(...NAMES.map((_, k) => fc.subarray(NAMES.slice(0, k), { maxLength: Math.min(3, k) })))
  .map((lists) => lists.map((deps, k) => ({ kind: 'INDEX' as const, name: NAMES[k] as string, deps })));
export const history = fc.tuple(growth, fc.array(step, { maxLength: 20 })).map(([first, tail]) => [...first, ...tail]);
