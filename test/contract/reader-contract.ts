/**
 * The read side every store must have: after the same random history of commands, its reader
 * answers every question exactly as the graph's own algorithms do on the same history (those are
 * checked against a breadth-first oracle in test/unit/graph-questions.test.ts), so the embedded
 * stores and PostgreSQL give the same answers. A cycle refused by install order may be any real
 * cycle. The change feed carries each committed change once, in order.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { closureOf, cyclesOf, installOrderOf, shortestPath, summaryOf } from '../../src/graph/graph-questions.js';
import type { PackageGraph } from '../../src/graph/package-graph.js';
import type { ChangeEvent } from '../../src/store/change-log.js';
import { graphOf, history, linesOf, name, oracleOf } from '../helpers/graph-oracle.js';
import { run, type ContractSubject } from './backend-contract.js';

export function runReaderContract(storeName: string, makeBackend: () => Promise<ContractSubject>, numRuns = 30): void {
  describe(`${storeName} reader contract`, () => {
    test('answers closures, install order, path, cycles, summary and pages as the graph does', async () => {
      await fc.assert(
        fc.asyncProperty(history, name, name, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 6 }), async (steps, a, b, depth, limit) => {
          const subject = await makeBackend();
          try {
            const { backend } = subject;
            await run(backend, ...linesOf(steps));
            const { reader } = backend;
            const graph = graphOf(steps);
            for (const direction of ['dependencies', 'dependents'] as const) {
              assert.deepEqual(
                await reader.closure(a, direction, Number.POSITIVE_INFINITY, 100),
                closureOf(graph, a, direction, Number.POSITIVE_INFINITY, 100),
              );
              assert.deepEqual(await reader.closure(a, direction, depth, limit), closureOf(graph, a, direction, depth, limit));
            }
            const order = await reader.installOrder(a, limit);
            const expected = installOrderOf(graph, a, limit);
            if (expected !== undefined && 'cycle' in expected) {
              assert.ok(order !== undefined && 'cycle' in order, 'a cycle is refused');
              const index = oracleOf(steps);
              order.cycle.forEach((member, k) => assert.ok(index.get(member)?.includes(order.cycle[(k + 1) % order.cycle.length] as string)));
            } else {
              assert.deepEqual(order, expected);
            }
            const path = await reader.path(a, b);
            const shortest = shortestPath(graph, a, b);
            assert.equal(path?.length, shortest?.length, 'a path as short as the shortest');
            assert.deepEqual(await reader.cycles(2), cyclesOf(graph, 2));
            assert.deepEqual(await reader.summary(3, 2), summaryOf(graph, 3, 2));
            assert.deepEqual(await reader.describe(a, limit), describeFrom(graph, a, limit));
          } finally {
            await subject.cleanup();
          }
        }),
        { numRuns },
      );
    });

    test('the change feed carries each committed change once, in order, and no refusal or no-op', async (t) => {
      const subject = await makeBackend();
      t.after(() => subject.cleanup());
      const { backend } = subject;
      const seen: ChangeEvent[] = [];
      const subscription = backend.changes.subscribe(undefined, (events) => seen.push(...events));
      t.after(() => subscription.close());
      await run(backend, 'INDEX|a|', 'INDEX|b|a', 'INDEX|b|a', 'INDEX|c|missing', 'REMOVE|a|', 'REMOVE|ghost|', 'REMOVE|b|', 'INDEX|a|', 'REMOVE|a|');
      const deadline = Date.now() + 10_000;
      while (seen.length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(
        seen.map(({ command, name: changed, dependencies }) => [command, changed, dependencies]),
        [
          ['INDEX', 'a', []],
          ['INDEX', 'b', ['a']],
          ['REMOVE', 'b', []],
          ['REMOVE', 'a', []],
        ],
      );
      assert.deepEqual(
        seen.map(({ seq }) => seq - (seen[0]?.seq ?? 0)),
        [0, 1, 2, 3],
      );
    });
  });
}

function describeFrom(graph: PackageGraph, of: string, limit: number): unknown {
  const id = graph.idOf(of);
  if (id === undefined) return undefined;
  return {
    name: of,
    dependencies: [...(graph.dependenciesOf(of) ?? [])].sort(),
    dependents: closureOf(graph, of, 'dependents', 1, limit)?.packages.map((entry) => entry.name),
    dependentsTotal: graph.dependentCountAt(id),
  };
}
