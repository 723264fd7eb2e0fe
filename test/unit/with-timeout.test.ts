import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TIMED_OUT, withTimeout } from '../../src/with-timeout.js';

const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

test('a promise that settles in time gives its value, and its timer is gone at once', async () => {
  const before = timers();
  assert.equal(await withTimeout(Promise.resolve(42), 60_000), 42);
  assert.equal(timers(), before);
});

test('a promise that rejects in time rejects the wait with its error', async () => {
  const before = timers();
  await assert.rejects(withTimeout(Promise.reject(new Error('refused')), 60_000), /refused/);
  assert.equal(timers(), before);
});

test('a promise that never settles gives TIMED_OUT', async () => {
  assert.equal(await withTimeout(new Promise<never>(() => {}), 1), TIMED_OUT);
});
