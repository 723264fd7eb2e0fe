/**
 * The shared database stops and starts again while two servers are under load. Every reply must
 * be one a single correct server could give (ERROR aside), readiness must follow the database,
 * and the servers must come back by themselves, each logging the outage once.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readyStatus, startLoggedPostgresIndexer, startOwnTestPostgres, type LogLine, type OwnTestPostgres } from '../helpers/postgres-harness.js';
import { RawClient, waitFor } from '../helpers/server-harness.js';
import { ModelClient } from '../../src/dev/failover-model.js';

// a cluster of its own: stopping the one the other test files share would fail them
let db: OwnTestPostgres;
before(async () => {
  db = await startOwnTestPostgres();
});
after(() => db?.close());

const ERROR_LEVEL = 50;
const INFO_LEVEL = 30;
const RECONNECT_TIMEOUT_MS = 15_000;
/** Replies counted before, during and after the outage: a few seconds of load on a slow machine. */
const LOAD_REPLIES = 500;
const LOAD_TIMEOUT_MS = 30_000;
/** ERROR replies during the outage, which come at once, so many more. */
const OUTAGE_REPLIES = 2_000;

test('a database stopped and restarted under load gets no wrong replies, and the servers recover by themselves', async (t) => {
  const url = await db.createDatabase();
  const logs: LogLine[][] = [[], []];
  const servers = [await startLoggedPostgresIndexer(t, url, logs[0] ?? []), await startLoggedPostgresIndexer(t, url, logs[1] ?? [])];
  const clients = await Promise.all(
    Array.from({ length: 16 }, async (_, id) => {
      const client = await RawClient.connect(t, servers[id % 2]?.address.port ?? 0);
      return new ModelClient(async (line) => (await client.exchange(line.trimEnd()))[0] ?? 'none', id);
    }),
  );
  let stopped = false;
  const load = Promise.all(clients.map((client) => client.runUntil(() => stopped)));
  const total = (kind: 'OK' | 'FAIL' | 'ERROR'): number => clients.reduce((sum, client) => sum + client.tally[kind], 0);
  const answered = (): number => total('OK') + total('FAIL');
  try {
    await waitFor(() => answered() >= LOAD_REPLIES, LOAD_TIMEOUT_MS, `${LOAD_REPLIES} answers before the outage`);
    assert.equal(total('ERROR'), 0);

    await db.stop();
    await waitFor(() => servers.every((server) => !server.backend.isAvailable()), RECONNECT_TIMEOUT_MS, 'both servers to see the outage');
    for (const server of servers) assert.equal(await readyStatus(server), 503);
    const answeredDuringOutage = answered();
    const errorsAtOutage = total('ERROR');
    await waitFor(() => total('ERROR') >= errorsAtOutage + OUTAGE_REPLIES, LOAD_TIMEOUT_MS, `${OUTAGE_REPLIES} replies during the outage`);
    assert.equal(answered(), answeredDuringOutage, 'nothing but ERROR while the database is down');

    await db.start();
    await waitFor(() => servers.every((server) => server.backend.isAvailable()), RECONNECT_TIMEOUT_MS, 'both servers to reconnect');
    for (const server of servers) assert.equal(await readyStatus(server), 200);
    const answeredAfterRecovery = answered();
    await waitFor(() => answered() >= answeredAfterRecovery + LOAD_REPLIES, LOAD_TIMEOUT_MS, 'commands to be answered again');
  } finally {
    stopped = true;
    await load;
  }
  assert.deepEqual(
    clients.flatMap((client) => client.wrong),
    [],
  );
  for (const lines of logs) {
    // one line when the database is lost and one with the outage's length when it is back, in
    // turn. Usually once; a probe that reaches the database while its shutdown is still under way
    // (seen once under load in CI) makes that two short outages, each still logged as a pair
    const outageLines = lines.filter((line) => line.level >= ERROR_LEVEL || (line.level === INFO_LEVEL && line.outageMs !== undefined));
    assert.ok(outageLines.length >= 2, JSON.stringify(lines));
    outageLines.forEach((line, at) => assert.equal(line.level >= ERROR_LEVEL, at % 2 === 0, JSON.stringify(lines)));
    assert.equal(outageLines.at(-1)?.outageMs !== undefined, true, JSON.stringify(lines));
    if (outageLines.length > 2) t.diagnostic(`a server logged ${outageLines.length / 2} outages for one stop`);
  }
  t.diagnostic(`replies: OK ${total('OK')}, FAIL ${total('FAIL')}, ERROR ${total('ERROR')}`);
});
