import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dependencyOrder } from '../../src/graph/dependency-order.js';

test('each package comes after its dependencies, ties keep the given order, levels count the longest chain', () => {
  const { ordered, held } = dependencyOrder([
    { name: 'app', deps: ['http', 'log'] },
    { name: 'http', deps: ['tls', 'zlib'] },
    { name: 'log', deps: [] },
    { name: 'tls', deps: ['outside'] },
    { name: 'zlib', deps: [] },
  ]);
  assert.deepEqual(
    ordered.map(({ pkg, level }) => `${pkg.name}@${level}`),
    ['log@0', 'tls@0', 'zlib@0', 'http@1', 'app@2'],
  );
  assert.deepEqual(held, []);
});

test('a cycle is held back with what depends on it, and only its members are named', () => {
  const { ordered, held, inCycles } = dependencyOrder([
    { name: 'a', deps: ['b'] },
    { name: 'b', deps: ['c'] },
    { name: 'c', deps: ['a', 'd'] },
    { name: 'd', deps: [] },
    { name: 'user', deps: ['a'] },
    { name: 'x', deps: ['y'] },
    { name: 'y', deps: ['x'] },
  ]);
  assert.deepEqual(
    ordered.map(({ pkg }) => pkg.name),
    ['d'],
  );
  assert.deepEqual(
    held.map((pkg) => pkg.name),
    ['a', 'b', 'c', 'user', 'x', 'y'],
  );
  assert.deepEqual(inCycles, ['a', 'b', 'c', 'x', 'y']);
});
