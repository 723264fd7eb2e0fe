/**
 * NumberedGraph: the same answers as PackageGraph for any command sequence, ids that a store can
 * rely on (reused, stable), and `put` that can rebuild a graph from rows or undo changes exactly.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { NumberedGraph } from '../../src/graph/numbered-graph.js';
import { PackageGraph } from '../../src/graph/package-graph.js';

const NAMES = ['a', 'b', 'c', 'd', 'e', 'f'];

type Step = { kind: 'INDEX'; name: string; deps: string[] } | { kind: 'REMOVE'; name: string } | { kind: 'QUERY'; name: string };

const nameArbitrary = fc.constantFrom(...NAMES);
const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('INDEX' as const), name: nameArbitrary, deps: fc.uniqueArray(nameArbitrary, { maxLength: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('REMOVE' as const), name: nameArbitrary }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('QUERY' as const), name: nameArbitrary }) },
);

function apply(graph: NumberedGraph | PackageGraph, step: Step): string {
  if (step.kind === 'QUERY') return graph.has(step.name) ? 'ok' : 'fail';
  if (step.kind === 'REMOVE') return graph.remove(step.name);
  // the parser never lets a package depend on itself
  return graph.index(step.name, step.deps.filter((dep) => dep !== step.name));
}

/** Everything a reader can see of a graph, in a comparable form. */
function snapshot(graph: NumberedGraph | PackageGraph): unknown {
  const packages = [...graph.names()].sort().map((name) => ({
    name,
    dependencies: [...(graph.dependenciesOf(name) ?? [])].sort(),
    dependents: [...graph.dependentsOf(name)].sort(),
  }));
  return { size: graph.size, edges: graph.edgeCount, packages };
}

/** Every id's state: what a store keyed by id would hold. */
function rows(graph: NumberedGraph): Array<[number, string, number[]]> {
  const result: Array<[number, string, number[]]> = [];
  for (const name of graph.names()) {
    const id = graph.idOf(name) as number;
    result.push([id, name, [...(graph.dependencyIdsAt(id) ?? [])]]);
  }
  return result.sort((x, y) => x[0] - y[0]);
}

describe('NumberedGraph', () => {
  test('agrees with PackageGraph on every reply and every read for random command sequences', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { maxLength: 80 }), (steps) => {
        const numbered = new NumberedGraph();
        const reference = new PackageGraph();
        for (const step of steps) assert.equal(apply(numbered, step), apply(reference, step));
        assert.deepEqual(snapshot(numbered), snapshot(reference));
      }),
      { numRuns: 300 },
    );
  });

  test('agrees with PackageGraph through heavy churn, while its dependency pool grows and compacts', () => {
    const names = Array.from({ length: 60 }, (_, i) => `p${i}`);
    const churnName = fc.constantFrom(...names);
    const churnStep: fc.Arbitrary<Step> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('INDEX' as const), name: churnName, deps: fc.uniqueArray(churnName, { maxLength: 12 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('REMOVE' as const), name: churnName }) },
    );
    fc.assert(
      fc.property(fc.array(churnStep, { minLength: 3000, maxLength: 4000 }), (steps) => {
        const numbered = new NumberedGraph();
        const reference = new PackageGraph();
        for (const step of steps) assert.equal(apply(numbered, step), apply(reference, step));
        assert.deepEqual(snapshot(numbered), snapshot(reference));
      }),
      { numRuns: 5 },
    );
  });

  test('reuses the id of a removed package and keeps the ids of the others', () => {
    const graph = new NumberedGraph();
    graph.index('a', []);
    graph.index('b', ['a']);
    graph.index('c', []);
    const [a, b, c] = ['a', 'b', 'c'].map((name) => graph.idOf(name));
    assert.equal(graph.remove('b'), 'ok');
    graph.index('d', ['c']);
    assert.equal(graph.idOf('d'), b);
    assert.deepEqual([graph.idOf('a'), graph.idOf('c')], [a, c]);
    assert.deepEqual(graph.dependencyIdsAt(b as number), [c]);
  });

  test('rebuilt from its rows with put, in any id order, it answers as before', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { maxLength: 80 }), fc.boolean(), (steps, reversed) => {
        const original = new NumberedGraph();
        for (const step of steps) apply(original, step);
        const copy = new NumberedGraph();
        const stored = rows(original);
        for (const [id, name, deps] of reversed ? stored.reverse() : stored) copy.put(id, name, deps);
        assert.deepEqual([...copy.missingDependencies()], []);
        assert.deepEqual(snapshot(copy), snapshot(original));
        assert.deepEqual(rows(copy), rows(original));
        const more = steps.map((step) => apply(copy, step));
        assert.deepEqual(more, steps.map((step) => apply(original, step)));
        assert.deepEqual(snapshot(copy), snapshot(original));
      }),
      { numRuns: 200 },
    );
  });

  test('putting back the previous states in reverse order undoes any changes exactly, ids included', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { maxLength: 40 }), fc.array(stepArbitrary, { maxLength: 40 }), (before, changes) => {
        const graph = new NumberedGraph();
        for (const step of before) apply(graph, step);
        const expected = rows(graph);
        const undo: Array<[number, string | null, readonly number[] | undefined]> = [];
        for (const step of changes) {
          const id = graph.idOf(step.name);
          const previous: [string | null, readonly number[] | undefined] = id === undefined ? [null, undefined] : [step.name, graph.dependencyIdsAt(id)];
          apply(graph, step);
          const changedId = id ?? graph.idOf(step.name);
          if (changedId !== undefined) undo.push([changedId, ...previous]);
        }
        for (const [id, name, deps] of undo.reverse()) graph.put(id, name, deps);
        assert.deepEqual(rows(graph), expected);
        const reference = new PackageGraph();
        for (const step of before) apply(reference, step);
        assert.deepEqual(snapshot(graph), snapshot(reference));
      }),
      { numRuns: 300 },
    );
  });

  test('reports a dependency id that holds no package', () => {
    const graph = new NumberedGraph();
    graph.put(1, 'a', []);
    graph.put(3, 'c', [1, 2]);
    assert.deepEqual([...graph.missingDependencies()], [{ name: 'c', dependencyId: 2 }]);
  });

  test('gives the ids skipped by put to the next new packages', () => {
    const graph = new NumberedGraph();
    graph.put(1, 'a', []);
    graph.put(4, 'd', [1]);
    graph.index('x', []);
    graph.index('y', []);
    graph.index('z', []);
    assert.deepEqual(['x', 'y', 'z'].map((name) => graph.idOf(name)).sort(), [2, 3, 5]);
  });
});
