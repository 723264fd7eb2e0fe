/**
 * The dependency graph: the command rules of docs/protocol.md, the bookkeeping behind them
 * (reverse edges, edge count), and a property test that random command sequences keep the
 * invariants and agree with a naive model.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { PackageGraph, type GraphOutcome } from '../../src/graph/package-graph.js';

function sorted(names: Iterable<string>): string[] {
  return [...names].sort();
}

/** A graph built by indexing `[name, deps]` pairs in order, each of which must succeed. */
function graphOf(...packages: Array<[string, string[]]>): PackageGraph {
  const graph = new PackageGraph();
  for (const [name, deps] of packages) assert.equal(graph.index(name, deps), 'ok', `INDEX ${name}`);
  return graph;
}

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
    assert.equal(graph.edgeCount, 2);
  });

  test('[P-INDEX-1] fails and changes nothing when any dependency is missing', () => {
    const graph = graphOf(['a', []]);
    assert.equal(graph.index('c', ['a', 'missing']), 'fail');
    assert.ok(!graph.has('c'));
    assert.equal(graph.dependentsOf('a').size, 0);
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
});

describe('PackageGraph.set', () => {
  test('puts a package into a state without checking its dependencies', () => {
    const graph = new PackageGraph();
    graph.set('b', ['a']);
    assert.ok(graph.has('b'));
    assert.deepEqual(sorted(graph.dependentsOf('a')), ['b']);
    assert.deepEqual([...graph.missingDependencies()], [{ name: 'b', dependency: 'a' }]);
  });

  test('null removes a package even when others depend on it, as undoing a change needs', () => {
    const graph = graphOf(['a', []], ['b', ['a']]);
    graph.set('a', null);
    assert.ok(!graph.has('a'));
    assert.deepEqual([...graph.missingDependencies()], [{ name: 'b', dependency: 'a' }]);
    graph.set('a', []);
    assert.deepEqual([...graph.missingDependencies()], []);
    assert.deepEqual(sorted(graph.dependentsOf('a')), ['b']);
  });

  test('replacing and removing keep the edge count', () => {
    const graph = new PackageGraph();
    graph.set('c', ['a', 'b']);
    assert.equal(graph.edgeCount, 2);
    graph.set('c', ['a']);
    assert.equal(graph.edgeCount, 1);
    graph.set('c', null);
    assert.equal(graph.edgeCount, 0);
    assert.equal(graph.dependentsOf('a').size, 0);
  });
});

const NAMES = ['a', 'b', 'c', 'd', 'e'] as const;

type Step =
  | { readonly kind: 'INDEX'; readonly name: string; readonly deps: readonly string[] }
  | { readonly kind: 'REMOVE'; readonly name: string }
  | { readonly kind: 'QUERY'; readonly name: string };

/** The rules read literally, with no reverse index: slow but obviously right. */
class NaiveModel {
  readonly packages = new Map<string, readonly string[]>();

  apply(step: Step): GraphOutcome {
    switch (step.kind) {
      case 'INDEX':
        if (!step.deps.every((dep) => this.packages.has(dep))) return 'fail';
        this.packages.set(step.name, step.deps);
        return 'ok';
      case 'REMOVE':
        if ([...this.packages.values()].some((deps) => deps.includes(step.name))) return 'fail';
        this.packages.delete(step.name);
        return 'ok';
      case 'QUERY':
        return this.packages.has(step.name) ? 'ok' : 'fail';
    }
  }

  dependentsOf(name: string): string[] {
    return sorted([...this.packages].filter(([, deps]) => deps.includes(name)).map(([dependent]) => dependent));
  }
}

function applyToGraph(graph: PackageGraph, step: Step): GraphOutcome {
  switch (step.kind) {
    case 'INDEX':
      return graph.index(step.name, step.deps);
    case 'REMOVE':
      return graph.remove(step.name);
    case 'QUERY':
      return graph.has(step.name) ? 'ok' : 'fail';
  }
}

function assertInvariants(graph: PackageGraph): void {
  assert.deepEqual([...graph.missingDependencies()], [], 'an indexed package has a missing dependency');
  let edges = 0;
  for (const name of graph.names()) {
    const deps = graph.dependenciesOf(name) ?? [];
    edges += deps.length;
    for (const dep of deps) assert.ok(graph.dependentsOf(dep).has(name), `${dep} lacks reverse edge from ${name}`);
  }
  for (const name of NAMES) {
    for (const dependent of graph.dependentsOf(name)) {
      assert.ok(graph.dependenciesOf(dependent)?.includes(name), `reverse edge ${dependent} -> ${name} has no forward edge`);
    }
  }
  assert.equal(graph.edgeCount, edges);
}

function assertAgrees(graph: PackageGraph, model: NaiveModel): void {
  assert.equal(graph.size, model.packages.size);
  for (const name of NAMES) {
    assert.equal(graph.has(name), model.packages.has(name), `has ${name}`);
    assert.deepEqual(graph.dependenciesOf(name), model.packages.get(name), `dependencies of ${name}`);
    assert.deepEqual(sorted(graph.dependentsOf(name)), model.dependentsOf(name), `dependents of ${name}`);
  }
}

const nameArbitrary = fc.constantFrom(...NAMES);
const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('INDEX' as const), name: nameArbitrary, deps: fc.uniqueArray(nameArbitrary, { maxLength: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('REMOVE' as const), name: nameArbitrary }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('QUERY' as const), name: nameArbitrary }) },
);

describe('PackageGraph against a naive model', () => {
  test('random command sequences keep the invariants and give the model\'s outcomes', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { maxLength: 60 }), (steps) => {
        const graph = new PackageGraph();
        const model = new NaiveModel();
        for (const step of steps) {
          // the parser rejects self-dependencies before the graph sees them [P-DEPS-3]
          if (step.kind === 'INDEX' && step.deps.includes(step.name)) continue;
          assert.equal(applyToGraph(graph, step), model.apply(step), JSON.stringify(step));
          assertInvariants(graph);
          assertAgrees(graph, model);
        }
      }),
      { numRuns: 500 },
    );
  });
});
