import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { NameIndex } from '../../src/graph/name-index.js';
import { testSeed } from '../helpers/seed.js';

/** An index over a names-by-id array, as the graph keeps it. */
function indexWithNames(): { index: NameIndex; names: Array<string | undefined> } {
  const names: Array<string | undefined> = [];
  return { index: new NameIndex((id) => names[id]), names };
}

test('finds every name it was given and forgets removed ones, through growth', () => {
  const { index, names } = indexWithNames();
  for (let id = 1; id <= 5_000; id++) {
    names[id] = `pkg-${id}`;
    index.set(`pkg-${id}`, id);
  }
  assert.equal(index.size, 5_000);
  for (let id = 1; id <= 5_000; id += 2) assert.equal(index.delete(`pkg-${id}`), true);
  assert.equal(index.size, 2_500);
  for (let id = 1; id <= 5_000; id++) assert.equal(index.get(`pkg-${id}`), id % 2 === 0 ? id : undefined);
  assert.equal(index.delete('pkg-1'), false);
  assert.equal(index.get('never'), undefined);
});

test('a delete for a given id leaves the name alone when it points at another', () => {
  const { index, names } = indexWithNames();
  names[1] = 'a';
  names[2] = 'a';
  index.set('a', 2);
  assert.equal(index.delete('a', 1), false);
  assert.equal(index.get('a'), 2);
  assert.equal(index.delete('a', 2), true);
  assert.equal(index.get('a'), undefined);
  assert.equal(index.size, 0);
});

test('setting a name again points it at the new id without growing', () => {
  const { index, names } = indexWithNames();
  names[1] = 'a';
  index.set('a', 1);
  names[2] = 'a';
  index.set('a', 2);
  assert.equal(index.size, 1);
  assert.equal(index.get('a'), 2);
});

test('random sets and deletes agree with a Map, even when most names collide in a small table', (t) => {
  const name = fc.integer({ min: 0, max: 300 }).map((n) => `n${n}`);
  const operation = fc.oneof(fc.record({ kind: fc.constant('set' as const), name }), fc.record({ kind: fc.constant('delete' as const), name }));
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 400 }), (operations) => {
      const { index, names } = indexWithNames();
      const model = new Map<string, number>();
      let nextId = 1;
      for (const { kind, name: key } of operations) {
        if (kind === 'set') {
          const id = model.get(key) ?? nextId++;
          names[id] = key;
          index.set(key, id);
          model.set(key, id);
        } else {
          assert.equal(index.delete(key), model.delete(key));
        }
        assert.equal(index.size, model.size);
      }
      for (let n = 0; n <= 300; n++) assert.equal(index.get(`n${n}`), model.get(`n${n}`));
    }),
    { numRuns: 300, seed: testSeed(t) },
  );
});

test('reserving room keeps every name findable', () => {
  const { index, names } = indexWithNames();
  names[7] = 'seven';
  index.set('seven', 7);
  index.reserve(100_000);
  assert.equal(index.get('seven'), 7);
  assert.equal(index.size, 1);
});
