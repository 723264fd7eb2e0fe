/**
 * The error codes: each maps to the exit status its class promises, and docs/errors.md shows
 * exactly the table in src/errors.ts, so the documentation cannot drift from the code.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ConfigError, ERROR_CODES, EXIT_STATUS, ListenError, StoreOpenError, StoreUnavailableError, UsageError, exitStatusOf } from '../../src/errors.js';

const DOCS = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

test('docs/errors.md lists every code with its exit status and meaning, and no other', () => {
  const documented = [...DOCS.matchAll(/^\| `(PI_\w+)` \| (\d+) \| (.+) \|$/gm)].map(([, code, status, meaning]) => [code, Number(status), meaning]);
  const defined = Object.entries(ERROR_CODES).map(([code, { exitStatus, meaning }]) => [code, exitStatus, meaning]);
  assert.deepEqual(documented, defined);
});

test('docs/errors.md describes every exit status', () => {
  const documented = [...DOCS.matchAll(/^\| (\d) \| /gm)].map(([, status]) => Number(status));
  assert.deepEqual(documented, Object.values(EXIT_STATUS));
});

test('every code follows the PI_ERR_ scheme', () => {
  for (const code of Object.keys(ERROR_CODES)) assert.match(code, /^PI_ERR_[A-Z_]+$/);
});

test('a failure maps to the exit status of its code, and anything foreign to "failed"', () => {
  assert.equal(exitStatusOf(new UsageError('x')), EXIT_STATUS.usage);
  assert.equal(exitStatusOf(new ConfigError('--port', 'x')), EXIT_STATUS.usage);
  assert.equal(exitStatusOf(new StoreOpenError('PI_ERR_STORE_OPEN_LOCKED', '/d', 'x')), EXIT_STATUS.storeRefused);
  assert.equal(exitStatusOf(new ListenError('PI_ERR_LISTEN_IN_USE', '--port', 8080, 'x')), EXIT_STATUS.listen);
  assert.equal(exitStatusOf(new StoreUnavailableError('x')), EXIT_STATUS.failed);
  assert.equal(exitStatusOf(new Error('x')), EXIT_STATUS.failed);
  assert.equal(exitStatusOf('a string'), EXIT_STATUS.failed);
});
