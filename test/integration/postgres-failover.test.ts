/**
 * The shared database fails over while two servers are under write load: the primary is killed
 * with SIGKILL and its synchronous standby promoted. The servers, given both hosts in one URL, must
 * find the new primary by themselves; no acknowledged INDEX or REMOVE may be missing from it;
 * every reply must be one a single correct index could give (ERROR aside: its outcome is unknown);
 * /readyz must say 503 while there is no primary; and each server logs the loss once and the
 * recovery once, with the outage's length.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ChangeEvent } from '../../src/store/change-log.js';
import { ProtocolClient } from '../../src/client/protocol-client.js';
import { ModelClient, contradictions } from '../../src/dev/failover-model.js';
import { startTestPostgresPair, type TestPostgresPair } from '../../src/dev/postgres-pair.js';
import { startIndexer } from '../../src/cli/indexer.js';
import { resolveConfig } from '../../src/config.js';
import { EXIT_STATUS } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { readyStatus, startLoggedPostgresIndexer, startPostgresIndexer, startTestPostgres, type LogLine } from '../helpers/postgres-harness.js';
import { serveUntilExit } from '../helpers/serve-child.js';
import { waitFor } from '../helpers/server-harness.js';
import { assertRefusedOnOneLine } from '../helpers/store-files.js';

let pair: TestPostgresPair;
before(async () => {
  pair = await startTestPostgresPair({ synchronous: true });
});
after(() => pair?.close());

const ERROR_LEVEL = 50;
const CLIENTS = 16;
/** Replies answered before the failover and again after it. */
const LOAD_REPLIES = 400;
const LOAD_TIMEOUT_MS = 30_000;
const FAILOVER_TIMEOUT_MS = 30_000;

test('--require-synchronous-standby refuses, on one line with exit status 3, a database that acknowledges commits before a standby has them', async (t) => {
  const db = await startTestPostgres();
  t.after(() => db.close());
  const url = await db.createDatabase();
  const result = await serveUntilExit(t, ['--database-url', url, '--require-synchronous-standby']);
  assertRefusedOnOneLine(result, 'synchronous_standby_names', '--require-synchronous-standby');
  assert.ok(!result.stderr.includes('test-password'), 'no password in the message');
});

test('--require-synchronous-standby without a database URL is refused as a setting no embedded store can honour', async (t) => {
  const result = await serveUntilExit(t, ['--in-memory', '--require-synchronous-standby']);
  assert.equal(result.code, EXIT_STATUS.usage, result.stderr);
  assert.match(result.stderr, /--require-synchronous-standby/);
});

test('--require-synchronous-standby starts on a primary that waits for a synchronous standby', async (t) => {
  const { url } = await pair.createDatabase();
  const flags = { port: '0', host: '127.0.0.1', 'admin-port': 'off', 'database-url': url, 'require-synchronous-standby': true };
  const indexer = await startIndexer(resolveConfig(flags, {}), silentLogger());
  t.after(() => indexer.stop());
  assert.ok(indexer.backend.isAvailable());
});

test('a multi-host URL that lists the standby first still writes to the primary', async (t) => {
  const { name } = await pair.createDatabase();
  const standbyFirst = pair.multiHostUrl([pair.standbyPort, pair.primaryPort], name);
  const indexer = await startPostgresIndexer(t, standbyFirst);
  const connection = await ProtocolClient.connect('127.0.0.1', indexer.address.port);
  t.after(() => connection.close());
  assert.equal(await connection.request('INDEX|written|\n'), 'OK');
  assert.deepEqual(await pair.query(pair.urlOn(pair.primaryPort, name), 'SELECT name FROM packages'), [{ name: 'written' }]);
});

test('two servers under write load ride through a failover to a synchronous standby, losing no acknowledged write', async (t) => {
  const { name, url } = await pair.createDatabase();
  const logs: LogLine[][] = [[], []];
  // debug lines too: when a feed stalls, its failed reads say why
  const servers = [await startLoggedPostgresIndexer(t, url, logs[0] ?? [], 'debug'), await startLoggedPostgresIndexer(t, url, logs[1] ?? [], 'debug')];
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, id) => {
      const connection = await ProtocolClient.connect('127.0.0.1', servers[id % 2]?.address.port ?? 0);
      t.after(() => connection.close());
      return new ModelClient((line) => connection.request(line), id);
    }),
  );
  const feeds = servers.map((server) => {
    const events: ChangeEvent[] = [];
    const subscription = server.backend.changes.subscribe(undefined, (batch) => events.push(...batch));
    t.after(() => subscription.close());
    return events;
  });
  let stopped = false;
  const load = Promise.all(clients.map((client) => client.runUntil(() => stopped)));
  const total = (kind: 'OK' | 'FAIL' | 'ERROR'): number => clients.reduce((sum, client) => sum + client.tally[kind], 0);
  const answered = (): number => total('OK') + total('FAIL');
  try {
    await waitFor(() => answered() >= LOAD_REPLIES, LOAD_TIMEOUT_MS, `${LOAD_REPLIES} answers before the failover`);
    assert.equal(total('ERROR'), 0);

    for (const client of clients) client.armSnapshot();
    const killedAt = performance.now();
    await pair.killPrimary();
    await waitFor(() => servers.every((server) => !server.backend.isAvailable()), FAILOVER_TIMEOUT_MS, 'both servers to see the primary gone');
    for (const server of servers) assert.equal(await readyStatus(server), 503);
    // every write a client had acknowledged when it lost the database is on the standby
    await waitFor(() => clients.every((client) => client.snapshot !== undefined), FAILOVER_TIMEOUT_MS, 'every client to get ERROR');
    await pair.standbyReplayed();
    const onStandby = await pair.query<{ name: string }>(pair.urlOn(pair.standbyPort, name), 'SELECT name FROM packages');
    assert.deepEqual(contradictions(clients, new Set(onStandby.map((row) => row.name)), 'snapshot'), []);

    const promotingAt = performance.now();
    await pair.promoteStandby();
    await waitFor(() => servers.every((server) => server.backend.isAvailable()), FAILOVER_TIMEOUT_MS, 'both servers to find the new primary');
    t.diagnostic(
      `kill to promotion ${Math.round(promotingAt - killedAt)} ms, promotion to both servers back ${Math.round(performance.now() - promotingAt)} ms`,
    );
    for (const server of servers) assert.equal(await readyStatus(server), 200);
    const answeredAtRecovery = answered();
    await waitFor(() => answered() >= answeredAtRecovery + LOAD_REPLIES, LOAD_TIMEOUT_MS, `${LOAD_REPLIES} answers after the failover`);
    t.diagnostic(`replies: OK ${total('OK')}, FAIL ${total('FAIL')}, ERROR ${total('ERROR')}`);
  } finally {
    stopped = true;
    await load;
  }

  assert.deepEqual(
    clients.flatMap((client) => client.wrong),
    [],
  );
  assert.ok(total('ERROR') > 0, 'the failover happened under load');
  const rows = await pair.query<{ name: string }>(pair.urlOn(pair.standbyPort, name), 'SELECT name FROM packages');
  assert.deepEqual(contradictions(clients, new Set(rows.map((row) => row.name))), []);
  // each server's change feed follows the new primary, in one order both agree on
  assert.equal(await clients[0]?.send('INDEX|after.failover|\n'), 'OK');
  const delivered = (events: ChangeEvent[]): boolean => events.some((event) => event.name === 'after.failover');
  const sentAt = performance.now();
  await waitFor(() => feeds.every(delivered), FAILOVER_TIMEOUT_MS, 'both feeds to deliver a change made after the failover').catch(async (error: unknown) => {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${await feedDiagnosis(pair.urlOn(pair.standbyPort, name), feeds, logs)}`);
  });
  t.diagnostic(`both feeds delivered it ${Math.round(performance.now() - sentAt)} ms after its OK`);
  const bySeq = new Map<number, string>();
  for (const events of feeds) {
    events.forEach((event, k) => assert.ok(k === 0 || event.seq > (events[k - 1]?.seq ?? 0), 'ascending numbers'));
    for (const event of events) {
      const described = `${event.command} ${event.name} ${event.dependencies.join(',')}`;
      assert.equal(bySeq.get(event.seq) ?? described, described, `change ${event.seq} is the same on both servers`);
      bySeq.set(event.seq, described);
    }
  }
  for (const lines of logs) {
    assert.equal(lines.filter((line) => line.level === ERROR_LEVEL && /unreachable/.test(line.msg)).length, 1, 'one line when the primary is lost');
    const recovered = lines.filter((line) => line.outageMs !== undefined);
    assert.equal(recovered.length, 1, 'one line with the outage when a new primary is found');
  }
});

/** What a stalled feed leaves to go on: how far each got, the table's newest numbers, the transactions still running, each server's last debug lines. */
async function feedDiagnosis(url: string, feeds: readonly ChangeEvent[][], logs: readonly LogLine[][]): Promise<string> {
  const lines = feeds.map((events, k) => `server ${k}: ${events.length} changes, last ${events.at(-1)?.seq ?? 'none'}`);
  const newest = await pair.query(url, 'SELECT seq, name FROM changes ORDER BY seq DESC LIMIT 5');
  lines.push(`newest rows: ${JSON.stringify(newest)}`);
  const running = await pair.query(
    url,
    "SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS oldest, (SELECT json_agg(json_build_object('xid', backend_xid::text, 'app', application_name, 'state', state, 'query', left(query, 60))) FROM pg_stat_activity WHERE backend_xid IS NOT NULL) AS holders",
  );
  lines.push(`running: ${JSON.stringify(running)}`);
  logs.forEach((server, k) => {
    for (const line of server.filter((entry) => entry.level < 30).slice(-5))
      lines.push(`server ${k} debug: ${line.msg} (${line.err?.code ?? ''} ${line.err?.message ?? ''})`);
  });
  return lines.join('\n');
}
