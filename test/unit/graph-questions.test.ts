/**
 * The graph questions against a naive oracle: plain maps and breadth-first search over the same
 * random histories of INDEX and REMOVE (re-indexing can close cycles), so the typed-array graph,
 * its dependent lists and the algorithms must agree with the obvious answer every time.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { closureOf, cyclesOf, installOrderOf, shortestPath, summaryOf, type Direction } from '../../src/graph/graph-questions.js';
import { PackageGraph } from '../../src/graph/package-graph.js';
import { distances, graphOf, history, name, neighboursIn, oracleOf } from '../helpers/graph-oracle.js';

describe('graph questions agree with a breadth-first oracle', () => {
  test('closures either way: every package with its shortest distance, cut at the depth and limit asked', () => {
    fc.assert(
      fc.property(
        history,
        name,
        fc.constantFrom<Direction>('dependencies', 'dependents'),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 12 }),
        (steps, start, direction, depth, limit) => {
          const index = oracleOf(steps);
          const answer = closureOf(graphOf(steps), start, direction, depth, limit);
          if (!index.has(start)) return assert.equal(answer, undefined);
          const expected = [...distances(index, direction, start)].filter(([, d]) => d <= depth).map(([n, d]) => ({ name: n, depth: d }));
          expected.sort((x, y) => x.depth - y.depth || (x.name < y.name ? -1 : 1));
          assert.deepEqual(answer, { name: start, total: expected.length, truncated: expected.length > limit, packages: expected.slice(0, limit) });
        },
      ),
    );
  });

  test('install order: the whole closure, each package after its dependencies, the package last; or a real cycle', () => {
    fc.assert(
      fc.property(history, name, (steps, start) => {
        const index = oracleOf(steps);
        const answer = installOrderOf(graphOf(steps), start, 1_000);
        if (!index.has(start)) return assert.equal(answer, undefined);
        const closure = [start, ...distances(index, 'dependencies', start).keys()];
        const cyclic = closure.some((member) => (index.get(member) ?? []).some((dep) => distances(index, 'dependencies', dep).has(member)));
        assert.ok(answer !== undefined);
        if ('cycle' in answer) {
          assert.ok(cyclic, 'a cycle is reported only where there is one');
          answer.cycle.forEach((member, k) => {
            const next = answer.cycle[(k + 1) % answer.cycle.length] as string;
            assert.ok(index.get(member)?.includes(next), `${member} depends on ${next}`);
          });
          return;
        }
        assert.ok(!cyclic);
        assert.deepEqual([...answer.order].sort(), [...closure].sort());
        assert.equal(answer.order.at(-1), start);
        const position = new Map(answer.order.map((member, k) => [member, k]));
        for (const member of answer.order)
          for (const dep of index.get(member) ?? []) assert.ok((position.get(dep) as number) < (position.get(member) as number));
      }),
    );
  });

  test('path: a chain of real edges as short as the shortest, or none when none exists', () => {
    fc.assert(
      fc.property(history, name, name, (steps, from, to) => {
        const index = oracleOf(steps);
        const path = shortestPath(graphOf(steps), from, to);
        const distance = from === to && index.has(from) ? 0 : distances(index, 'dependencies', from).get(to);
        if (distance === undefined) return assert.equal(path, undefined);
        assert.ok(path !== undefined);
        assert.equal(path.length, distance + 1);
        assert.equal(path[0], from);
        assert.equal(path.at(-1), to);
        for (let k = 0; k + 1 < path.length; k++) assert.ok(index.get(path[k] as string)?.includes(path[k + 1] as string));
      }),
    );
  });

  test('cycles: exactly the groups of packages that reach each other', () => {
    fc.assert(
      fc.property(history, (steps) => {
        const index = oracleOf(steps);
        const groups = new Set<string>();
        for (const member of index.keys()) {
          const reach = distances(index, 'dependencies', member);
          const group = [member, ...[...reach.keys()].filter((other) => distances(index, 'dependencies', other).has(member))].sort();
          if (group.length > 1) groups.add(group.join(','));
        }
        const answer = cyclesOf(graphOf(steps), 100);
        assert.deepEqual(answer.cycles.map((cycle) => cycle.join(',')).sort(), [...groups].sort());
        assert.equal(answer.total, groups.size);
      }),
    );
  });

  test('summary: most depended-upon, roots and leaves', () => {
    fc.assert(
      fc.property(history, (steps) => {
        const index = oracleOf(steps);
        const counts = [...index.keys()].map((n) => ({ name: n, count: neighboursIn(index, 'dependents', n).length }));
        const popular = counts.filter(({ count }) => count > 0).sort((x, y) => y.count - x.count || (x.name < y.name ? -1 : 1));
        const roots = counts
          .filter(({ count }) => count === 0)
          .map(({ name: n }) => n)
          .sort();
        const leaves = [...index]
          .filter(([, deps]) => deps.length === 0)
          .map(([n]) => n)
          .sort();
        assert.deepEqual(summaryOf(graphOf(steps), 3, 2), {
          mostDependedUpon: popular.slice(0, 3),
          roots: { total: roots.length, names: roots.slice(0, 2) },
          leaves: { total: leaves.length, names: leaves.slice(0, 2) },
        });
      }),
    );
  });
});

test('a deep chain neither overflows the stack nor reports a cycle', () => {
  const graph = new PackageGraph({ trackDependents: true });
  const length = 200_000;
  graph.index('p0', []);
  for (let k = 1; k < length; k++) graph.index(`p${k}`, [`p${k - 1}`]);
  assert.deepEqual(cyclesOf(graph, 10), { total: 0, truncated: false, cycles: [] });
  const order = installOrderOf(graph, `p${length - 1}`, 3);
  assert.deepEqual(order, { name: `p${length - 1}`, total: length, truncated: true, order: ['p0', 'p1', 'p2'] });
  assert.equal(closureOf(graph, 'p0', 'dependents', Number.POSITIVE_INFINITY, 1)?.total, length - 1);
});

test('dependent lists follow re-indexing and removal', () => {
  const graph = new PackageGraph({ trackDependents: true });
  graph.index('base', []);
  for (let k = 0; k < 100; k++) graph.index(`user${k}`, ['base']);
  for (let k = 0; k < 100; k += 2) graph.index(`user${k}`, []);
  for (let k = 1; k < 100; k += 4) graph.remove(`user${k}`);
  const expected = Array.from({ length: 100 }, (_, k) => `user${k}`).filter((_, k) => k % 2 === 1 && k % 4 !== 1);
  assert.deepEqual([...graph.dependentsOf('base')].sort(), expected.sort());
  assert.equal(graph.dependentCountOf('base'), expected.length);
});
