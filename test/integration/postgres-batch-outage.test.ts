/**
 * The database stops while a batch transaction is half done: some of its writes made, the next
 * one waiting for a lock. Every command of the batch must be answered ERROR, and once the database
 * is back none of its writes may be there, nor any change it recorded.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import type { Command, Reply } from '../../src/protocol/types.js';
import type { PostgresBackend } from '../../src/store/postgres-backend.js';
import { createTestBackend, lockWaiters, startOwnTestPostgres, type OwnTestPostgres } from '../helpers/postgres-harness.js';
import { waitFor } from '../helpers/server-harness.js';

// a cluster of its own: stopping the one the other test files share would fail them
let db: OwnTestPostgres;
before(async () => {
  db = await startOwnTestPostgres();
});
after(() => db?.close());

const TIMEOUT_MS = 20_000;

function execute(backend: PostgresBackend, commands: readonly Command[]): Promise<Reply[]> {
  return new Promise((resolve) => backend.execute(commands, resolve));
}

async function session(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  // the stop ends this session too
  client.on('error', () => {});
  await client.connect();
  return client;
}

test('a batch cut off by the database stopping is answered ERROR throughout and leaves nothing behind', async (t) => {
  const url = await db.createDatabase();
  const backend = createTestBackend(url);
  await backend.open();
  t.after(() => backend.close());
  assert.deepEqual(await execute(backend, [{ kind: 'INDEX', name: 'x', deps: [] }]), ['OK']);

  // the gate locks x: the second connection's REMOVE of x waits for it, and the INDEX after it with it
  const gate = await session(url);
  const watcher = await session(url);
  await gate.query('BEGIN');
  await gate.query("SELECT FROM packages WHERE name = 'x' FOR UPDATE");
  // one tick, three connections: one batch
  const replies = Promise.all([
    execute(backend, [
      { kind: 'INDEX', name: 'p1', deps: [] },
      { kind: 'INDEX', name: 'p2', deps: ['p1'] },
    ]),
    execute(backend, [{ kind: 'REMOVE', name: 'x' }]),
    execute(backend, [
      { kind: 'INDEX', name: 'p3', deps: ['x'] },
      { kind: 'QUERY', name: 'p1' },
    ]),
  ]);
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    if ((await lockWaiters(watcher)) === 1) break;
    assert.ok(Date.now() < deadline, 'the batch never waited for the gate');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  // immediate: in a fast shutdown the gate's session may end first and the batch commit after it.
  // The test cluster commits asynchronously, so what committed before is first written out
  await watcher.query('CHECKPOINT');
  await db.stop('immediate');
  assert.deepEqual(await replies, [['ERROR', 'ERROR'], ['ERROR'], ['ERROR', 'ERROR']]);
  await Promise.all([gate.end().catch(() => {}), watcher.end().catch(() => {})]);

  await db.start();
  await waitFor(() => backend.isAvailable(), TIMEOUT_MS, 'the backend to see the database again');
  assert.deepEqual(await db.query(url, 'SELECT name FROM packages ORDER BY name'), [{ name: 'x' }]);
  assert.deepEqual(await db.query(url, 'SELECT package, dependency FROM dependencies'), []);
  assert.deepEqual(await db.query(url, 'SELECT command, name FROM changes ORDER BY seq'), [{ command: 'INDEX', name: 'x' }]);
  assert.deepEqual(
    await execute(backend, [
      { kind: 'QUERY', name: 'p1' },
      { kind: 'INDEX', name: 'p3', deps: ['x'] },
      { kind: 'REMOVE', name: 'x' },
    ]),
    ['FAIL', 'OK', 'FAIL'],
  );
});
