/**
 * The dependency graph: the command rules of docs/protocol.md, the bookkeeping behind them (ids,
 * dependent counts, edge count), `put` as a store uses it to load rows, a dependency pool that
 * gives back replaced space, and property tests against a naive model. Undoing a failed commit
 * is the SQLite store's bookkeeping, tested through the store in
 * test/integration/sqlite-undo.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { PackageGraph, type GraphOutcome } from '../../src/graph/package-graph.js';
import { NaiveModel, sorted, stepArbitrary as stepsOf, withoutSelf, type Step } from '../helpers/index-model.js';
import { testSeed } from '../helpers/seed.js';

/** A graph built by indexing `[name, deps]` pairs in order, each of which must succeed. */
function graphOf(...packages: Array<[string, string[]]>): PackageGraph {
  const graph = new PackageGraph();
  for (const [name, deps] of packages) assert.equal(graph.index(name, deps), 'ok', `INDEX ${name}`);
  return graph;
}

/** Every id's state: what a store keyed by id would hold. */
function rows(graph: PackageGraph): Array<[number, string, number[]]> {
  return [...graph.names()]
    .map((name): [number, string, number[]] => {
      const id = graph.idOf(name) as number;
      return [id, name, graph.dependencyIdsAt(id) ?? []];
    })
    .sort((x, y) => x[0] - y[0]);
}

const NAMES = ['a', 'b', 'c', 'd', 'e'] as const;

function applyToGraph(graph: PackageGraph, step: Step): GraphOutcome {
  switch (step.kind) {
    case 'INDEX':
      // the parser rejects self-dependencies before the graph sees them [P-DEPS-3]
      return graph.index(
        step.name,
        step.deps.filter((dep) => dep !== step.name),
      );
    case 'REMOVE':
      return graph.remove(step.name);
    case 'QUERY':
      return graph.has(step.name) ? 'ok' : 'fail';
  }
}

function assertInvariants(graph: PackageGraph): void {
  assert.deepEqual([...graph.missingDependencies()], [], 'an indexed package has a missing dependency');
  const listedBy = new Map<string, number>();
  let edges = 0;
  for (const name of graph.names()) {
    const deps = graph.dependenciesOf(name) ?? [];
    edges += deps.length;
    for (const dep of deps) {
      assert.ok(graph.has(dep), `${name} depends on ${dep}, which is not indexed`);
      listedBy.set(dep, (listedBy.get(dep) ?? 0) + 1);
    }
  }
  for (const name of graph.names()) assert.equal(graph.dependentCountOf(name), listedBy.get(name) ?? 0, `dependent count of ${name}`);
  assert.equal(graph.edgeCount, edges);
}

function assertAgrees(graph: PackageGraph, model: NaiveModel, names: readonly string[] = NAMES): void {
  assert.equal(graph.size, model.packages.size);
  assert.deepEqual(sorted(graph.names()), sorted(model.packages.keys()));
  for (const name of names) {
    assert.equal(graph.has(name), model.packages.has(name), `has ${name}`);
    assert.deepEqual(graph.dependenciesOf(name), model.packages.get(name), `dependencies of ${name}`);
    assert.deepEqual(sorted(graph.dependentsOf(name)), model.dependentsOf(name), `dependents of ${name}`);
  }
}

const stepArbitrary = stepsOf(NAMES);

describe('PackageGraph.index', () => {
  test('[P-INDEX-1] adds a package with no dependencies', () => {
    const graph = new PackageGraph();
    assert.equal(graph.index('a', []), 'ok');
    assert.ok(graph.has('a'));
    assert.deepEqual(graph.dependenciesOf('a'), []);
    assert.equal(graph.size, 1);
    assert.equal(graph.edgeCount, 0);
  });

  test('[P-INDEX-1] adds a package whose dependencies are all indexed', () => {
    const graph = graphOf(['a', []], ['b', []], ['c', ['a', 'b']]);
    assert.deepEqual(graph.dependenciesOf('c'), ['a', 'b']);
    assert.deepEqual(sorted(graph.dependentsOf('a')), ['c']);
    assert.equal(graph.dependentCountOf('a'), 1);
    assert.equal(graph.edgeCount, 2);
  });

  test('[P-INDEX-1] fails and changes nothing when any dependency is missing', () => {
    const graph = graphOf(['a', []]);
    assert.equal(graph.index('c', ['a', 'missing']), 'fail');
    assert.ok(!graph.has('c'));
    assert.equal(graph.dependentsOf('a').size, 0);
    assert.equal(graph.dependentCountOf('a'), 0);
    assert.equal(graph.edgeCount, 0);
  });

  test('[P-INDEX-1] a failed re-index keeps the old dependency list', () => {
    const graph = graphOf(['a', []], ['c', ['a']]);
    assert.equal(graph.index('c', ['missing']), 'fail');
    assert.deepEqual(graph.dependenciesOf('c'), ['a']);
    assert.deepEqual(sorted(graph.dependentsOf('a')), ['c']);
  });

  test('[P-INDEX-1] re-indexing replaces the dependency list and its reverse edges', () => {
    const graph = graphOf(['a', []], ['b', []], ['c', ['a']]);
    assert.equal(graph.index('c', ['b']), 'ok');
    assert.deepEqual(graph.dependenciesOf('c'), ['b']);
    assert.equal(graph.dependentsOf('a').size, 0);
    assert.deepEqual(sorted(graph.dependentsOf('b')), ['c']);
    assert.equal(graph.edgeCount, 1);
    assert.equal(graph.size, 3);
  });

  test('[P-INDEX-1] a dependency dropped by a re-index becomes removable', () => {
    const graph = graphOf(['a', []], ['c', ['a']]);
    assert.equal(graph.remove('a'), 'fail');
    assert.equal(graph.index('c', []), 'ok');
    assert.equal(graph.remove('a'), 'ok');
    assert.ok(!graph.has('a'));
  });

  test('[P-INDEX-1] re-indexing with the same list changes nothing', () => {
    const graph = graphOf(['a', []], ['c', ['a']], ['c', ['a']]);
    assert.deepEqual(sorted(graph.dependentsOf('a')), ['c']);
    assert.equal(graph.edgeCount, 1);
  });

  test('[P-INDEX-1] re-indexing with the same list writes nothing, while a reordered list is a change', () => {
    const graph = graphOf(['a', []], ['b', []], ['c', ['a', 'b']]);
    const used = graph.poolUsedSlots;
    const id = graph.idOf('c');
    assert.equal(graph.index('c', ['a', 'b']), 'ok');
    assert.equal(graph.poolUsedSlots, used, 'the identical list was appended to the pool again');
    assert.equal(graph.idOf('c'), id);
    assert.equal(graph.index('c', ['b', 'a']), 'ok');
    assert.equal(graph.poolUsedSlots, used + 2);
    assert.deepEqual(graph.dependenciesOf('c'), ['b', 'a']);
    assert.equal(graph.index('c', ['b', 'missing']), 'fail');
    assert.deepEqual(graph.dependenciesOf('c'), ['b', 'a']);
  });
});

describe('PackageGraph.remove', () => {
  test('[P-REMOVE-1] removes an indexed package nobody depends on', () => {
    const graph = graphOf(['a', []], ['b', ['a']]);
    assert.equal(graph.remove('b'), 'ok');
    assert.ok(!graph.has('b'));
    assert.equal(graph.dependentsOf('a').size, 0);
    assert.equal(graph.edgeCount, 0);
    assert.equal(graph.size, 1);
  });

  test('[P-REMOVE-1] succeeds for a package that is not indexed', () => {
    const graph = new PackageGraph();
    assert.equal(graph.remove('ghost'), 'ok');
    assert.equal(graph.size, 0);
  });

  test('[P-REMOVE-1] fails and changes nothing while another package depends on it', () => {
    const graph = graphOf(['a', []], ['b', ['a']], ['c', ['a']]);
    assert.equal(graph.remove('a'), 'fail');
    assert.ok(graph.has('a'));
    assert.equal(graph.remove('b'), 'ok');
    assert.equal(graph.remove('a'), 'fail');
    assert.equal(graph.remove('c'), 'ok');
    assert.equal(graph.remove('a'), 'ok');
    assert.equal(graph.size, 0);
  });

  test('the documented example gives the documented outcomes', () => {
    const graph = new PackageGraph();
    const outcomes = [
      graph.index('cloog', ['gmp', 'isl', 'pkg-config']),
      graph.index('gmp', []),
      graph.index('isl', ['gmp']),
      graph.index('pkg-config', []),
      graph.index('cloog', ['gmp', 'isl', 'pkg-config']),
      graph.remove('gmp'),
      graph.remove('cloog'),
      graph.remove('cloog'),
    ];
    assert.deepEqual(outcomes, ['fail', 'ok', 'ok', 'ok', 'ok', 'fail', 'ok', 'ok']);
    assert.ok(!graph.has('cloog'));
  });

  test('reuses the id of a removed package and keeps the ids of the others', () => {
    const graph = graphOf(['a', []], ['b', ['a']], ['c', []]);
    const [a, b, c] = ['a', 'b', 'c'].map((name) => graph.idOf(name));
    assert.equal(graph.remove('b'), 'ok');
    graph.index('d', ['c']);
    assert.equal(graph.idOf('d'), b);
    assert.deepEqual([graph.idOf('a'), graph.idOf('c')], [a, c]);
    assert.deepEqual(graph.dependencyIdsAt(b as number), [c]);
  });
});

describe('PackageGraph.put', () => {
  test('puts a package into a state without checking its dependencies', () => {
    const graph = new PackageGraph();
    graph.put(2, 'b', [1]);
    assert.ok(graph.has('b'));
    assert.deepEqual([...graph.missingDependencies()], [{ name: 'b', dependencyId: 1 }]);
    graph.put(1, 'a', []);
    assert.deepEqual([...graph.missingDependencies()], []);
    assert.deepEqual(sorted(graph.dependentsOf('a')), ['b']);
  });

  test('null removes a package even when others depend on it, as undoing a change needs', () => {
    const graph = graphOf(['a', []], ['b', ['a']]);
    const a = graph.idOf('a') as number;
    graph.put(a, null);
    assert.ok(!graph.has('a'));
    assert.deepEqual([...graph.missingDependencies()], [{ name: 'b', dependencyId: a }]);
    graph.put(a, 'a', []);
    assert.deepEqual([...graph.missingDependencies()], []);
    assert.deepEqual(sorted(graph.dependentsOf('a')), ['b']);
  });

  test('replacing and removing keep the edge count and the dependent counts', () => {
    const graph = new PackageGraph();
    graph.put(1, 'a');
    graph.put(2, 'b');
    graph.put(3, 'c', [1, 2]);
    assert.equal(graph.edgeCount, 2);
    graph.put(3, 'c', [1]);
    assert.deepEqual([graph.edgeCount, graph.dependentCountOf('a'), graph.dependentCountOf('b')], [1, 1, 0]);
    graph.put(3, null);
    assert.deepEqual([graph.edgeCount, graph.dependentCountOf('a')], [0, 0]);
    assert.equal(graph.dependentsOf('a').size, 0);
  });

  test('gives the ids skipped by put to the next new packages', () => {
    const graph = new PackageGraph();
    graph.put(1, 'a', []);
    graph.put(4, 'd', [1]);
    for (const name of ['x', 'y', 'z']) graph.index(name, []);
    assert.deepEqual(['x', 'y', 'z'].map((name) => graph.idOf(name)).sort(), [2, 3, 5]);
  });

  test('rebuilt from its rows with put, in any id order, it answers as before', (t) => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { maxLength: 80 }), fc.boolean(), (steps, reversed) => {
        const original = new PackageGraph();
        for (const step of steps) applyToGraph(original, step);
        const copy = new PackageGraph();
        const stored = rows(original);
        for (const [id, name, deps] of reversed ? stored.reverse() : stored) copy.put(id, name, deps);
        assert.deepEqual([...copy.missingDependencies()], []);
        assert.deepEqual(rows(copy), rows(original));
        assert.deepEqual(
          steps.map((step) => applyToGraph(copy, step)),
          steps.map((step) => applyToGraph(original, step)),
        );
        assert.deepEqual(rows(copy), rows(original));
      }),
      { numRuns: 200, seed: testSeed(t) },
    );
  });
});

describe('PackageGraph dependency pool', () => {
  test('re-indexing one package over and over keeps the pool at a fixed size', () => {
    const graph = new PackageGraph();
    const names = Array.from({ length: 60 }, (_, i) => `p${i}`);
    for (const name of names) graph.index(name, []);
    const capacities = new Set<number>();
    for (let round = 0; round < 20_000; round++) {
      assert.equal(graph.index('x', names.slice(round % 10, 50 + (round % 10))), 'ok');
      capacities.add(graph.poolCapacity);
    }
    assert.deepEqual([...capacities], [4096], 'a million dependency ids were written; the pool never grew');
    assert.equal(graph.edgeCount, 50);
    assert.deepEqual([graph.dependentCountOf('p9'), graph.dependentCountOf('p10')], [1, 1]);
    assert.deepEqual(graph.dependenciesOf('x'), names.slice(9, 59));
  });

  test('removing most packages gives the pool back', () => {
    const graph = new PackageGraph();
    const names = Array.from({ length: 3000 }, (_, i) => `p${i}`);
    names.forEach((name, i) => graph.index(name, names.slice(Math.max(0, i - 20), i)));
    const peak = graph.poolCapacity;
    assert.ok(peak >= graph.edgeCount && graph.edgeCount > 50_000);
    for (const name of names.slice(10).reverse()) assert.equal(graph.remove(name), 'ok');
    assert.ok(graph.poolCapacity <= peak / 4, `${graph.poolCapacity} of ${peak} slots kept for ${graph.edgeCount} edges`);
    assert.deepEqual(graph.dependenciesOf('p9'), names.slice(0, 9));
  });

  test('heavy churn agrees with the model while the pool grows and compacts, within its bound', (t) => {
    const names = Array.from({ length: 60 }, (_, i) => `p${i}`);
    const churnName = fc.constantFrom(...names);
    const churnStep: fc.Arbitrary<Step> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('INDEX' as const), name: churnName, deps: fc.uniqueArray(churnName, { maxLength: 12 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('REMOVE' as const), name: churnName }) },
    );
    fc.assert(
      fc.property(fc.array(churnStep, { minLength: 3000, maxLength: 4000 }), (steps) => {
        const graph = new PackageGraph();
        const model = new NaiveModel();
        for (const step of steps.map(withoutSelf)) {
          assert.equal(applyToGraph(graph, step), model.apply(step));
          assert.ok(graph.poolCapacity <= 4096 + 8 * graph.edgeCount + 4 * names.length, `${graph.poolCapacity} slots`);
        }
        assertAgrees(graph, model, names);
      }),
      { numRuns: 5, seed: testSeed(t) },
    );
  });
});

describe('PackageGraph against a naive model', () => {
  test("random command sequences keep the invariants and the model's answers", (t) => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { maxLength: 100 }), (steps) => {
        const graph = new PackageGraph();
        const model = new NaiveModel();
        for (const step of steps.map(withoutSelf)) {
          assert.equal(applyToGraph(graph, step), model.apply(step), JSON.stringify(step));
          assertInvariants(graph);
          assertAgrees(graph, model);
        }
      }),
      { numRuns: 300, seed: testSeed(t) },
    );
  });
});
