/**
 * The shared database stops and starts again while two servers are under load. Every reply must
 * be one a single correct server could give (ERROR aside), readiness must follow the database,
 * and the servers must come back by themselves, each logging the outage once.
 */
import assert from 'node:assert/strict';
import { after, before, test, type TestContext } from 'node:test';
import { pino } from 'pino';
import type { RunningIndexer } from '../../src/cli/indexer.js';
import { startOwnTestPostgres, startPostgresIndexer, type OwnTestPostgres } from '../helpers/postgres-harness.js';
import { RawClient, waitFor } from '../helpers/server-harness.js';

// a cluster of its own: stopping the one the other test files share would fail them
let db: OwnTestPostgres;
before(async () => {
  db = await startOwnTestPostgres();
});
after(() => db?.close());

interface LogLine {
  readonly level: number;
  /** Only on the line that ends an outage. */
  readonly outageMs?: number;
}

const ERROR_LEVEL = 50;
const INFO_LEVEL = 30;
const RECONNECT_TIMEOUT_MS = 15_000;
/** Replies counted before, during and after the outage: a few seconds of load on a slow machine. */
const LOAD_REPLIES = 500;
const LOAD_TIMEOUT_MS = 30_000;
/** ERROR replies during the outage, which come at once, so many more. */
const OUTAGE_REPLIES = 2_000;

function startServer(t: TestContext, url: string, logs: LogLine[]): Promise<RunningIndexer> {
  const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line) as LogLine) });
  return startPostgresIndexer(t, url, { logger });
}

async function readyStatus(indexer: RunningIndexer): Promise<number> {
  return (await fetch(`http://127.0.0.1:${indexer.adminAddress?.port}/readyz`)).status;
}

/**
 * One client's packages, which no other client touches: `base` and items that depend on it. The
 * model knows each one's state until an ERROR makes it unknown; a reply is wrong if the known
 * states rule it out.
 */
class ModelClient {
  readonly replies = { OK: 0, FAIL: 0, ERROR: 0 };
  readonly wrong: string[] = [];
  #client: RawClient;
  #base: string;
  #items: string[];
  #state = new Map<string, boolean | undefined>();
  #seed: number;

  constructor(client: RawClient, id: number) {
    this.#client = client;
    this.#base = `c${id}.base`;
    this.#items = [0, 1, 2].map((k) => `c${id}.item${k}`);
    for (const name of [this.#base, ...this.#items]) this.#state.set(name, false);
    this.#seed = id + 1;
  }

  async runUntil(stop: () => boolean): Promise<void> {
    while (!stop()) await this.#step();
  }

  async #step(): Promise<void> {
    const { line, expected, onOk, touched } = this.#nextCommand();
    const [reply = 'none'] = await this.#client.exchange(line);
    if (reply === 'ERROR') {
      this.replies.ERROR++;
      for (const name of touched) this.#state.set(name, undefined);
      return;
    }
    if (reply !== 'OK' && reply !== 'FAIL') throw new Error(`unexpected reply ${reply} to ${line}`);
    this.replies[reply]++;
    if (expected !== undefined && reply !== expected) this.wrong.push(`${line} got ${reply}, expected ${expected}`);
    if (reply === 'OK') onOk();
    else if (line.startsWith('QUERY')) this.#state.set(touched[0] ?? '', false);
  }

  #nextCommand(): { line: string; expected: string | undefined; onOk: () => void; touched: string[] } {
    const item = this.#items[this.#random(this.#items.length)] ?? '';
    const base = this.#state.get(this.#base);
    const items = this.#items.map((name) => this.#state.get(name));
    switch (this.#random(5)) {
      case 0:
        return { line: `INDEX|${this.#base}|`, expected: 'OK', onOk: () => this.#state.set(this.#base, true), touched: [this.#base] };
      case 1:
        return {
          line: `INDEX|${item}|${this.#base}`,
          expected: base === undefined ? undefined : base ? 'OK' : 'FAIL',
          onOk: () => this.#state.set(item, true),
          touched: [item],
        };
      case 2:
        return { line: `REMOVE|${item}|`, expected: 'OK', onOk: () => this.#state.set(item, false), touched: [item] };
      case 3: {
        const dependents = items.some((state) => state === undefined) ? undefined : items.some(Boolean);
        return {
          line: `REMOVE|${this.#base}|`,
          expected: dependents === undefined ? undefined : dependents ? 'FAIL' : 'OK',
          onOk: () => this.#state.set(this.#base, false),
          touched: [this.#base],
        };
      }
      default: {
        const state = this.#state.get(item);
        return {
          line: `QUERY|${item}|`,
          expected: state === undefined ? undefined : state ? 'OK' : 'FAIL',
          onOk: () => this.#state.set(item, true),
          touched: [item],
        };
      }
    }
  }

  #random(bound: number): number {
    this.#seed = (this.#seed * 1103515245 + 12345) % 2 ** 31;
    return this.#seed % bound;
  }
}

test('a database stopped and restarted under load gets no wrong replies, and the servers recover by themselves', async (t) => {
  const url = await db.createDatabase();
  const logs: LogLine[][] = [[], []];
  const servers = [await startServer(t, url, logs[0] ?? []), await startServer(t, url, logs[1] ?? [])];
  const clients = await Promise.all(
    Array.from({ length: 16 }, async (_, id) => new ModelClient(await RawClient.connect(t, servers[id % 2]?.address.port ?? 0), id)),
  );
  let stopped = false;
  const load = Promise.all(clients.map((client) => client.runUntil(() => stopped)));
  const total = (kind: 'OK' | 'FAIL' | 'ERROR'): number => clients.reduce((sum, client) => sum + client.replies[kind], 0);
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
    assert.equal(lines.filter((line) => line.level >= ERROR_LEVEL).length, 1, JSON.stringify(lines));
    assert.equal(lines.filter((line) => line.level === INFO_LEVEL && line.outageMs !== undefined).length, 1);
  }
  t.diagnostic(`replies: OK ${total('OK')}, FAIL ${total('FAIL')}, ERROR ${total('ERROR')}`);
});
