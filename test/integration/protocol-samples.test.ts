import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RawClient, startTestServer } from '../helpers/server-harness.js';

test('the protocol samples get the documented replies', async (t) => {
  const { port } = await startTestServer(t);
  const client = await RawClient.connect(t, port);
  assert.deepEqual(
    await client.exchange(
      'INDEX|cloog|gmp,isl,pkg-config',
      'INDEX|gmp|',
      'INDEX|isl|gmp',
      'INDEX|pkg-config|',
      'INDEX|cloog|gmp,isl,pkg-config',
      'QUERY|cloog|',
      'REMOVE|gmp|',
      'REMOVE|cloog|',
      'REMOVE|cloog|',
      'QUERY|cloog|',
      'BLINDEX|x|',
    ),
    ['FAIL', 'OK', 'OK', 'OK', 'OK', 'OK', 'FAIL', 'OK', 'OK', 'FAIL', 'ERROR'],
  );
});
