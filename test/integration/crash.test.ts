/**
 * kill -9 under load, several rounds on one data directory: a child `serve` takes concurrent,
 * pipelined commands from several clients that remember every command answered OK; it is killed
 * after a random number of answers and the store is opened again. Every package whose last
 * acknowledged change was INDEX must be there with exactly those dependencies, every one whose
 * last acknowledged change was REMOVE must be absent; a command still unanswered at the kill may
 * go either way. The commands and the kill point come from a printed seed
 * (PACKAGE_INDEXER_CRASH_SEED replays it); how the lanes interleave is up to the scheduler.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { ProtocolClient } from '../../src/client/protocol-client.js';
import { silentLogger } from '../../src/log.js';
import { disabledMetrics } from '../../src/metrics.js';
import { Random } from '../../src/dataset/random.js';
import type { Reply } from '../../src/protocol/types.js';
import { SqliteBackend } from '../../src/store/sqlite-backend.js';
import { testSeed } from '../helpers/seed.js';
import { startServe, tempDir } from '../helpers/serve-child.js';

/** CI runs 5 rounds; PACKAGE_INDEXER_CRASH_ROUNDS=50 for the long measurement. */
const ROUNDS = Number(process.env.PACKAGE_INDEXER_CRASH_ROUNDS ?? 5);
const CLIENTS = 4;
/** Commands each client keeps in flight on its one connection. */
const LANES = 8;
const PACKAGES_PER_CLIENT = 40;
const BASE = ['base-0', 'base-1', 'base-2', 'base-3'];
/** A round's kill comes after this many answers plus a random share of the spread. */
const KILL_AFTER_ANSWERS = 500;
const KILL_AFTER_SPREAD = 12_000;
/** A server that stops answering is killed anyway after this long, and the round fails. */
const ROUND_DEADLINE_MS = 60_000;

/** Sorted dependencies, or null for "not indexed". */
type State = readonly string[] | null;

interface Write {
  readonly kind: 'INDEX' | 'REMOVE';
  readonly name: string;
  readonly after: State;
}

interface RoundResult {
  readonly acknowledged: number;
  readonly errors: number;
}

/** What the clients know: the last acknowledged state of each package, and the write in flight. */
class Ledger {
  readonly acked = new Map<string, State>();
  readonly inFlight = new Map<string, Write | undefined>();

  constructor(readonly names: readonly string[]) {
    for (const name of names) this.acked.set(name, null);
  }

  /** The states a package may be in after the kill. */
  allowed(name: string): State[] {
    const states = [this.acked.get(name) ?? null];
    const write = this.inFlight.get(name);
    if (write !== undefined) states.push(write.after);
    return states;
  }
}

/** One random command for a package not in flight; the ledger learns its outcome. */
async function sendOne(
  client: ProtocolClient,
  random: Random,
  ledger: Ledger,
  own: readonly string[],
  counts: { acknowledged: number; errors: number },
): Promise<void> {
  const free = own.filter((name) => !ledger.inFlight.has(name));
  const name = random.pick(free);
  const roll = random.next();
  let line: string;
  let write: Write | undefined;
  if (roll < 0.5) {
    const candidates = [...BASE, ...own.filter((other) => other !== name && ledger.acked.get(other) !== null)];
    const deps = [...new Set(Array.from({ length: random.below(4) }, () => random.pick(candidates)))];
    line = `INDEX|${name}|${deps.join(',')}`;
    write = { kind: 'INDEX', name, after: deps.sort() };
  } else if (roll < 0.85) {
    line = `REMOVE|${name}|`;
    write = { kind: 'REMOVE', name, after: null };
  } else {
    line = `QUERY|${name}|`;
  }
  ledger.inFlight.set(name, write);
  const reply: Reply = await client.request(`${line}\n`);
  ledger.inFlight.delete(name);
  counts.acknowledged++;
  if (reply === 'ERROR') counts.errors++;
  if (reply === 'OK' && write !== undefined) ledger.acked.set(name, write.after);
}

/** Loads the server until `killAfter` answers have come back, then kills it. */
async function loadUntilKilled(port: number, ledger: Ledger, random: Random, killAfter: number, kill: () => void): Promise<RoundResult> {
  const counts = { acknowledged: 0, errors: 0 };
  let killed = false;
  const killOnce = (): void => {
    if (killed) return;
    killed = true;
    kill();
  };
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => ProtocolClient.connect('127.0.0.1', port)));
  const lanes = clients.flatMap((client, c) => {
    const own = ledger.names.filter((name) => name.startsWith(`c${c}-`));
    return Array.from({ length: LANES }, async (_, lane) => {
      const laneRandom = random.fork(c * LANES + lane);
      for (;;) {
        await sendOne(client, laneRandom, ledger, own, counts);
        if (counts.acknowledged >= killAfter) killOnce();
      }
    });
  });
  const stalled = setTimeout(killOnce, ROUND_DEADLINE_MS);
  // every lane ends when the kill drops its connection
  await Promise.allSettled(lanes);
  clearTimeout(stalled);
  for (const client of clients) client.close();
  return counts;
}

/** Opens the store as a restart would, and checks every package against the ledger. */
async function verifyStore(dataDir: string, ledger: Ledger): Promise<{ present: number; undecided: number }> {
  const backend = new SqliteBackend({ dataDir, fsync: 'normal', logger: silentLogger(), metrics: disabledMetrics() });
  await backend.open();
  let present = 0;
  try {
    for (const name of BASE) assert.deepEqual((await backend.reader.describe(name, 1_000))?.dependencies, [], name);
    for (const name of ledger.names) {
      const view = await backend.reader.describe(name, 1_000);
      const actual: State = view === undefined ? null : view.dependencies;
      assert.ok(
        ledger.allowed(name).some((state) => JSON.stringify(state) === JSON.stringify(actual)),
        `${name} is ${JSON.stringify(actual)}; acknowledged ${JSON.stringify(ledger.acked.get(name))}, in flight ${JSON.stringify(ledger.inFlight.get(name))}`,
      );
      ledger.acked.set(name, actual);
      if (actual !== null) present++;
    }
  } finally {
    await backend.close();
  }
  const undecided = [...ledger.inFlight.values()].filter((write) => write !== undefined).length;
  ledger.inFlight.clear();
  return { present, undecided };
}

/** Every package answers QUERY as the ledger says, from a freshly started server. */
async function assertServed(port: number, ledger: Ledger): Promise<void> {
  const client = await ProtocolClient.connect('127.0.0.1', port);
  try {
    const names = [...BASE, ...ledger.names];
    const replies = await Promise.all(names.map((name) => client.request(`QUERY|${name}|\n`)));
    const expected = names.map((name) => (BASE.includes(name) || ledger.acked.get(name) !== null ? 'OK' : 'FAIL'));
    assert.deepEqual(replies, expected);
  } finally {
    client.close();
  }
}

async function seedBase(t: TestContext, dataDir: string): Promise<void> {
  const server = await startServe(t, ['--data-dir', dataDir]);
  const client = await ProtocolClient.connect('127.0.0.1', server.port);
  assert.deepEqual(
    await Promise.all(BASE.map((name) => client.request(`INDEX|${name}|\n`))),
    BASE.map(() => 'OK'),
  );
  client.close();
  server.kill('SIGKILL');
  await server.finished;
}

for (const fsync of ['normal', 'always'] as const) {
  test(`every acknowledged change survives kill -9 under concurrent load (fsync ${fsync}, ${ROUNDS} rounds)`, async (t) => {
    const serveArgs = (dataDir: string): string[] => ['--data-dir', dataDir, '--fsync', fsync];
    const dataDir = tempDir(t, 'pi-crash-');
    const names = Array.from({ length: CLIENTS * PACKAGES_PER_CLIENT }, (_, i) => `c${i % CLIENTS}-p${Math.floor(i / CLIENTS)}`);
    const ledger = new Ledger(names);
    const random = new Random(testSeed(t, 'PACKAGE_INDEXER_CRASH_SEED'));
    await seedBase(t, dataDir);
    let acknowledgedTotal = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const roundRandom = random.fork(round);
      const killAfter = KILL_AFTER_ANSWERS + roundRandom.below(KILL_AFTER_SPREAD);
      const server = await startServe(t, serveArgs(dataDir));
      await assertServed(server.port, ledger);
      const { acknowledged, errors } = await loadUntilKilled(server.port, ledger, roundRandom, killAfter, () => server.kill('SIGKILL'));
      const exit = await server.finished;
      assert.equal(exit.signal, 'SIGKILL');
      assert.equal(errors, 0, 'no command was answered ERROR');
      assert.ok(acknowledged >= killAfter, `the server answered ${acknowledged} commands before it was killed, not the ${killAfter} wanted`);
      const { present, undecided } = await verifyStore(dataDir, ledger);
      t.diagnostic(
        `round ${round}: killed after ${killAfter} answers; ${acknowledged} commands acknowledged, ${undecided} writes in flight at the kill, ${present} packages stored`,
      );
      acknowledgedTotal += acknowledged;
    }
    t.diagnostic(`${ROUNDS} rounds: ${acknowledgedTotal} acknowledged commands checked, none lost`);
    const last = await startServe(t, serveArgs(dataDir));
    await assertServed(last.port, ledger);
    last.kill('SIGTERM');
    assert.equal((await last.finished).code, 0);
  });
}
