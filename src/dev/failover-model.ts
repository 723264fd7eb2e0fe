/**
 * A client under write load that checks every reply, for the outage and failover tests and
 * bench/failover.ts. Each client owns its packages (`base` and items that depend on it), which no
 * other client touches, so a history is linearizable exactly when each client's replies are those
 * one correct index would give to its commands in order: the model knows each package's state
 * from the replies, and an ERROR, whose outcome is unknown (docs/protocol.md), makes it unknown
 * until a later reply settles it again. A reply the known states rule out is wrong; after a
 * failover, an acknowledged write the new primary does not have shows up that way, in the
 * snapshot taken when the database was lost, or in the final comparison.
 */

/** Sends one request line (with its `\n`) and resolves with the reply line. */
export type SendLine = (line: string) => Promise<string>;

export interface ModelTally {
  OK: number;
  FAIL: number;
  ERROR: number;
  /** INDEX and REMOVE answered OK. */
  acknowledgedWrites: number;
}

interface NextCommand {
  readonly line: string;
  readonly expected: 'OK' | 'FAIL' | undefined;
  readonly onOk: () => void;
  /** The package whose state a reply settles or an ERROR makes unknown. */
  readonly touched: string;
}

export class ModelClient {
  readonly tally: ModelTally = { OK: 0, FAIL: 0, ERROR: 0, acknowledgedWrites: 0 };
  /** Replies the known states ruled out, with what was expected. */
  readonly wrong: string[] = [];
  /** When each ERROR came, from performance.now(). */
  readonly errorTimes: number[] = [];
  /**
   * The known states when the first ERROR after `armSnapshot()` came: every write acknowledged
   * before the database failed. The ERRORs that follow at once while the servers have no database
   * make each state unknown in turn, so this is what a failover can be checked against.
   */
  snapshot: Map<string, boolean> | undefined;
  #armed = false;
  #send: SendLine;
  #base: string;
  #items: string[];
  #state = new Map<string, boolean | undefined>();
  #seed: number;

  constructor(send: SendLine, id: number, seed = id + 1) {
    this.#send = send;
    this.#base = `c${id}.base`;
    this.#items = [0, 1, 2].map((k) => `c${id}.item${k}`);
    for (const name of [this.#base, ...this.#items]) this.#state.set(name, false);
    this.#seed = seed;
  }

  /** Sends one line outside the model's workload (its packages must be none of the model's). */
  send(line: string): Promise<string> {
    return this.#send(line);
  }

  async runUntil(stop: () => boolean): Promise<void> {
    while (!stop()) await this.#step();
  }

  /** Takes a snapshot at the next ERROR. */
  armSnapshot(): void {
    this.#armed = true;
    this.snapshot = undefined;
  }

  /** The packages whose state the model knows, and whether each is in the index. */
  known(): Map<string, boolean> {
    const known = new Map<string, boolean>();
    for (const [name, present] of this.#state) if (present !== undefined) known.set(name, present);
    return known;
  }

  async #step(): Promise<void> {
    const { line, expected, onOk, touched } = this.#nextCommand();
    const reply = (await this.#send(line)).trim();
    if (reply === 'ERROR') {
      this.tally.ERROR++;
      this.errorTimes.push(performance.now());
      this.#state.set(touched, undefined);
      if (this.#armed) {
        this.#armed = false;
        this.snapshot = this.known();
      }
      return;
    }
    if (reply !== 'OK' && reply !== 'FAIL') throw new Error(`unexpected reply ${reply} to ${line.trim()}`);
    this.tally[reply]++;
    if (expected !== undefined && reply !== expected) {
      this.wrong.push(`${line.trim()} got ${reply}, expected ${expected}`);
      // what the index now holds is unknown; counting on, each loss would be counted again
      for (const name of this.#state.keys()) this.#state.set(name, undefined);
      return;
    }
    if (reply === 'OK') {
      if (!line.startsWith('QUERY')) this.tally.acknowledgedWrites++;
      onOk();
    } else if (line.startsWith('QUERY')) this.#state.set(touched, false);
  }

  #nextCommand(): NextCommand {
    const item = this.#items[this.#random(this.#items.length)] ?? '';
    const base = this.#state.get(this.#base);
    const items = this.#items.map((name) => this.#state.get(name));
    switch (this.#random(5)) {
      case 0:
        return { line: `INDEX|${this.#base}|\n`, expected: 'OK', onOk: () => this.#state.set(this.#base, true), touched: this.#base };
      case 1:
        return {
          line: `INDEX|${item}|${this.#base}\n`,
          expected: base === undefined ? undefined : base ? 'OK' : 'FAIL',
          onOk: () => this.#state.set(item, true),
          touched: item,
        };
      case 2:
        return { line: `REMOVE|${item}|\n`, expected: 'OK', onOk: () => this.#state.set(item, false), touched: item };
      case 3: {
        const dependents = items.some((state) => state === undefined) ? undefined : items.some(Boolean);
        return {
          line: `REMOVE|${this.#base}|\n`,
          expected: dependents === undefined ? undefined : dependents ? 'FAIL' : 'OK',
          onOk: () => this.#state.set(this.#base, false),
          touched: this.#base,
        };
      }
      default: {
        const state = this.#state.get(item);
        return {
          line: `QUERY|${item}|\n`,
          expected: state === undefined ? undefined : state ? 'OK' : 'FAIL',
          onOk: () => this.#state.set(item, true),
          touched: item,
        };
      }
    }
  }

  #random(bound: number): number {
    this.#seed = (this.#seed * 1103515245 + 12345) % 2 ** 31;
    return this.#seed % bound;
  }
}

/**
 * Known states the database contradicts: acknowledged writes it lost (or holds though removed).
 * `at` picks the states: the current ones, or the snapshots.
 */
export function contradictions(clients: readonly ModelClient[], inDatabase: ReadonlySet<string>, at: 'now' | 'snapshot' = 'now'): string[] {
  const found: string[] = [];
  for (const client of clients) {
    for (const [name, present] of (at === 'now' ? client.known() : client.snapshot) ?? []) {
      if (inDatabase.has(name) !== present) found.push(`${name} should be ${present ? 'present' : 'absent'}`);
    }
  }
  return found;
}
